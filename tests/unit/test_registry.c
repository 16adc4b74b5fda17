/* The registry and its worker with real threads, a real inotify watch and a
 * recording pass function. Waits are bounded polls, never bare sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"

static atomic_int passes[4];
static atomic_bool in_slow_pass;
static atomic_int slow_pass_aborted;

static int zone_index(const ms_zone_t *z)
{
	return (int)(intptr_t)z->hooks.opaque;
}

/* Routine checks far in the future: only registration and events run passes. */
static double record_pass(ms_zone_t *z, double now)
{
	atomic_fetch_add(&passes[zone_index(z)], 1);
	return now + 3600;
}

/* A pass that waits (abortably) like a hung HTTP request. */
static double slow_pass(ms_zone_t *z, double now)
{
	atomic_store(&in_slow_pass, true);
	for (int i = 0; i < 1000 && !atomic_load(&z->abort); i++) {
		usleep(10000);
	}
	if (atomic_load(&z->abort)) {
		atomic_fetch_add(&slow_pass_aborted, 1);
	}
	atomic_store(&in_slow_pass, false);
	return now + 3600;
}

static bool wait_for(atomic_int *counter, int value)
{
	for (int i = 0; i < 500; i++) {  /* at most 5 s */
		if (atomic_load(counter) >= value) {
			return true;
		}
		usleep(10000);
	}
	return false;
}

static ms_zone_t *make_zone(const char *name, int index, const char *zone_file)
{
	ms_zone_t *z = calloc(1, sizeof(*z));
	z->name = strdup(name);
	z->hooks.opaque = (void *)(intptr_t)index;
	snprintf(z->env.zone_file, sizeof(z->env.zone_file), "%s", zone_file);
	atomic_init(&z->abort, false);
	return z;
}

static void free_zone(ms_zone_t *z)
{
	free(z->name);
	free(z);
}

static void reset(void)
{
	for (int i = 0; i < 4; i++) {
		atomic_store(&passes[i], 0);
	}
	atomic_store(&slow_pass_aborted, 0);
}

static void first_pass_on_registration(void **state)
{
	(void)state;
	reset();
	ms_zone_t *a = make_zone("a.example", 0, "");
	ms_zone_t *b = make_zone("b.example", 1, "");
	assert_int_equal(ms_registry_add(a, record_pass, NULL), MS_OK);
	assert_int_equal(ms_registry_add(b, record_pass, NULL), MS_OK);
	assert_int_equal(ms_registry_count(), 2);
	assert_true(wait_for(&passes[0], 1));
	assert_true(wait_for(&passes[1], 1));
	ms_registry_remove(a);
	ms_registry_remove(b);
	assert_int_equal(ms_registry_count(), 0);
	/* Due in an hour: no second pass happened. */
	assert_int_equal(atomic_load(&passes[0]), 1);
	free_zone(a);
	free_zone(b);
}

static void zone_file_rewrite_triggers_pass(void **state)
{
	(void)state;
	reset();
	char dir[] = "/tmp/ms-registry-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char file[256], tmp[256], other[256];
	snprintf(file, sizeof(file), "%s/a.example.zone", dir);
	snprintf(tmp, sizeof(tmp), "%s/a.example.zone.tmp", dir);
	snprintf(other, sizeof(other), "%s/b.example.zone", dir);
	ms_zone_t *a = make_zone("a.example", 0, file);
	assert_int_equal(ms_registry_add(a, record_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[0], 1));

	/* Another zone's file: no pass for a. Then a's file, as knotd writes it. */
	close(open(other, O_CREAT | O_WRONLY, 0600));
	close(open(tmp, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(rename(tmp, file), 0);
	assert_true(wait_for(&passes[0], 2));

	ms_registry_remove(a);
	free_zone(a);
	unlink(file);
	unlink(other);
	rmdir(dir);
}

static void remove_aborts_running_pass(void **state)
{
	(void)state;
	reset();
	ms_zone_t *a = make_zone("a.example", 0, "");
	assert_int_equal(ms_registry_add(a, slow_pass, NULL), MS_OK);
	for (int i = 0; i < 500 && !atomic_load(&in_slow_pass); i++) {
		usleep(10000);
	}
	assert_true(atomic_load(&in_slow_pass));
	double start = ms_now();
	ms_registry_remove(a);
	double took = ms_now() - start;
	assert_false(atomic_load(&in_slow_pass));
	assert_int_equal(atomic_load(&slow_pass_aborted), 1);
	/* Well under the pass's own 10 s: the abort flag ended it. */
	assert_true(took < 1.0);
	free_zone(a);
}

static void newer_instance_supersedes_older(void **state)
{
	(void)state;
	reset();
	ms_zone_t *old = make_zone("a.example", 0, "");
	assert_int_equal(ms_registry_add(old, record_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[0], 1));
	ms_zone_t *new = make_zone("a.example", 1, "");
	assert_int_equal(ms_registry_add(new, record_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[1], 1));
	assert_true(old->superseded);
	assert_false(new->superseded);
	/* knotd unloads the old instance after loading the new one. */
	ms_registry_remove(old);
	assert_false(new->superseded);
	ms_registry_remove(new);
	assert_int_equal(atomic_load(&passes[0]), 1);
	free_zone(old);
	free_zone(new);
}

static void removing_newest_revives_previous(void **state)
{
	(void)state;
	reset();
	ms_zone_t *old = make_zone("a.example", 0, "");
	ms_zone_t *new = make_zone("a.example", 1, "");
	assert_int_equal(ms_registry_add(old, record_pass, NULL), MS_OK);
	assert_int_equal(ms_registry_add(new, record_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[1], 1));
	ms_registry_remove(new);
	assert_false(old->superseded);
	assert_true(wait_for(&passes[0], 1));
	ms_registry_remove(old);
	free_zone(old);
	free_zone(new);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_pass_on_registration),
		cmocka_unit_test(zone_file_rewrite_triggers_pass),
		cmocka_unit_test(remove_aborts_running_pass),
		cmocka_unit_test(newer_instance_supersedes_older),
		cmocka_unit_test(removing_newest_revives_previous),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
