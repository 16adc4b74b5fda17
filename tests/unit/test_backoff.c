/* Retry decisions and delays, with an injected jitter source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static ms_backoff_outcome_t outcome(ms_rc_t rc, long status)
{
	return (ms_backoff_outcome_t){ .rc = rc, .http_status = status, .retry_after_s = -1,
	                               .idempotent = true };
}

static void what_is_retried(void **state)
{
	(void)state;
	ms_backoff_outcome_t o;
	assert_true(ms_backoff_retryable(&(ms_backoff_outcome_t){ .rc = MS_ETRANSPORT }));
	assert_true(ms_backoff_retryable(&(ms_backoff_outcome_t){ .rc = MS_ETIMEOUT }));
	const long yes[] = { 408, 409, 429, 500, 502, 503, 504, 599 };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		o = outcome(MS_EAPI, yes[i]);
		assert_true(ms_backoff_retryable(&o));
		o = outcome(MS_EHTTP, yes[i]);
		assert_true(ms_backoff_retryable(&o));
	}
	const long no[] = { 400, 401, 403, 404, 405, 410, 413, 422 };
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		o = outcome(MS_EAPI, no[i]);
		assert_false(ms_backoff_retryable(&o));
		o = outcome(MS_EHTTP, no[i]);
		assert_false(ms_backoff_retryable(&o));
	}
	/* A TLS trust failure does not heal by itself. */
	o = (ms_backoff_outcome_t){ .rc = MS_ETRANSPORT, .permanent = true };
	assert_false(ms_backoff_retryable(&o));
	/* A 2xx that is not an envelope: again only when that cannot apply twice. */
	o = outcome(MS_EPARSE, 200);
	assert_true(ms_backoff_retryable(&o));
	o.idempotent = false;
	assert_false(ms_backoff_retryable(&o));
	o = outcome(MS_EPARSE, 400);
	assert_false(ms_backoff_retryable(&o));
	const ms_rc_t never[] = { MS_OK, MS_EABORTED, MS_ERATELIMIT, MS_ETOOBIG, MS_EINVAL,
	                          MS_ENOMEM, MS_ENOTFOUND, MS_EIO };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		o = outcome(never[i], 503);
		assert_false(ms_backoff_retryable(&o));
	}
}

static uint32_t jitter_value;
static uint32_t fixed_jitter(void *ctx)
{
	(*(int *)ctx)++;
	return jitter_value;
}

static void exponential_with_equal_jitter(void **state)
{
	(void)state;
	ms_backoff_policy_t p = { .max_attempts = 6, .base_delay_ms = 100, .max_delay_ms = 1000,
	                          .max_total_ms = 100000 };
	ms_backoff_state_t s = { 0 };
	ms_backoff_outcome_t o = outcome(MS_EHTTP, 503);
	uint64_t d;
	int calls = 0;
	/* Lowest jitter: half the exponential delay. */
	jitter_value = 0;
	const uint64_t low[] = { 50, 100, 200, 400, 500 };
	for (size_t i = 0; i < 5; i++) {
		assert_true(ms_backoff_next(&p, &s, &o, fixed_jitter, &calls, &d));
		assert_int_equal(d, low[i]);
	}
	assert_false(ms_backoff_next(&p, &s, &o, fixed_jitter, &calls, &d)); /* 6 attempts made */
	assert_int_equal(s.attempts, 6);
	assert_int_equal(calls, 5);
	/* Highest jitter: the full delay, capped per wait. */
	s = (ms_backoff_state_t){ 0 };
	jitter_value = UINT32_MAX;
	const uint64_t high[] = { 100, 200, 400, 800, 1000 };
	for (size_t i = 0; i < 5; i++) {
		assert_true(ms_backoff_next(&p, &s, &o, fixed_jitter, &calls, &d));
		/* r % (half + 1) with r = 2^32-1: compute the same here. */
		uint64_t full = high[i], half = full / 2;
		assert_int_equal(d, full - half + (UINT32_MAX % (half + 1)));
		assert_true(d >= full / 2 && d <= full);
	}
	/* NULL jitter: deterministic lower half. */
	s = (ms_backoff_state_t){ 0 };
	assert_true(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
	assert_int_equal(d, 50);
}

static void caps(void **state)
{
	(void)state;
	ms_backoff_policy_t p = { .max_attempts = 10, .base_delay_ms = 1000, .max_delay_ms = 4000,
	                          .max_total_ms = 5000 };
	ms_backoff_state_t s = { 0 };
	ms_backoff_outcome_t o = (ms_backoff_outcome_t){ .rc = MS_ETRANSPORT, .retry_after_s = -1 };
	uint64_t d;
	assert_true(ms_backoff_next(&p, &s, &o, NULL, NULL, &d)); /* 500 */
	assert_true(ms_backoff_next(&p, &s, &o, NULL, NULL, &d)); /* 1000 */
	assert_true(ms_backoff_next(&p, &s, &o, NULL, NULL, &d)); /* 2000: 3500 in all */
	assert_false(ms_backoff_next(&p, &s, &o, NULL, NULL, &d)); /* 2000 more would pass 5000 */
	assert_int_equal(s.waited_ms, 3500);
	/* Success or a 4xx: no retry, whatever is left. */
	s = (ms_backoff_state_t){ 0 };
	o = outcome(MS_OK, 200);
	assert_false(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
	o = outcome(MS_EAPI, 403);
	assert_false(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
	/* Zero policy fields mean defaults. */
	ms_backoff_policy_t def = ms_backoff_policy_or_default(NULL);
	assert_int_equal(def.max_attempts, MS_BACKOFF_DEFAULT_ATTEMPTS);
	assert_int_equal(def.base_delay_ms, MS_BACKOFF_DEFAULT_BASE_MS);
	s = (ms_backoff_state_t){ 0 };
	o = outcome(MS_ETIMEOUT, 0);
	unsigned retries = 0;
	while (ms_backoff_next(NULL, &s, &o, NULL, NULL, &d)) {
		retries++;
	}
	assert_int_equal(retries, MS_BACKOFF_DEFAULT_ATTEMPTS - 1);
}

static void retry_after_is_obeyed(void **state)
{
	(void)state;
	ms_backoff_policy_t p = { .max_attempts = 4, .base_delay_ms = 100, .max_delay_ms = 30000,
	                          .max_total_ms = 60000 };
	ms_backoff_state_t s = { 0 };
	ms_backoff_outcome_t o = outcome(MS_EAPI, 429);
	o.retry_after_s = 7;
	uint64_t d;
	int calls = 0;
	jitter_value = 12345;
	assert_true(ms_backoff_next(&p, &s, &o, fixed_jitter, &calls, &d));
	assert_int_equal(d, 7000); /* exactly, no jitter: earlier would extend the block */
	assert_int_equal(calls, 0);
	o.retry_after_s = 0;
	assert_true(ms_backoff_next(&p, &s, &o, fixed_jitter, &calls, &d));
	assert_int_equal(d, 0);
	/* Longer than one wait may be: give up now, the next pass tries again. */
	s = (ms_backoff_state_t){ 0 };
	o.retry_after_s = 300;
	assert_false(ms_backoff_next(&p, &s, &o, fixed_jitter, &calls, &d));
	/* Within one wait but beyond the total. */
	p.max_total_ms = 10000;
	o.retry_after_s = 6;
	assert_true(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
	assert_false(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
	/* retry-after on a 503 counts too; on a 400 it does not make it retryable. */
	s = (ms_backoff_state_t){ 0 };
	o = outcome(MS_EHTTP, 503);
	o.retry_after_s = 2;
	assert_true(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
	assert_int_equal(d, 2000);
	o = outcome(MS_EAPI, 400);
	o.retry_after_s = 2;
	assert_false(ms_backoff_next(&p, &s, &o, NULL, NULL, &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(what_is_retried),
		cmocka_unit_test(exponential_with_equal_jitter),
		cmocka_unit_test(caps),
		cmocka_unit_test(retry_after_is_obeyed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
