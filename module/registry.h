/*
 * The process-wide registry of zones and the one worker thread that runs
 * their sync passes (never a thread per zone: thousands of zones are normal).
 * This is the only global mutable state of the module.
 *
 * The worker sleeps until a zone is due, a zone is marked dirty (its zone
 * file or the key database changed: inotify) or the registry changes. Nothing
 * it waits for depends on knotd's main thread, so unload never deadlocks.
 */
#pragma once

#include <stdatomic.h>

#include "error.h"
#include "zone.h"

/* One pass for one zone; returns the monotonic time it wants to run again.
 * Must return within ~100 ms once *abort becomes true. */
typedef double (*ms_pass_fn)(ms_zone_t *zone, double now);

/* Register a zone (first pass as soon as possible); starts the worker with
 * `pass` if it is not running. A zone of the same name registered earlier
 * (knotd reload keeps the old instance until the new one is loaded) stops
 * acting at once. */
ms_rc_t ms_registry_add(ms_zone_t *zone, ms_pass_fn pass, ms_err_t *err);

/* Unregister: aborts the zone's running pass and returns once the worker no
 * longer uses it; stops the worker when no zone is left. A zone that was
 * never added is left alone. */
void ms_registry_remove(ms_zone_t *zone);

/* Number of zones registered (tests, status). */
size_t ms_registry_count(void);

/* Monotonic clock in seconds. */
double ms_now(void);
