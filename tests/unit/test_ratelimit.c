/* The request budget: bucket math with injected time, the promise that no
 * window ever sees more than the allowed share, server feedback, and the
 * shared limiter's locking and abortable waits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cf_wait.h"
#include "ratelimit.h"

static void defaults(void **state)
{
	(void)state;
	ms_bucket_t b;
	assert_int_equal(ms_bucket_init(&b, NULL, NULL), MS_OK);
	assert_int_equal(ms_bucket_usable(&b), 960); /* 80% of 1,200 */
	/* A burst of a tenth of that goes at once, then we wait. */
	unsigned taken = 0;
	while (ms_bucket_take(&b, 1000) == 0) {
		taken++;
	}
	assert_int_equal(taken, 96);
	/* The rest refills over the window: 864 per 300 s, one per ~347 ms. */
	uint64_t wait = ms_bucket_take(&b, 1000);
	assert_in_range(wait, 347, 348);
	assert_true(ms_bucket_take(&b, 1000 + wait - 1) > 0);
	assert_int_equal(ms_bucket_take(&b, 1000 + wait), 0);
}

static void config_checks(void **state)
{
	(void)state;
	ms_bucket_t b;
	ms_err_t err = { 0 };
	ms_ratelimit_config_t c = { .budget = 1200, .window_s = 300, .use_pct = 101 };
	assert_int_equal(ms_bucket_init(&b, &c, &err), MS_EINVAL);
	c = (ms_ratelimit_config_t){ .budget = 2, .window_s = 10, .use_pct = 50 };
	assert_int_equal(ms_bucket_init(&b, &c, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "fewer than 2"));
	c = (ms_ratelimit_config_t){ .budget = 20, .window_s = 10, .use_pct = 100 };
	assert_int_equal(ms_bucket_init(&b, &c, &err), MS_OK);
	assert_int_equal(ms_bucket_usable(&b), 20);
}

/* A new budget takes effect at once, but never hands out what was spent
 * under the old one, nor lifts a pause the API asked for. */
static void reconfigure_keeps_what_was_spent(void **state)
{
	(void)state;
	ms_bucket_t b;
	assert_int_equal(ms_bucket_init(&b, NULL, NULL), MS_OK);
	for (int i = 0; i < 90; i++) {
		assert_int_equal(ms_bucket_take(&b, 1000), 0);
	}
	ms_ratelimit_config_t bigger = { .budget = 12000 };
	assert_int_equal(ms_bucket_reconfigure(&b, &bigger, 1000, NULL), 9600);
	unsigned taken = 0;
	while (ms_bucket_take(&b, 1000) == 0) {
		taken++;
	}
	assert_int_equal(taken, 6); /* 96 - 90, not the new burst of 960 */
	/* Refill runs at the new rate: 8,640 per 300 s, one per ~35 ms. */
	assert_in_range(ms_bucket_take(&b, 1000), 34, 35);

	ms_bucket_pause(&b, 2000, 60000);
	ms_ratelimit_config_t smaller = { .budget = 100 };
	assert_int_equal(ms_bucket_reconfigure(&b, &smaller, 2000, NULL), 80);
	assert_int_equal(ms_bucket_take(&b, 2000), 60000);
	ms_ratelimit_config_t bad = { .budget = 1, .use_pct = 100 };
	ms_err_t err = { 0 };
	assert_int_equal(ms_bucket_reconfigure(&b, &bad, 2000, &err), 0);
	assert_int_equal(ms_bucket_usable(&b), 80);

	ms_ratelimit_t *rl = NULL;
	assert_int_equal(ms_ratelimit_new(NULL, &rl, NULL), MS_OK);
	assert_int_equal(ms_ratelimit_usable(rl), 960);
	assert_int_equal(ms_ratelimit_reconfigure(rl, &smaller, 0, NULL), MS_OK);
	assert_int_equal(ms_ratelimit_usable(rl), 80);
	assert_int_equal(ms_ratelimit_reconfigure(rl, &bad, 0, &err), MS_EINVAL);
	ms_ratelimit_free(rl);
}

/* Looking takes nothing; asking for more than the bucket holds asks for a
 * full bucket; a pause counts. */
static void wait_for_peeks(void **state)
{
	(void)state;
	ms_bucket_t b;
	ms_ratelimit_config_t c = { .budget = 100, .window_s = 100, .use_pct = 100 };
	assert_int_equal(ms_bucket_init(&b, &c, NULL), MS_OK); /* burst 10, 0.09/s refill */
	assert_int_equal(ms_bucket_wait_for(&b, 0, 10), 0);
	assert_int_equal(ms_bucket_wait_for(&b, 0, 10), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(ms_bucket_take(&b, 0), 0);
	}
	assert_int_equal(ms_bucket_wait_for(&b, 0, 2), 0);
	uint64_t w = ms_bucket_wait_for(&b, 0, 4);  /* two more at 90 per 100 s */
	assert_in_range(w, 2222, 2223);
	assert_int_equal(ms_bucket_wait_for(&b, 0, 1000), ms_bucket_wait_for(&b, 0, 10));
	assert_int_equal(ms_bucket_wait_for(&b, w, 4), 0);
	ms_bucket_pause(&b, w, 5000);
	assert_int_equal(ms_bucket_wait_for(&b, w, 1), 5000);
}

/* A greedy client takes a token whenever one is there (1 ms resolution); no
 * sliding window of the server's length may ever see more than `usable`. */
static void check_window_bound(uint32_t budget, uint32_t window_s, uint32_t pct)
{
	ms_bucket_t b;
	ms_ratelimit_config_t c = { .budget = budget, .window_s = window_s, .use_pct = pct };
	assert_int_equal(ms_bucket_init(&b, &c, NULL), MS_OK);
	uint64_t window_ms = (uint64_t)window_s * 1000;
	uint64_t horizon = 4 * window_ms;
	uint64_t *times = calloc(budget * 8 + 16, sizeof(*times));
	size_t n = 0;
	for (uint64_t t = 0; t < horizon; t++) {
		while (ms_bucket_take(&b, t) == 0) {
			times[n++] = t;
		}
	}
	size_t start = 0, worst = 0;
	for (size_t i = 0; i < n; i++) {
		while (times[start] + window_ms <= times[i]) {
			start++; /* the server forgets hits a window old, as cfsim does */
		}
		if (i - start + 1 > worst) {
			worst = i - start + 1;
		}
	}
	assert_true(worst <= ms_bucket_usable(&b));
	assert_true(worst <= budget);
	/* ...and the budget is actually used: the burst, then the refill of
	 * (usable - burst) per window, for 4 windows. */
	uint64_t usable = ms_bucket_usable(&b);
	uint64_t burst = usable / 10 ? usable / 10 : 1;
	assert_true(n + 1 >= burst + 4 * (usable - burst));
	free(times);
}

static void no_window_exceeds_the_share(void **state)
{
	(void)state;
	check_window_bound(1200, 300, 80);
	check_window_bound(20, 10, 80);
	check_window_bound(30, 5, 100);
	check_window_bound(7, 3, 50);
}

static void server_feedback(void **state)
{
	(void)state;
	ms_bucket_t b;
	assert_int_equal(ms_bucket_init(&b, NULL, NULL), MS_OK);
	/* Someone else used the token: never hold more than the API says remain. */
	ms_bucket_observe(&b, 0, 3, 100);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ms_bucket_take(&b, 0), 0);
	}
	assert_true(ms_bucket_take(&b, 0) > 0);
	/* Nothing remains: wait for the reset. */
	assert_int_equal(ms_bucket_init(&b, NULL, NULL), MS_OK);
	ms_bucket_observe(&b, 1000, 0, 42);
	assert_int_equal(ms_bucket_take(&b, 1000), 42000);
	assert_int_equal(ms_bucket_take(&b, 40000), 3000);
	/* Absent headers change nothing. */
	assert_int_equal(ms_bucket_init(&b, NULL, NULL), MS_OK);
	ms_bucket_observe(&b, 0, -1, -1);
	assert_int_equal(ms_bucket_take(&b, 0), 0);
	/* A 429's retry-after pauses everyone; afterwards tokens have refilled. */
	ms_bucket_pause(&b, 5000, 10000);
	assert_int_equal(ms_bucket_take(&b, 5000), 10000);
	assert_int_equal(ms_bucket_take(&b, 14999), 1);
	assert_int_equal(ms_bucket_take(&b, 15000), 0);
	/* A shorter pause does not shorten a longer one. */
	ms_bucket_pause(&b, 20000, 10000);
	ms_bucket_pause(&b, 20000, 1000);
	assert_int_equal(ms_bucket_take(&b, 20000), 10000);
}

static void time_going_backwards(void **state)
{
	(void)state;
	ms_bucket_t b;
	ms_ratelimit_config_t c = { .budget = 20, .window_s = 10, .use_pct = 80 };
	assert_int_equal(ms_bucket_init(&b, &c, NULL), MS_OK);
	assert_int_equal(ms_bucket_take(&b, 5000), 0); /* burst 1 */
	assert_true(ms_bucket_take(&b, 5000) > 0);
	/* An older time neither refills nor underflows. */
	uint64_t w = ms_bucket_take(&b, 100);
	assert_true(w > 0 && w < 100000);
}

/* ---- shared limiter ------------------------------------------------------- */

typedef struct {
	ms_ratelimit_t *rl;
	int taken;
} worker_t;

static void *grab(void *arg)
{
	worker_t *w = arg;
	for (int i = 0; i < 1000; i++) {
		if (ms_ratelimit_try(w->rl, 777) == 0) {
			w->taken++;
		}
	}
	return NULL;
}

static void threads_share_one_budget(void **state)
{
	(void)state;
	ms_ratelimit_t *rl;
	assert_int_equal(ms_ratelimit_new(NULL, &rl, NULL), MS_OK);
	worker_t w[8];
	pthread_t th[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (worker_t){ .rl = rl };
		pthread_create(&th[i], NULL, grab, &w[i]);
	}
	int total = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += w[i].taken;
	}
	assert_int_equal(total, 96); /* the burst, exactly once in all */
	ms_ratelimit_free(rl);
}

static atomic_bool stop;
static void *set_stop_later(void *arg)
{
	(void)arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 200 * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	return NULL;
}

static void waits_are_abortable_and_bounded(void **state)
{
	(void)state;
	ms_ratelimit_t *rl;
	ms_err_t err = { 0 };
	ms_ratelimit_config_t c = { .budget = 4, .window_s = 3600, .use_pct = 50 };
	assert_int_equal(ms_ratelimit_new(&c, &rl, NULL), MS_OK);
	atomic_store(&stop, false);
	assert_int_equal(ms_ratelimit_acquire(rl, &stop, 1000, &err), MS_OK); /* the burst */
	/* The next token is ~an hour away: longer than we may wait. */
	uint64_t t0 = ms_cf_now_ms();
	assert_int_equal(ms_ratelimit_acquire(rl, &stop, 60000, &err), MS_ERATELIMIT);
	assert_true(ms_cf_now_ms() - t0 < 50); /* said at once, not after sleeping */
	assert_non_null(strstr(err.msg, "budget"));
	/* Within the allowed wait, but the flag is set meanwhile. */
	pthread_t th;
	pthread_create(&th, NULL, set_stop_later, NULL);
	t0 = ms_cf_now_ms();
	assert_int_equal(ms_ratelimit_acquire(rl, &stop, 10u * 3600 * 1000, &err), MS_EABORTED);
	uint64_t took = ms_cf_now_ms() - t0;
	pthread_join(th, NULL);
	assert_in_range(took, 190, 300); /* 200 ms + under 100 ms to notice */
	/* Already set: no wait at all. */
	assert_int_equal(ms_ratelimit_acquire(rl, &stop, 1000, &err), MS_EABORTED);
	ms_ratelimit_free(rl);
	ms_ratelimit_free(NULL);
}

static void sleep_is_abortable(void **state)
{
	(void)state;
	atomic_store(&stop, false);
	pthread_t th;
	pthread_create(&th, NULL, set_stop_later, NULL);
	uint64_t t0 = ms_cf_now_ms();
	assert_int_equal(ms_cf_sleep(60000, &stop, NULL), MS_EABORTED);
	uint64_t took = ms_cf_now_ms() - t0;
	pthread_join(th, NULL);
	assert_in_range(took, 190, 300);
	t0 = ms_cf_now_ms();
	assert_int_equal(ms_cf_sleep(30, NULL, NULL), MS_OK);
	assert_in_range(ms_cf_now_ms() - t0, 30, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(config_checks),
		cmocka_unit_test(wait_for_peeks),
		cmocka_unit_test(reconfigure_keeps_what_was_spent),
		cmocka_unit_test(no_window_exceeds_the_share),
		cmocka_unit_test(server_feedback),
		cmocka_unit_test(time_going_backwards),
		cmocka_unit_test(threads_share_one_budget),
		cmocka_unit_test(waits_are_abortable_and_bounded),
		cmocka_unit_test(sleep_is_abortable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
