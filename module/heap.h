/*
 * An indexed binary min-heap of pointers: O(log n) insert, remove and
 * re-key of any item, O(1) minimum. Each item stores its own position (the
 * heap calls pos() to find it; SIZE_MAX while not in the heap), so that an
 * item can leave or move without a search. Pure data structure, no locking:
 * the worker's scheduler (registry.c) guards it with a mutex.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_HEAP_NONE SIZE_MAX

typedef struct {
	void **items;
	size_t count, cap;
	double (*key)(const void *item);
	size_t *(*pos)(void *item);
} ms_heap_t;

void ms_heap_init(ms_heap_t *h, double (*key)(const void *), size_t *(*pos)(void *));
void ms_heap_free(ms_heap_t *h);

/* Insert, or move to its place if already in (its key changed). false when
 * out of memory (then it is not in the heap). */
bool ms_heap_update(ms_heap_t *h, void *item);

/* Take item out; nothing if it is not in. */
void ms_heap_remove(ms_heap_t *h, void *item);

/* The item with the smallest key, or NULL when empty. */
void *ms_heap_top(const ms_heap_t *h);

bool ms_heap_contains(ms_heap_t *h, void *item);
