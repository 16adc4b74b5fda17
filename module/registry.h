/*
 * The process-wide registry of zones and the one worker thread that runs
 * their sync passes (never a thread per zone: thousands of zones are normal).
 * This is the only global mutable state of the module.
 *
 * Zones sit in an RCU-protected list (liburcu): the worker walks it without
 * locks, so loading, unloading or reloading a zone never waits for another
 * zone's pass, and the worker never waits for knotd. What runs when is
 * decided by schedule.c: changes first, routine checks spread over and
 * stretched to the request budget. The worker sleeps until a zone is due,
 * a zone is marked dirty (its zone file or the key database changed:
 * inotify) or the registry changes; it never polls.
 */
#pragma once

#include <stdatomic.h>

#include "error.h"
#include "zone.h"

/* One pass for one zone. `routine`: the zone's routine check is due (read
 * everything), otherwise an event woke it (read what may have changed).
 * Returns the monotonic time of the follow-up pass it needs (a change in
 * flight, a held key, a retry), or 0 when the next routine check will do.
 * Must return within ~100 ms once *abort becomes true. */
typedef double (*ms_pass_fn)(ms_zone_t *zone, double now, bool routine);

/* Register a zone (first pass as soon as possible); starts the worker with
 * `pass` if it is not running. The zone's api-budget becomes the process's. A zone of the same name registered earlier
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
