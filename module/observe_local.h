/*
 * Observe the local side of one zone: what knotd serves (DNS queries to its
 * own listener, answered by its worker threads, never its main thread) and
 * its key database (keymgr -j list). Fills the planner's ms_local_view_t;
 * anything that fails leaves view->complete false.
 */
#pragma once

#include "error.h"
#include "views.h"
#include "zone.h"

ms_rc_t ms_observe_local(ms_zone_t *zone, ms_local_view_t *view, ms_err_t *err);

/* A short digest of what matters for syncing (serial, DNSKEY set, NS set),
 * so an event-driven pass can stop early when nothing changed. */
uint64_t ms_local_view_fingerprint(const ms_local_view_t *view);
