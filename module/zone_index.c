#include <stdlib.h>
#include <string.h>

#include "name_hash.h"
#include "zone_index.h"

#define FIRST_SIZE 64

static size_t bucket_of(size_t size, const char *name)
{
	return ms_name_hash(name) & (size - 1);
}

static void link_into(ms_zone_t **buckets, size_t size, ms_zone_t *zone)
{
	size_t b = bucket_of(size, zone->name);
	zone->index_next = buckets[b];
	buckets[b] = zone;
}

/* Doubles the table; on failure keeps the old one. */
static void grow(ms_zone_index_t *idx)
{
	size_t size = idx->size * 2;
	ms_zone_t **buckets = calloc(size, sizeof(*buckets));
	if (buckets == NULL) {
		return;
	}
	for (size_t i = 0; i < idx->size; i++) {
		ms_zone_t *z = idx->buckets[i];
		while (z != NULL) {
			ms_zone_t *next = z->index_next;
			link_into(buckets, size, z);
			z = next;
		}
	}
	free(idx->buckets);
	idx->buckets = buckets;
	idx->size = size;
}

ms_rc_t ms_zone_index_add(ms_zone_index_t *idx, ms_zone_t *zone, ms_err_t *err)
{
	if (idx->size == 0) {
		idx->buckets = calloc(FIRST_SIZE, sizeof(*idx->buckets));
		if (idx->buckets == NULL) {
			return ms_err_set(err, MS_ENOMEM, "out of memory for the index of zones");
		}
		idx->size = FIRST_SIZE;
	}
	if (idx->count >= idx->size) {
		grow(idx);
	}
	link_into(idx->buckets, idx->size, zone);
	idx->count++;
	return MS_OK;
}

void ms_zone_index_remove(ms_zone_index_t *idx, ms_zone_t *zone)
{
	if (idx->size == 0) {
		return;
	}
	for (ms_zone_t **pp = &idx->buckets[bucket_of(idx->size, zone->name)]; *pp != NULL;
	     pp = &(*pp)->index_next) {
		if (*pp == zone) {
			*pp = zone->index_next;
			zone->index_next = NULL;
			idx->count--;
			return;
		}
	}
}

void ms_zone_index_each(const ms_zone_index_t *idx, const char *name,
                        void (*fn)(ms_zone_t *zone, void *opaque), void *opaque)
{
	if (idx->size == 0) {
		return;
	}
	for (ms_zone_t *z = idx->buckets[bucket_of(idx->size, name)]; z != NULL;
	     z = z->index_next) {
		if (strcmp(z->name, name) == 0) {
			fn(z, opaque);
		}
	}
}

void ms_zone_index_free(ms_zone_index_t *idx)
{
	free(idx->buckets);
	*idx = (ms_zone_index_t){ 0 };
}
