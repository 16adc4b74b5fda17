/* The scheduler's indexed heap against a brute-force minimum, with random
 * inserts, re-keys and removals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "heap.h"

typedef struct {
	double key;
	size_t pos;
	bool in;
} item_t;

static double key_of(const void *p)
{
	return ((const item_t *)p)->key;
}

static size_t *pos_of(void *p)
{
	return &((item_t *)p)->pos;
}

#define N 300

static void check_top(ms_heap_t *h, item_t *items)
{
	item_t *best = NULL;
	size_t in = 0;
	for (size_t i = 0; i < N; i++) {
		if (items[i].in) {
			in++;
			if (best == NULL || items[i].key < best->key) {
				best = &items[i];
			}
		}
		assert_true(ms_heap_contains(h, &items[i]) == items[i].in);
	}
	assert_int_equal(h->count, in);
	item_t *top = ms_heap_top(h);
	if (best == NULL) {
		assert_null(top);
	} else {
		assert_non_null(top);
		assert_true(top->key == best->key);
	}
}

static void random_operations(void **state)
{
	(void)state;
	static item_t items[N];
	ms_heap_t h;
	ms_heap_init(&h, key_of, pos_of);
	for (size_t i = 0; i < N; i++) {
		items[i] = (item_t){ .key = 0, .pos = MS_HEAP_NONE };
	}
	srand(42);
	for (int step = 0; step < 20000; step++) {
		item_t *it = &items[(size_t)rand() % N];
		switch (rand() % 3) {
		case 0: /* insert or re-key */
			it->key = (double)(rand() % 1000);
			assert_true(ms_heap_update(&h, it));
			it->in = true;
			break;
		case 1:
			ms_heap_remove(&h, it);
			it->in = false;
			break;
		default: /* take the top, as the worker does */
			if (h.count > 0) {
				item_t *top = ms_heap_top(&h);
				ms_heap_remove(&h, top);
				top->in = false;
			}
		}
		check_top(&h, items);
	}
	ms_heap_free(&h);
	for (size_t i = 0; i < N; i++) {
		assert_false(ms_heap_contains(&h, &items[i]));
	}
}

static void empty_and_fresh_items(void **state)
{
	(void)state;
	ms_heap_t h;
	ms_heap_init(&h, key_of, pos_of);
	item_t a = { .key = 1, .pos = 0 }; /* pos 0 but not in: zeroed memory */
	assert_null(ms_heap_top(&h));
	assert_false(ms_heap_contains(&h, &a));
	ms_heap_remove(&h, &a); /* harmless */
	assert_true(ms_heap_update(&h, &a));
	assert_ptr_equal(ms_heap_top(&h), &a);
	assert_true(ms_heap_update(&h, &a)); /* again: stays once */
	assert_int_equal(h.count, 1);
	ms_heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_operations),
		cmocka_unit_test(empty_and_fresh_items),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
