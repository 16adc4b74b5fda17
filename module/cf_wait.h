/*
 * Time and waiting for the API client. Every wait in the client goes through
 * ms_cf_sleep(), which wakes in short slices to look at the caller's abort
 * flag: a shutdown never waits on a back-off or a spent rate budget.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* How often a wait looks at the abort flag. Well under the 100 ms within
 * which a shutdown must be obeyed. */
#define MS_CF_WAIT_SLICE_MS 10

/* Monotonic milliseconds (CLOCK_MONOTONIC): immune to wall-clock steps. */
uint64_t ms_cf_now_ms(void);

static inline bool ms_cf_aborted(const atomic_bool *abort_flag)
{
	return abort_flag != NULL && atomic_load(abort_flag);
}

/* Sleep ms milliseconds; MS_EABORTED as soon as *abort_flag is set (NULL:
 * not abortable). */
ms_rc_t ms_cf_sleep(uint64_t ms, const atomic_bool *abort_flag, ms_err_t *err);
