/*
 * One zone the module is loaded for: settings, credentials, what knotd's
 * configuration says about it, hooks back into knotd (log, counters) and the
 * worker's bookkeeping. Built by the glue at load, owned by the registry
 * while registered, freed by the glue after ms_registry_remove() returns.
 */
#pragma once

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu/list.h>

#include "knot_env.h"
#include "settings.h"
#include "stats.h"

typedef struct {
	void *opaque; /* the knotd module handle, for the glue's callbacks */
	void (*log)(void *opaque, int priority, const char *fmt, va_list ap);
	void (*count)(void *opaque, ms_counter_t counter, uint64_t delta);
} ms_zone_hooks_t;

struct ms_sync_zone; /* what the sync pass keeps between passes */
struct ms_ratelimit; /* the request budget shared by all zones */
struct ms_http_pool; /* the worker's libcurl handles, shared by all zones */

typedef struct ms_zone {
	char *name;             /* "example.com", no trailing dot */
	ms_settings_t settings;
	char *secret;           /* API token or global key; never logged */
	ms_knot_env_t env;
	ms_zone_hooks_t hooks;
	struct ms_sync_zone *sync;
	struct ms_ratelimit *ratelimit;
	struct ms_http_pool *http_pool;

	/* Set when the zone must stop what it is doing (unload, shutdown);
	 * every wait in a pass checks it at least every 100 ms. */
	atomic_bool abort;

	/* Registry bookkeeping. `link` is the RCU list link and `index_next`
	 * the link of the index by name (writers under the registry's
	 * lifecycle lock); the flags are set from either side; the times are
	 * the worker's alone once the zone is published. */
	struct cds_list_head link;
	struct ms_zone *index_next;
	uint64_t generation;    /* order of registration */
	double phase;           /* [0, 1): its routine slot within the interval */
	double due;             /* monotonic seconds of the next routine check */
	double followup;        /* a change-driven pass the last pass asked for; 0: none */
	bool checked;           /* its first routine check ran */
	/* Its place in the worker's two heaps (registry.c, under its sched
	 * lock): [0] routine checks by due, [1] changes by when; the keys as
	 * inserted, so that the heaps never see a key move behind their back. */
	size_t heap_pos[2];
	double heap_key[2];
	atomic_bool dirty;      /* something changed: run soon */
	atomic_bool busy;       /* the worker picked it: a pass is (about to be) running */
	atomic_bool superseded; /* a newer instance for the same zone exists */
	atomic_bool removed;
	bool registered;        /* ms_registry_add() succeeded */

	/* knotd's control socket existed at some point: its absence now means
	 * knotd is shutting down (ms_zone_knotd_stopping()). */
	atomic_bool control_seen;
} ms_zone_t;

/* Logging and counting from anywhere below the glue. knotd prints a line
 * with the zone name it owns, and frees that name before it unloads the
 * module (a zone dropped or replaced on reload, every zone at shutdown:
 * knotd 3.2 and 3.4 alike, doc/knot-versions.md). So nothing is logged for
 * a zone that is being replaced or removed (abort set), nor once knotd is
 * shutting down: the line is dropped. */
void ms_zone_log(ms_zone_t *z, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether knotd is shutting down: the control socket it had bound is gone.
 * knotd removes it when its control loop ends, before it stops its threads,
 * writes the timer database and frees the zones; until it was first seen
 * (knotd 3.2 and 3.4 bind it after loading the zones) this is false. One
 * stat(), no waiting. */
bool ms_zone_knotd_stopping(ms_zone_t *z);
void ms_zone_count(ms_zone_t *z, ms_counter_t counter, uint64_t delta);
