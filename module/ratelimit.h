/*
 * Client-side request budget for one Cloudflare credential.
 *
 * Cloudflare allows 1,200 requests per 300 s per user/token, counted over a
 * sliding window, and answers 429 and blocks *every* call for minutes once the
 * budget is exceeded. So the budget is kept on our side, before a request is
 * sent: a token bucket whose burst plus refill over one window never exceed
 * the share of the budget we allow ourselves (default 80%, the rest is
 * headroom for the dashboard and other tools using the same token, and for
 * network jitter). Within any window of `window_s` seconds at most
 * `budget * use_pct / 100` requests leave.
 *
 * One ms_ratelimit_t per credential, shared by every client (zone) that uses
 * it: the limiter is thread-safe. The bucket math is pure (time is a
 * parameter) so tests need no clock.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define MS_RATELIMIT_DEFAULT_BUDGET  1200 /* Cloudflare: requests per window */
#define MS_RATELIMIT_DEFAULT_WINDOW  300  /* seconds */
#define MS_RATELIMIT_DEFAULT_USE_PCT 80   /* share of the budget we use */

typedef struct {
	uint32_t budget;   /* requests the API allows per window; 0: default */
	uint32_t window_s; /* window length in seconds; 0: default */
	uint32_t use_pct;  /* 1..100, share of the budget we use; 0: default */
} ms_ratelimit_config_t;

/* The pure token bucket. Tokens are counted in thousandths so that integer
 * math suffices and no refill is lost to rounding. */
typedef struct {
	uint64_t capacity_milli;  /* burst, in thousandths of a request */
	uint64_t tokens_milli;    /* what is left now */
	uint64_t usable;          /* requests per window we allow ourselves */
	uint64_t window_ms;
	uint64_t refill_milli;    /* thousandths gained per refill_per_ms ms... */
	uint64_t refill_per_ms;   /* ...so rate = refill_milli / refill_per_ms per ms */
	uint64_t carry;           /* remainder of the last refill's division */
	uint64_t last_ms;         /* time of the last refill */
	uint64_t paused_until_ms; /* no request before this (server said wait) */
	bool started;
} ms_bucket_t;

/* Fill in a bucket from a config (defaults for zero fields), full. */
ms_rc_t ms_bucket_init(ms_bucket_t *b, const ms_ratelimit_config_t *cfg, ms_err_t *err);

/* Take one request's token at time now_ms: 0 when taken, otherwise how many
 * milliseconds to wait before one is there (nothing is taken). */
uint64_t ms_bucket_take(ms_bucket_t *b, uint64_t now_ms);

/* Milliseconds until n tokens (at most a full bucket) are there, taking
 * nothing: 0 when they are there now. For the scheduler, which starts a
 * routine check only when the check can run without waiting. */
uint64_t ms_bucket_wait_for(ms_bucket_t *b, uint64_t now_ms, uint64_t n);

/* The API told us to wait (429 + retry-after): no request before now + pause. */
void ms_bucket_pause(ms_bucket_t *b, uint64_t now_ms, uint64_t pause_ms);

/* The API's x-ratelimit-remaining / -reset headers (-1 when absent): never
 * hold more tokens than the API says remain; none remain → wait for reset.
 * This is how several processes or tools sharing a token stay in budget. */
void ms_bucket_observe(ms_bucket_t *b, uint64_t now_ms, long remaining, long reset_s);

/* A new budget (the operator changed it): the bucket takes the new limits
 * but never more tokens than it had, and keeps a pause the API asked for.
 * Returns the new usable requests per window; 0 and err for a bad config
 * (the bucket is left as it was). */
uint64_t ms_bucket_reconfigure(ms_bucket_t *b, const ms_ratelimit_config_t *cfg,
                               uint64_t now_ms, ms_err_t *err);

/* Requests per window this bucket allows (after headroom). */
static inline uint64_t ms_bucket_usable(const ms_bucket_t *b)
{
	return b->usable;
}

/* ---- the shared, thread-safe limiter -------------------------------------- */

typedef struct ms_ratelimit ms_ratelimit_t;

ms_rc_t ms_ratelimit_new(const ms_ratelimit_config_t *cfg, ms_ratelimit_t **out, ms_err_t *err);

/* Free a limiter; no client may use it any more. NULL is fine. */
void ms_ratelimit_free(ms_ratelimit_t *rl);

/* Non-blocking: 0 when a token was taken, else milliseconds to wait. */
uint64_t ms_ratelimit_try(ms_ratelimit_t *rl, uint64_t now_ms);

/* Wait (abortably, in short slices) for a token. MS_EABORTED when the flag
 * is set, MS_ERATELIMIT when the wait would exceed max_wait_ms (the caller
 * tries again on its next pass rather than stalling). */
ms_rc_t ms_ratelimit_acquire(ms_ratelimit_t *rl, const atomic_bool *abort_flag,
                             uint64_t max_wait_ms, ms_err_t *err);

/* ms_bucket_reconfigure() under the limiter's lock. */
ms_rc_t ms_ratelimit_reconfigure(ms_ratelimit_t *rl, const ms_ratelimit_config_t *cfg,
                                 uint64_t now_ms, ms_err_t *err);

/* ms_bucket_wait_for() under the limiter's lock. */
uint64_t ms_ratelimit_wait_for(ms_ratelimit_t *rl, uint64_t now_ms, uint64_t n);

/* Requests per window the limiter allows itself now (after headroom). */
uint64_t ms_ratelimit_usable(ms_ratelimit_t *rl);

void ms_ratelimit_pause(ms_ratelimit_t *rl, uint64_t now_ms, uint64_t pause_ms);
void ms_ratelimit_observe(ms_ratelimit_t *rl, uint64_t now_ms, long remaining, long reset_s);
