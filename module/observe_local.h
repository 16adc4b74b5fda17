/*
 * Observe the local side of one zone: what knotd serves (DNS queries to its
 * own listener, answered by its worker threads, never its main thread) and
 * its key database (keymgr -j list). Fills the planner's ms_local_view_t;
 * anything that fails leaves view->complete false.
 */
#pragma once

#include "error.h"
#include "keys_cache.h"
#include "views.h"
#include "zone.h"

/* cache: the zone's key listing between passes (keys_cache.h), or NULL to
 * run keymgr every time; now: monotonic seconds. */
ms_rc_t ms_observe_local(ms_zone_t *zone, ms_keys_cache_t *cache, double now,
                         ms_local_view_t *view, ms_err_t *err);

/* A short digest of what matters for syncing (serial, DNSKEY set, NS set),
 * so an event-driven pass can stop early when nothing changed. */
uint64_t ms_local_view_fingerprint(const ms_local_view_t *view);
