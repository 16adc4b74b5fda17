#include <errno.h>
#include <time.h>

#include "cf_wait.h"

uint64_t ms_cf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

ms_rc_t ms_cf_sleep(uint64_t ms, const atomic_bool *abort_flag, ms_err_t *err)
{
	uint64_t end = ms_cf_now_ms() + ms;
	for (;;) {
		if (ms_cf_aborted(abort_flag)) {
			return ms_err_set(err, MS_EABORTED, "stopped while waiting: the module is shutting down");
		}
		uint64_t now = ms_cf_now_ms();
		if (now >= end) {
			return MS_OK;
		}
		uint64_t left = end - now;
		nap_ms(left < MS_CF_WAIT_SLICE_MS ? left : MS_CF_WAIT_SLICE_MS);
	}
}
