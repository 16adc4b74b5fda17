/*
 * One sync pass for one zone, run by the worker: observe both sides, plan,
 * apply, persist, report. Everything the pass keeps between runs (the API
 * client, the saved state, what was last seen) lives in zone->sync.
 */
#pragma once

#include "zone.h"

/* The registry's pass function (see registry.h). */
double ms_sync_pass(ms_zone_t *zone, double now, bool routine);

/* Release zone->sync; call only when no pass runs (after ms_registry_remove). */
void ms_sync_zone_free(ms_zone_t *zone);
