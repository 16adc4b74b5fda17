#include <stdlib.h>

#include "heap.h"

void ms_heap_init(ms_heap_t *h, double (*key)(const void *), size_t *(*pos)(void *))
{
	*h = (ms_heap_t){ .key = key, .pos = pos };
}

void ms_heap_free(ms_heap_t *h)
{
	for (size_t i = 0; i < h->count; i++) {
		*h->pos(h->items[i]) = MS_HEAP_NONE;
	}
	free(h->items);
	h->items = NULL;
	h->count = h->cap = 0;
}

static void place(ms_heap_t *h, size_t i, void *item)
{
	h->items[i] = item;
	*h->pos(item) = i;
}

static bool less(const ms_heap_t *h, size_t a, size_t b)
{
	return h->key(h->items[a]) < h->key(h->items[b]);
}

static void swap(ms_heap_t *h, size_t a, size_t b)
{
	void *x = h->items[a];
	place(h, a, h->items[b]);
	place(h, b, x);
}

static size_t sift_up(ms_heap_t *h, size_t i)
{
	while (i > 0 && less(h, i, (i - 1) / 2)) {
		swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return i;
}

static void sift_down(ms_heap_t *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->count && less(h, l, m)) {
			m = l;
		}
		if (r < h->count && less(h, r, m)) {
			m = r;
		}
		if (m == i) {
			return;
		}
		swap(h, i, m);
		i = m;
	}
}

bool ms_heap_contains(ms_heap_t *h, void *item)
{
	size_t p = *h->pos(item);
	return p < h->count && h->items[p] == item;
}

bool ms_heap_update(ms_heap_t *h, void *item)
{
	if (ms_heap_contains(h, item)) {
		sift_down(h, sift_up(h, *h->pos(item)));
		return true;
	}
	if (h->count == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		void **items = realloc(h->items, cap * sizeof(*items));
		if (items == NULL) {
			*h->pos(item) = MS_HEAP_NONE;
			return false;
		}
		h->items = items;
		h->cap = cap;
	}
	place(h, h->count++, item);
	sift_up(h, h->count - 1);
	return true;
}

void ms_heap_remove(ms_heap_t *h, void *item)
{
	if (!ms_heap_contains(h, item)) {
		return;
	}
	size_t i = *h->pos(item);
	*h->pos(item) = MS_HEAP_NONE;
	h->count--;
	if (i == h->count) {
		return;
	}
	place(h, i, h->items[h->count]);
	sift_down(h, sift_up(h, i));
}

void *ms_heap_top(const ms_heap_t *h)
{
	return h->count > 0 ? h->items[0] : NULL;
}
