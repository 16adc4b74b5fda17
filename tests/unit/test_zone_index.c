/* The registry's index of zones by name: every instance of a name is
 * found, through growth and removal, and no other zone is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone_index.h"

#define ZONES 1000

static void count_one(ms_zone_t *zone, void *opaque)
{
	(void)zone;
	(*(size_t *)opaque)++;
}

static size_t found(const ms_zone_index_t *idx, const char *name)
{
	size_t n = 0;
	ms_zone_index_each(idx, name, count_one, &n);
	return n;
}

/* Many more zones than the first table has buckets, and a reload's two
 * instances of one name. */
static void finds_every_instance_through_growth(void **state)
{
	(void)state;
	ms_zone_index_t idx = { 0 };
	ms_zone_t *zones = calloc(ZONES + 1, sizeof(*zones));
	char (*names)[32] = calloc(ZONES, sizeof(*names));
	assert_non_null(zones);
	assert_non_null(names);
	ms_err_t err = { 0 };
	for (size_t i = 0; i < ZONES; i++) {
		snprintf(names[i], sizeof(names[i]), "z%05zu.example", i);
		zones[i].name = names[i];
		assert_int_equal(ms_zone_index_add(&idx, &zones[i], &err), MS_OK);
	}
	zones[ZONES].name = names[7]; /* the new instance of a reloaded zone */
	assert_int_equal(ms_zone_index_add(&idx, &zones[ZONES], &err), MS_OK);
	assert_int_equal(idx.count, ZONES + 1);
	assert_true(idx.size >= ZONES);
	for (size_t i = 0; i < ZONES; i++) {
		assert_int_equal(found(&idx, names[i]), i == 7 ? 2 : 1);
	}
	assert_int_equal(found(&idx, "absent.example"), 0);

	ms_zone_index_remove(&idx, &zones[7]);
	assert_int_equal(found(&idx, names[7]), 1);
	ms_zone_index_remove(&idx, &zones[7]); /* not there any more: ignored */
	assert_int_equal(idx.count, ZONES);
	for (size_t i = 0; i < ZONES; i++) {
		if (i != 7) {
			ms_zone_index_remove(&idx, &zones[i]);
		}
	}
	ms_zone_index_remove(&idx, &zones[ZONES]);
	assert_int_equal(idx.count, 0);
	assert_int_equal(found(&idx, names[7]), 0);
	ms_zone_index_free(&idx);
	assert_null(idx.buckets);
	free(names);
	free(zones);
}

static void empty_index_finds_nothing(void **state)
{
	(void)state;
	ms_zone_index_t idx = { 0 };
	ms_zone_t zone = { .name = "a.example" };
	assert_int_equal(found(&idx, "a.example"), 0);
	ms_zone_index_remove(&idx, &zone);
	ms_zone_index_free(&idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_every_instance_through_growth),
		cmocka_unit_test(empty_index_finds_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
