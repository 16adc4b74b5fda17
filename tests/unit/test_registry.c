/* The registry and its worker with real threads, a real inotify watch and a
 * recording pass function. Waits are bounded polls, never bare sleeps. */
#define _GNU_SOURCE /* asprintf */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
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

/* No follow-up; the routine check is a minute away (the default interval):
 * only registration and events run passes within a test. */
static double record_pass(ms_zone_t *z, double now, bool routine)
{
	(void)now;
	(void)routine;
	atomic_fetch_add(&passes[zone_index(z)], 1);
	return 0;
}

/* A pass that waits (abortably) like a hung HTTP request. */
static double slow_pass(ms_zone_t *z, double now, bool routine)
{
	(void)now;
	(void)routine;
	atomic_store(&in_slow_pass, true);
	for (int i = 0; i < 1000 && !atomic_load(&z->abort); i++) {
		usleep(10000);
	}
	if (atomic_load(&z->abort)) {
		atomic_fetch_add(&slow_pass_aborted, 1);
	}
	atomic_store(&in_slow_pass, false);
	return 0;
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
	z->env.zone_file = strdup(zone_file);
	atomic_init(&z->abort, false);
	return z;
}

static void free_zone(ms_zone_t *z)
{
	ms_knot_env_clear(&z->env);
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

/* a.example's zone file in a temporary directory, rewritten as knotd does
 * it (a new file renamed over the old one). */
typedef struct {
	char dir[32], file[256], tmp[256];
} zone_dir_t;

static void zone_dir_make(zone_dir_t *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/ms-registry-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->file, sizeof(d->file), "%s/a.example.zone", d->dir);
	snprintf(d->tmp, sizeof(d->tmp), "%s/a.example.zone.tmp", d->dir);
}

static void zone_dir_rewrite(const zone_dir_t *d)
{
	close(open(d->tmp, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(rename(d->tmp, d->file), 0);
}

static void zone_dir_remove(const zone_dir_t *d)
{
	unlink(d->file);
	rmdir(d->dir);
}

static void zone_file_rewrite_triggers_pass(void **state)
{
	(void)state;
	reset();
	zone_dir_t d;
	zone_dir_make(&d);
	char other[256];
	snprintf(other, sizeof(other), "%s/b.example.zone", d.dir);
	ms_zone_t *a = make_zone("a.example", 0, d.file);
	assert_int_equal(ms_registry_add(a, record_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[0], 1));

	/* Another zone's file: no pass for a. Then a's file, as knotd writes it. */
	close(open(other, O_CREAT | O_WRONLY, 0600));
	zone_dir_rewrite(&d);
	assert_true(wait_for(&passes[0], 2));

	ms_registry_remove(a);
	free_zone(a);
	unlink(other);
	zone_dir_remove(&d);
}

/* Zone 1's pass always asks to run again at once, so the worker never
 * sleeps; the others' passes are record_pass()'s (the worker has one pass
 * function for all zones). */
static double busy_pass(ms_zone_t *z, double now, bool routine)
{
	if (zone_index(z) != 1) {
		return record_pass(z, now, routine);
	}
	atomic_fetch_add(&passes[1], 1);
	usleep(2000);
	return now;
}

/* knotd's change to a zone goes before a backlog of other passes, even
 * when the worker has no idle moment to read file events in. */
static void file_event_seen_while_the_worker_is_busy(void **state)
{
	(void)state;
	reset();
	zone_dir_t d;
	zone_dir_make(&d);
	ms_zone_t *a = make_zone("a.example", 0, d.file);
	ms_zone_t *b = make_zone("b.example", 1, "");
	assert_int_equal(ms_registry_add(a, busy_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[0], 1));
	assert_int_equal(ms_registry_add(b, busy_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[1], 20)); /* b keeps the worker busy */

	zone_dir_rewrite(&d);
	assert_true(wait_for(&passes[0], 2));

	ms_registry_remove(b);
	ms_registry_remove(a);
	free_zone(a);
	free_zone(b);
	zone_dir_remove(&d);
}

/* The order passes ran in, by zone index. */
static atomic_int order[16];
static atomic_int order_len;
static atomic_bool gate_open;

static void note_order(const ms_zone_t *z)
{
	int i = atomic_fetch_add(&order_len, 1);
	if (i < 16) {
		atomic_store(&order[i], zone_index(z));
	}
}

static int position(int index)
{
	for (int i = 0; i < atomic_load(&order_len) && i < 16; i++) {
		if (atomic_load(&order[i]) == index) {
			return i;
		}
	}
	return -1;
}

/* Zone 1 asks for a follow-up 0.3 s after its first pass; zone 2's first
 * pass holds the worker until the test opens the gate; zone 0 records. */
static double ordered_pass(ms_zone_t *z, double now, bool routine)
{
	(void)routine;
	int index = zone_index(z);
	atomic_fetch_add(&passes[index], 1);
	if (index == 2) {
		for (int i = 0; i < 500 && !atomic_load(&gate_open); i++) { /* at most 5 s */
			usleep(10000);
		}
		return 0;
	}
	note_order(z);
	return (index == 1 && atomic_load(&passes[1]) == 1) ? now + 0.3 : 0;
}

/* knotd rewrites zone files as it loads them: such an event before a
 * zone's first check must not put that check before other zones' due
 * follow-ups (a rollover step waits for nothing but changes). */
static void event_before_first_check_is_no_change(void **state)
{
	(void)state;
	reset();
	atomic_store(&order_len, 0);
	atomic_store(&gate_open, false);
	zone_dir_t d;
	zone_dir_make(&d);
	ms_zone_t *a = make_zone("a.example", 0, d.file);
	ms_zone_t *f = make_zone("f.example", 1, "");
	ms_zone_t *g = make_zone("g.example", 2, "");
	assert_int_equal(ms_registry_add(f, ordered_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[1], 1));
	double followup_due = ms_now() + 0.3;
	assert_int_equal(ms_registry_add(g, ordered_pass, NULL), MS_OK);
	assert_true(wait_for(&passes[2], 1)); /* the worker is held */
	assert_int_equal(ms_registry_add(a, ordered_pass, NULL), MS_OK);
	zone_dir_rewrite(&d);
	for (int i = 0; i < 500 && ms_now() <= followup_due; i++) { /* the follow-up is due */
		usleep(10000);
	}
	atomic_store(&gate_open, true);
	assert_true(wait_for(&passes[0], 1));
	assert_true(wait_for(&passes[1], 2));
	/* f's first pass, f's follow-up, then a's first check. */
	assert_int_equal(atomic_load(&order[0]), 1);
	assert_int_equal(atomic_load(&order[1]), 1);
	assert_int_equal(position(0), 2);

	ms_registry_remove(a);
	ms_registry_remove(f);
	ms_registry_remove(g);
	free_zone(a);
	free_zone(f);
	free_zone(g);
	zone_dir_remove(&d);
}

/* A zone whose pass hangs, once that pass runs. */
static ms_zone_t *add_slow_zone(const char *name)
{
	ms_zone_t *z = make_zone(name, 0, "");
	assert_int_equal(ms_registry_add(z, slow_pass, NULL), MS_OK);
	for (int i = 0; i < 500 && !atomic_load(&in_slow_pass); i++) {
		usleep(10000);
	}
	assert_true(atomic_load(&in_slow_pass));
	return z;
}

static void remove_aborts_running_pass(void **state)
{
	(void)state;
	reset();
	ms_zone_t *a = add_slow_zone("a.example");
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

/* While one zone's pass hangs (a slow API), other zones load and unload at
 * once: nothing they do waits for the worker. */
static void load_and_unload_never_wait_for_another_pass(void **state)
{
	(void)state;
	reset();
	ms_zone_t *slow = add_slow_zone("slow.example");
	double start = ms_now();
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof(name), "z%d.example", i);
		ms_zone_t *z = make_zone(name, 1, "");
		assert_int_equal(ms_registry_add(z, slow_pass, NULL), MS_OK);
		ms_registry_remove(z);
		free_zone(z);
	}
	double took = ms_now() - start;
	assert_true(atomic_load(&in_slow_pass)); /* still in the slow zone's pass */
	assert_true(took < 0.5);
	ms_registry_remove(slow);
	free_zone(slow);
}

/* Writers on many threads (knotd calls from one, but nothing may break if
 * it did not), zones of shared names (reloads) among them, while the worker
 * walks the list and runs passes. Run under valgrind and ASan too. */
#define CHURN_THREADS 6
#define CHURN_ROUNDS  40

static void *churn(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		char name[48];
		/* Every third zone shares its name with another thread's. */
		snprintf(name, sizeof(name), "%s%d.example", r % 3 == 0 ? "shared" : "own",
		         r % 3 == 0 ? r : t * 1000 + r);
		ms_zone_t *z = make_zone(name, t % 4, "");
		if (ms_registry_add(z, record_pass, NULL) != MS_OK) {
			free_zone(z);
			return (void *)1;
		}
		if (r % 2 == 0) {
			sched_yield(); /* leave the worker a chance to pick it */
		}
		ms_registry_remove(z);
		free_zone(z);
	}
	return NULL;
}

static void run_churn(void)
{
	pthread_t th[CHURN_THREADS];
	for (int i = 0; i < CHURN_THREADS; i++) {
		assert_int_equal(pthread_create(&th[i], NULL, churn, (void *)(intptr_t)i), 0);
	}
	for (int i = 0; i < CHURN_THREADS; i++) {
		void *ret = NULL;
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
}

static void concurrent_add_remove_while_worker_runs(void **state)
{
	(void)state;
	reset();
	/* One zone stays throughout, so the worker keeps running and walking. */
	ms_zone_t *anchor = make_zone("anchor.example", 0, "");
	assert_int_equal(ms_registry_add(anchor, record_pass, NULL), MS_OK);
	run_churn();
	assert_int_equal(ms_registry_count(), 1);
	assert_false(anchor->superseded);
	/* The worker is alive and still acts on events. */
	int before = atomic_load(&passes[0]);
	ms_zone_t *again = make_zone("anchor.example", 0, "");
	assert_int_equal(ms_registry_add(again, record_pass, NULL), MS_OK);
	assert_true(anchor->superseded);
	assert_true(wait_for(&passes[0], before + 1));
	ms_registry_remove(again);
	assert_false(anchor->superseded);
	ms_registry_remove(anchor);
	assert_int_equal(ms_registry_count(), 0);
	free_zone(again);
	free_zone(anchor);
}

/* The same churn with the worker starting and stopping all the time (no
 * zone stays). */
static void worker_starts_and_stops_under_churn(void **state)
{
	(void)state;
	reset();
	run_churn();
	assert_int_equal(ms_registry_count(), 0);
}

/* Log lines from the registry, captured. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];

static void capture_log(void *opaque, int priority, const char *fmt, va_list ap)
{
	(void)opaque;
	(void)priority;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	pthread_mutex_lock(&log_lock);
	size_t used = strlen(log_text);
	snprintf(log_text + used, sizeof(log_text) - used, "%s\n", line);
	pthread_mutex_unlock(&log_lock);
}

static bool wait_log(const char *text)
{
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&log_lock);
		bool found = strstr(log_text, text) != NULL;
		pthread_mutex_unlock(&log_lock);
		if (found) {
			return true;
		}
		usleep(10000);
	}
	return false;
}

/* A budget too small for the zones' routine checks stretches them, with
 * the numbers in the log; a budget that fits again says so, once. */
static void stretching_is_logged_with_the_numbers(void **state)
{
	(void)state;
	reset();
	log_text[0] = '\0';
	ms_zone_t *a = make_zone("a.example", 0, "");
	a->hooks.log = capture_log;
	a->settings.api_budget = 10;       /* 8 usable per 300 s */
	a->settings.check_interval = 10;   /* wants 2 per 10 s */
	assert_int_equal(ms_registry_add(a, record_pass, NULL), MS_OK);
	/* 0.2 requests/s against 80% of 8 per 300 s: 9.375 times the interval. */
	assert_true(wait_log("1 zones at 2 requests per routine check need more than the API "
	                     "budget of 10 requests per 5 minutes allows for routine checks: "
	                     "they run every 94 s instead of every 10 s"));
	ms_zone_t *b = make_zone("b.example", 1, "");
	b->hooks.log = capture_log;
	b->settings.api_budget = 1200;
	b->settings.check_interval = 10;
	assert_int_equal(ms_registry_add(b, record_pass, NULL), MS_OK);
	assert_true(wait_log("budget of this server is now 1200 requests per 5 minutes (was 10)"));
	assert_true(wait_log("routine checks of all 2 zones fit the API budget of 1200 requests "
	                     "per 5 minutes again"));
	ms_registry_remove(a);
	ms_registry_remove(b);
	pthread_mutex_lock(&log_lock);
	const char *first = strstr(log_text, "need more than");
	assert_non_null(first);
	assert_null(strstr(first + 1, "need more than")); /* logged once */
	/* These zones have no zone file and no key database: nothing to watch,
	 * and nothing said about watching. */
	assert_null(strstr(log_text, "cannot watch"));
	pthread_mutex_unlock(&log_lock);
	free_zone(a);
	free_zone(b);
}

/* knotd frees a zone's name before it unloads the module: no line once the
 * zone is being replaced or removed, nor once knotd's control socket (seen
 * before) is gone, as at shutdown. A socket never seen (knotd binds it
 * after loading the zones) means knotd is starting, not stopping. */
static void quiet_once_knotd_stops(void **state)
{
	(void)state;
	log_text[0] = '\0';
	char dir[] = "/tmp/ms-test-ctl-XXXXXX";
	assert_non_null(mkdtemp(dir));
	ms_zone_t *z = make_zone("a.example", 0, "");
	z->hooks.log = capture_log;
	assert_true(asprintf(&z->env.control_socket, "%s/knot.sock", dir) > 0);

	ms_zone_log(z, LOG_INFO, "line 1, before the socket");
	assert_false(ms_zone_knotd_stopping(z));
	int fd = open(z->env.control_socket, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	ms_zone_log(z, LOG_INFO, "line 2, running");
	assert_false(ms_zone_knotd_stopping(z));
	atomic_store(&z->abort, true);
	ms_zone_log(z, LOG_INFO, "line 3, aborted");
	atomic_store(&z->abort, false);
	assert_int_equal(unlink(z->env.control_socket), 0);
	assert_true(ms_zone_knotd_stopping(z));
	ms_zone_log(z, LOG_INFO, "line 4, stopping");
	assert_string_equal(log_text, "line 1, before the socket\nline 2, running\n");
	rmdir(dir);
	free_zone(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_pass_on_registration),
		cmocka_unit_test(zone_file_rewrite_triggers_pass),
		cmocka_unit_test(file_event_seen_while_the_worker_is_busy),
		cmocka_unit_test(event_before_first_check_is_no_change),
		cmocka_unit_test(remove_aborts_running_pass),
		cmocka_unit_test(newer_instance_supersedes_older),
		cmocka_unit_test(removing_newest_revives_previous),
		cmocka_unit_test(load_and_unload_never_wait_for_another_pass),
		cmocka_unit_test(concurrent_add_remove_while_worker_runs),
		cmocka_unit_test(worker_starts_and_stops_under_churn),
		cmocka_unit_test(stretching_is_logged_with_the_numbers),
		cmocka_unit_test(quiet_once_knotd_stops),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
