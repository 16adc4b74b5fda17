/*
 * The registry's index of zone contexts by name, so that loading or
 * unloading one zone finds the other instances of the same zone (a reload
 * overlaps the old and the new one) without walking every zone: with
 * 10,000 zones a walk per load made knotd's start quadratic.
 *
 * A chained hash table through ms_zone_t.index_next, doubled when it holds
 * more zones than buckets. Not thread-safe: the registry uses it under its
 * lifecycle lock only.
 */
#pragma once

#include "error.h"
#include "zone.h"

typedef struct {
	ms_zone_t **buckets;
	size_t size;  /* buckets, a power of two; 0: none yet */
	size_t count; /* zones in the index */
} ms_zone_index_t;

/* Fails only when there is no table at all and none can be allocated; a
 * table that cannot grow stays correct, only its chains get longer. */
ms_rc_t ms_zone_index_add(ms_zone_index_t *idx, ms_zone_t *zone, ms_err_t *err);

/* A zone not in the index is ignored. */
void ms_zone_index_remove(ms_zone_index_t *idx, ms_zone_t *zone);

/* Calls fn for every zone in the index named `name`. fn must not change
 * the index. */
void ms_zone_index_each(const ms_zone_index_t *idx, const char *name,
                        void (*fn)(ms_zone_t *zone, void *opaque), void *opaque);

/* Frees the table (the zones are not the index's). */
void ms_zone_index_free(ms_zone_index_t *idx);
