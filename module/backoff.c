#include <stdlib.h>

#include "backoff.h"

ms_backoff_policy_t ms_backoff_policy_or_default(const ms_backoff_policy_t *p)
{
	ms_backoff_policy_t out = p ? *p : (ms_backoff_policy_t){ 0 };
	if (out.max_attempts == 0) {
		out.max_attempts = MS_BACKOFF_DEFAULT_ATTEMPTS;
	}
	if (out.base_delay_ms == 0) {
		out.base_delay_ms = MS_BACKOFF_DEFAULT_BASE_MS;
	}
	if (out.max_delay_ms == 0) {
		out.max_delay_ms = MS_BACKOFF_DEFAULT_MAX_MS;
	}
	if (out.max_total_ms == 0) {
		out.max_total_ms = MS_BACKOFF_DEFAULT_TOTAL_MS;
	}
	return out;
}

static bool status_retryable(long status)
{
	return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

bool ms_backoff_retryable(const ms_backoff_outcome_t *o)
{
	switch (o->rc) {
	case MS_ETRANSPORT:
		return !o->permanent;
	case MS_ETIMEOUT:
		return true;
	case MS_EHTTP:
	case MS_EAPI:
		return status_retryable(o->http_status);
	case MS_EPARSE:
		/* A 2xx that is not an envelope: worth one more look only when
		 * asking again cannot do the work twice. */
		return o->idempotent && o->http_status >= 200 && o->http_status <= 299;
	default:
		return false; /* success, aborts, our own limits, local errors */
	}
}

/* base * 2^(n-1), capped, without overflow. */
static uint64_t exponential_ms(const ms_backoff_policy_t *p, unsigned retry)
{
	uint64_t d = p->base_delay_ms;
	for (unsigned i = 1; i < retry && d < p->max_delay_ms; i++) {
		d *= 2;
	}
	return d < p->max_delay_ms ? d : p->max_delay_ms;
}

bool ms_backoff_next(const ms_backoff_policy_t *policy, ms_backoff_state_t *s,
                     const ms_backoff_outcome_t *o, ms_jitter_fn jitter, void *jitter_ctx,
                     uint64_t *delay_ms)
{
	ms_backoff_policy_t p = ms_backoff_policy_or_default(policy);
	s->attempts++;
	*delay_ms = 0;
	if (o->rc == MS_OK || !ms_backoff_retryable(o) || s->attempts >= p.max_attempts) {
		return false;
	}
	uint64_t delay;
	if (o->retry_after_s >= 0) {
		delay = (uint64_t)o->retry_after_s * 1000;
		if (delay > p.max_delay_ms) {
			return false; /* retrying earlier would only extend a block */
		}
	} else {
		uint64_t full = exponential_ms(&p, s->attempts);
		uint64_t half = full / 2;
		uint64_t r = jitter ? jitter(jitter_ctx) : 0;
		delay = full - half + (half ? r % (half + 1) : 0);
	}
	if (s->waited_ms + delay > p.max_total_ms) {
		return false;
	}
	s->waited_ms += delay;
	*delay_ms = delay;
	return true;
}

uint32_t ms_backoff_system_jitter(void *ctx)
{
	(void)ctx;
	return arc4random();
}
