#include <pthread.h>
#include <stdlib.h>

#include "cf_wait.h"
#include "ratelimit.h"

/* Burst: a tenth of what a window allows, so a sync pass that needs a
 * handful of requests runs at once, while the steady rate stays bounded. */
#define BURST_DIVISOR 10

ms_rc_t ms_bucket_init(ms_bucket_t *b, const ms_ratelimit_config_t *cfg, ms_err_t *err)
{
	uint64_t budget = cfg && cfg->budget ? cfg->budget : MS_RATELIMIT_DEFAULT_BUDGET;
	uint64_t window_s = cfg && cfg->window_s ? cfg->window_s : MS_RATELIMIT_DEFAULT_WINDOW;
	uint64_t pct = cfg && cfg->use_pct ? cfg->use_pct : MS_RATELIMIT_DEFAULT_USE_PCT;
	if (pct > 100) {
		return ms_err_set(err, MS_EINVAL, "rate limit share %llu%% is over 100%%",
		                  (unsigned long long)pct);
	}
	uint64_t usable = budget * pct / 100;
	if (usable < 2) {
		/* One token of burst plus some refill needs at least two per window. */
		return ms_err_set(err, MS_EINVAL, "rate limit of %llu%% of %llu requests per %llu s "
		                  "leaves fewer than 2 requests per window: raise it",
		                  (unsigned long long)pct, (unsigned long long)budget,
		                  (unsigned long long)window_s);
	}
	uint64_t burst = usable / BURST_DIVISOR;
	if (burst < 1) {
		burst = 1;
	}
	/* burst + refill over one window == usable: the bound that holds over
	 * any window, however requests are spread. */
	*b = (ms_bucket_t){
		.capacity_milli = burst * 1000,
		.tokens_milli = burst * 1000,
		.usable = usable,
		.window_ms = window_s * 1000,
		.refill_milli = (usable - burst) * 1000,
		.refill_per_ms = window_s * 1000,
	};
	return MS_OK;
}

static void refill(ms_bucket_t *b, uint64_t now_ms)
{
	if (!b->started) {
		b->started = true;
		b->last_ms = now_ms;
		return;
	}
	if (now_ms <= b->last_ms) {
		return; /* clock did not move (or a caller passed an older time) */
	}
	/* Exact rational refill: the remainder of the division is carried over,
	 * so frequent small steps neither lose nor invent tokens. */
	uint64_t acc = (now_ms - b->last_ms) * b->refill_milli + b->carry;
	b->tokens_milli += acc / b->refill_per_ms;
	b->carry = acc % b->refill_per_ms;
	b->last_ms = now_ms;
	if (b->tokens_milli >= b->capacity_milli) {
		b->tokens_milli = b->capacity_milli;
		b->carry = 0;
	}
}

uint64_t ms_bucket_take(ms_bucket_t *b, uint64_t now_ms)
{
	refill(b, now_ms);
	if (now_ms < b->paused_until_ms) {
		return b->paused_until_ms - now_ms;
	}
	if (b->tokens_milli >= 1000) {
		b->tokens_milli -= 1000;
		return 0;
	}
	/* Time until the missing thousandths have accrued, rounded up: waking
	 * early would only wait again. */
	uint64_t need = (1000 - b->tokens_milli) * b->refill_per_ms - b->carry;
	uint64_t wait = (need + b->refill_milli - 1) / b->refill_milli;
	return wait ? wait : 1;
}

uint64_t ms_bucket_wait_for(ms_bucket_t *b, uint64_t now_ms, uint64_t n)
{
	refill(b, now_ms);
	uint64_t want = n * 1000 < b->capacity_milli ? n * 1000 : b->capacity_milli;
	uint64_t paused = now_ms < b->paused_until_ms ? b->paused_until_ms - now_ms : 0;
	if (b->tokens_milli >= want) {
		return paused;
	}
	uint64_t need = (want - b->tokens_milli) * b->refill_per_ms - b->carry;
	uint64_t wait = (need + b->refill_milli - 1) / b->refill_milli;
	return wait > paused ? wait : paused;
}

void ms_bucket_pause(ms_bucket_t *b, uint64_t now_ms, uint64_t pause_ms)
{
	refill(b, now_ms);
	b->tokens_milli = 0;
	b->carry = 0;
	if (now_ms + pause_ms > b->paused_until_ms) {
		b->paused_until_ms = now_ms + pause_ms;
	}
}

void ms_bucket_observe(ms_bucket_t *b, uint64_t now_ms, long remaining, long reset_s)
{
	if (remaining < 0) {
		return;
	}
	refill(b, now_ms);
	uint64_t cap = (uint64_t)remaining * 1000;
	if (b->tokens_milli > cap) {
		b->tokens_milli = cap;
	}
	if (remaining == 0 && reset_s > 0) {
		ms_bucket_pause(b, now_ms, (uint64_t)reset_s * 1000);
	}
}

/* ---- shared limiter ------------------------------------------------------ */

struct ms_ratelimit {
	pthread_mutex_t lock;
	ms_bucket_t bucket;
};

ms_rc_t ms_ratelimit_new(const ms_ratelimit_config_t *cfg, ms_ratelimit_t **out, ms_err_t *err)
{
	*out = NULL;
	ms_ratelimit_t *rl = calloc(1, sizeof(*rl));
	if (rl == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t rc = ms_bucket_init(&rl->bucket, cfg, err);
	if (rc != MS_OK) {
		free(rl);
		return rc;
	}
	pthread_mutex_init(&rl->lock, NULL);
	*out = rl;
	return MS_OK;
}

uint64_t ms_bucket_reconfigure(ms_bucket_t *b, const ms_ratelimit_config_t *cfg,
                               uint64_t now_ms, ms_err_t *err)
{
	ms_bucket_t fresh;
	if (ms_bucket_init(&fresh, cfg, err) != MS_OK) {
		return 0;
	}
	refill(b, now_ms);
	/* What was spent stays spent, and a pause the API asked for stays. */
	if (fresh.tokens_milli > b->tokens_milli) {
		fresh.tokens_milli = b->tokens_milli;
	}
	fresh.paused_until_ms = b->paused_until_ms;
	fresh.started = true;
	fresh.last_ms = now_ms;
	*b = fresh;
	return b->usable;
}

ms_rc_t ms_ratelimit_reconfigure(ms_ratelimit_t *rl, const ms_ratelimit_config_t *cfg,
                                 uint64_t now_ms, ms_err_t *err)
{
	pthread_mutex_lock(&rl->lock);
	uint64_t usable = ms_bucket_reconfigure(&rl->bucket, cfg, now_ms, err);
	pthread_mutex_unlock(&rl->lock);
	return usable > 0 ? MS_OK : MS_EINVAL;
}

uint64_t ms_ratelimit_usable(ms_ratelimit_t *rl)
{
	pthread_mutex_lock(&rl->lock);
	uint64_t usable = rl->bucket.usable;
	pthread_mutex_unlock(&rl->lock);
	return usable;
}

uint64_t ms_ratelimit_wait_for(ms_ratelimit_t *rl, uint64_t now_ms, uint64_t n)
{
	pthread_mutex_lock(&rl->lock);
	uint64_t wait = ms_bucket_wait_for(&rl->bucket, now_ms, n);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

void ms_ratelimit_free(ms_ratelimit_t *rl)
{
	if (rl == NULL) {
		return;
	}
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

uint64_t ms_ratelimit_try(ms_ratelimit_t *rl, uint64_t now_ms)
{
	pthread_mutex_lock(&rl->lock);
	uint64_t wait = ms_bucket_take(&rl->bucket, now_ms);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

ms_rc_t ms_ratelimit_acquire(ms_ratelimit_t *rl, const atomic_bool *abort_flag,
                             uint64_t max_wait_ms, ms_err_t *err)
{
	uint64_t start = ms_cf_now_ms();
	for (;;) {
		if (ms_cf_aborted(abort_flag)) {
			return ms_err_set(err, MS_EABORTED, "stopped while waiting for the request "
			                  "budget: the module is shutting down");
		}
		uint64_t now = ms_cf_now_ms();
		uint64_t wait = ms_ratelimit_try(rl, now);
		if (wait == 0) {
			return MS_OK;
		}
		if (now - start + wait > max_wait_ms) {
			return ms_err_set(err, MS_ERATELIMIT,
			                  "the API request budget for this credential is spent for the "
			                  "next %llu s (%llu requests per %llu s allowed): will try again "
			                  "later; if this repeats, reduce other use of the same token",
			                  (unsigned long long)(wait + 999) / 1000,
			                  (unsigned long long)rl->bucket.usable,
			                  (unsigned long long)rl->bucket.window_ms / 1000);
		}
		/* Other threads share the bucket: sleep in slices and look again
		 * rather than trusting one computed wait. */
		uint64_t nap = wait < 50 ? wait : 50;
		ms_rc_t rc = ms_cf_sleep(nap, abort_flag, err);
		if (rc != MS_OK) {
			return rc;
		}
	}
}

void ms_ratelimit_pause(ms_ratelimit_t *rl, uint64_t now_ms, uint64_t pause_ms)
{
	pthread_mutex_lock(&rl->lock);
	ms_bucket_pause(&rl->bucket, now_ms, pause_ms);
	pthread_mutex_unlock(&rl->lock);
}

void ms_ratelimit_observe(ms_ratelimit_t *rl, uint64_t now_ms, long remaining, long reset_s)
{
	pthread_mutex_lock(&rl->lock);
	ms_bucket_observe(&rl->bucket, now_ms, remaining, reset_s);
	pthread_mutex_unlock(&rl->lock);
}
