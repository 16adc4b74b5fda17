/*
 * The worker's scheduling decisions, as pure functions of the zones' times
 * and the request budget (the registry applies them; the unit tests drive
 * them with made-up clocks):
 *
 * - changes first: a zone with an event (its zone file or key database
 *   changed) or a follow-up its last pass asked for (a rollover step, a
 *   held key, a retry) runs before any routine check, however overdue;
 * - routine checks spread evenly over the check interval: each zone has a
 *   fixed phase within the interval (from its name), so thousands of zones
 *   loaded at once do not all come due together again;
 * - routine checks stretch when the zones' routine demand (requests per
 *   check / interval, summed) exceeds the share of the budget kept for
 *   them; the rest of the budget stays free for changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_SCHED_CHECK_COST     2    /* requests of a routine check in step */
#define MS_SCHED_ROUTINE_SHARE  0.8  /* of the budget; the rest is for changes */

/* What the scheduler needs to know of one zone. Times are monotonic seconds. */
typedef struct {
	double due_routine;   /* next routine check */
	double due_followup;  /* a change-driven pass; 0: none wanted */
	bool dirty;           /* an event: run as soon as possible */
} ms_sched_zone_t;

typedef enum {
	MS_SCHED_IDLE = 0,    /* nothing due now */
	MS_SCHED_ROUTINE,     /* its routine check is due */
	MS_SCHED_CHANGE,      /* an event or a follow-up is due: goes first */
} ms_sched_class_t;

ms_sched_class_t ms_sched_class(const ms_sched_zone_t *z, double now);

/* The time this zone next needs the worker (for the worker's sleep). */
double ms_sched_wake_at(const ms_sched_zone_t *z);

/* Does a (of class ca) run before b (of class cb)? Changes before routine
 * checks; within a class the longest overdue first. */
bool ms_sched_before(const ms_sched_zone_t *a, ms_sched_class_t ca,
                     const ms_sched_zone_t *b, ms_sched_class_t cb);

/* A zone's phase in [0, 1): where in every interval its routine check falls. */
double ms_sched_phase(const char *name);

/* The next routine check: the first time of the zone's phase (a multiple
 * of `interval` plus phase × interval) later than now + min_gap (and than
 * now). After a routine check min_gap is 0: the next one comes at most one
 * interval later, on the zone's slot, however late this one ran. A zone
 * just loaded (its first pass runs at once) takes min_gap = interval / 2,
 * so its first routine check is not right after that pass. */
double ms_sched_next_routine(double now, double interval, double phase, double min_gap);

/* The factor (≥ 1) by which routine intervals stretch: demand is the sum
 * over zones of MS_SCHED_CHECK_COST / check interval (requests per
 * second); the budget allows usable requests per window_s seconds, of which
 * MS_SCHED_ROUTINE_SHARE goes to routine checks. */
double ms_sched_stretch(double demand_per_s, uint64_t usable, uint32_t window_s);

/* Tokens a routine check wants in the bucket before it starts: its own
 * cost plus as much again for a change arriving meanwhile (the limiter caps
 * this at a full bucket, see ms_bucket_wait_for()). */
#define MS_SCHED_ROUTINE_TOKENS (2 * MS_SCHED_CHECK_COST)
