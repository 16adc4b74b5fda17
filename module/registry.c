#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-mb.h>
#include <urcu/pointer.h>
#include <urcu/rculist.h>

#include "heap.h"
#include "http.h"
#include "ratelimit.h"
#include "registry.h"
#include "schedule.h"
#include "watch.h"
#include "zone_index.h"

#define MAX_SLEEP_MS 60000
#define WORKER_NICENESS 10 /* added to knotd's own: see lower_worker_priority() */

/* The module's only global mutable state (see registry.h).
 *
 * The zone list is RCU-protected (liburcu's mb flavour, apart from knotd's
 * own): the worker walks it in short read-side sections and never takes a
 * lock that load or unload holds for long. `lifecycle` serialises writers
 * (add, remove, starting and joining the worker), which knotd calls from
 * one thread anyway; `watch_lock` guards the inotify watch for a moment;
 * `done_lock` only lets remove() wait for the end of its zone's pass.
 *
 * `sched_lock` (always taken last, held for O(log n) steps) guards the
 * worker's two heaps: every runnable zone is in `routine` (by the time of
 * its next routine check), and those with an event or a follow-up also in
 * `change` (events first, then by follow-up time). So picking the next zone
 * costs O(log n), not a walk over every zone; the walk over the RCU list is
 * left to rare things (file events, load, unload). A zone leaves the heaps
 * under this lock when it is removed or superseded, before remove() lets
 * knotd free it. */
static struct {
	pthread_mutex_t lifecycle;
	pthread_mutex_t watch_lock;
	pthread_mutex_t done_lock;
	pthread_mutex_t sched_lock;
	pthread_cond_t pass_done;
	ms_heap_t routine;         /* under sched_lock */
	ms_heap_t change;          /* under sched_lock */
	size_t sched_count;        /* zones in `routine`: the runnable ones */
	double demand;             /* their routine requests per second */
	struct cds_list_head zones; /* RCU list of ms_zone_t.link */
	ms_zone_index_t by_name;   /* the same zones by name, under lifecycle */
	atomic_size_t count;
	uint64_t generation;
	ms_pass_fn pass;
	ms_ratelimit_t *ratelimit; /* the API request budget all zones share */
	ms_http_pool_t *http_pool; /* the worker's libcurl handles, all zones' clients use */
	uint32_t budget;           /* its api-budget, requests per 5 minutes */
	ms_watch_t *watch;
	int wake_fd;
	bool running;
	atomic_bool stop;
	bool stretched;            /* worker only: routine checks are stretched */
	pthread_t thread;
} reg = {
	.lifecycle = PTHREAD_MUTEX_INITIALIZER,
	.watch_lock = PTHREAD_MUTEX_INITIALIZER,
	.done_lock = PTHREAD_MUTEX_INITIALIZER,
	.sched_lock = PTHREAD_MUTEX_INITIALIZER,
	.pass_done = PTHREAD_COND_INITIALIZER,
	.wake_fd = -1,
	.zones = CDS_LIST_HEAD_INIT(reg.zones),
};

double ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wake_worker(void)
{
	uint64_t one = 1;
	if (reg.wake_fd >= 0 && write(reg.wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the worker will wake anyway. */
	}
}

/* ---- which directories tell us about a zone's changes --------------------- */

static void zone_file_dir(const ms_zone_t *z, char *dir)
{
	const char *file = ms_path_known(z->env.zone_file) ? z->env.zone_file : "";
	if (snprintf(dir, MS_PATH_MAX, "%s", file) >= MS_PATH_MAX) {
		dir[0] = '\0'; /* a cut directory would be the wrong one */
		return;
	}
	char *slash = strrchr(dir, '/');
	if (slash != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
	} else {
		dir[0] = '\0';
	}
}

static const char *zone_file_base(const ms_zone_t *z)
{
	const char *file = ms_path_known(z->env.zone_file) ? z->env.zone_file : "";
	const char *slash = strrchr(file, '/');
	return slash ? slash + 1 : file;
}

/* Zone file flushes name the zone; the key database is the fallback when
 * knotd does not flush (zonefile-sync other than 0) or the path is unknown.
 * Without either path there is nothing to watch (the periodic check still
 * runs). */
static bool watches_kasp(const ms_zone_t *z)
{
	return ms_path_known(z->env.kasp_db) &&
	       (!ms_path_known(z->env.zone_file) || z->env.zonefile_sync != 0);
}

static void watch_zone(ms_zone_t *z, bool add)
{
	if (reg.watch == NULL) {
		return;
	}
	pthread_mutex_lock(&reg.watch_lock);
	char dir[MS_PATH_MAX];
	zone_file_dir(z, dir);
	const char *dirs[2] = { dir[0] ? dir : NULL, watches_kasp(z) ? z->env.kasp_db : NULL };
	for (int i = 0; i < 2; i++) {
		if (dirs[i] == NULL) {
			continue;
		}
		ms_err_t err = { 0 };
		if (!add) {
			ms_watch_remove_dir(reg.watch, dirs[i]);
		} else if (ms_watch_add_dir(reg.watch, dirs[i], &err) != MS_OK) {
			ms_zone_log(z, LOG_WARNING, "%s; local changes are noticed by "
			            "the periodic check only", err.msg);
		}
	}
	pthread_mutex_unlock(&reg.watch_lock);
}

/* ---- the heaps (callers hold sched_lock) ------------------------------------ */

static double routine_key(const void *p)
{
	return ((const ms_zone_t *)p)->heap_key[0];
}

static double change_key(const void *p)
{
	return ((const ms_zone_t *)p)->heap_key[1];
}

static size_t *routine_pos(void *p)
{
	return &((ms_zone_t *)p)->heap_pos[0];
}

static size_t *change_pos(void *p)
{
	return &((ms_zone_t *)p)->heap_pos[1];
}

static void heaps_init(void)
{
	if (reg.routine.key == NULL) {
		ms_heap_init(&reg.routine, routine_key, routine_pos);
		ms_heap_init(&reg.change, change_key, change_pos);
	}
}

static bool runnable(const ms_zone_t *z)
{
	return !atomic_load(&z->superseded) && !atomic_load(&z->removed);
}

static double interval_of(const ms_zone_t *z)
{
	return z->settings.check_interval != 0 ? z->settings.check_interval
	                                       : MS_DEFAULT_CHECK_INTERVAL;
}

static void unschedule(ms_zone_t *z)
{
	if (ms_heap_contains(&reg.routine, z)) {
		ms_heap_remove(&reg.routine, z);
		reg.sched_count--;
		reg.demand = reg.sched_count == 0 ? 0 : reg.demand - MS_SCHED_CHECK_COST / interval_of(z);
	}
	ms_heap_remove(&reg.change, z);
}

/* Put z where its times say, or out if it must not run. Out of memory
 * (the heaps grow by doubling): the zone is left out and logged; a reload
 * of the zone brings it back. */
static void reschedule(ms_zone_t *z)
{
	if (!runnable(z)) {
		unschedule(z);
		return;
	}
	bool was_in = ms_heap_contains(&reg.routine, z);
	z->heap_key[0] = z->due;
	bool ok = ms_heap_update(&reg.routine, z);
	if (ok && !was_in) {
		reg.sched_count++;
		reg.demand += MS_SCHED_CHECK_COST / interval_of(z);
	}
	bool dirty = atomic_load(&z->dirty);
	if (ok && (dirty || z->followup > 0)) {
		z->heap_key[1] = dirty ? 0 : z->followup;
		ok = ms_heap_update(&reg.change, z);
	} else {
		ms_heap_remove(&reg.change, z);
	}
	if (!ok) {
		unschedule(z);
		ms_zone_log(z, LOG_ERR, "out of memory scheduling the zone: it is not synced "
		            "until it is reloaded");
	}
}

/* An event before a zone's first check has started says nothing that
 * check (due already, as a routine one) will not see. Taken as a change it
 * would go before every zone's follow-ups: knotd rewrites thousands of zone
 * files as it starts, and their first checks then held up the zones in
 * flight. An event during the first check is kept: it may come too late
 * for that pass. */
static void mark_dirty(ms_zone_t *z)
{
	pthread_mutex_lock(&reg.sched_lock);
	if (z->checked || atomic_load(&z->busy)) {
		atomic_store(&z->dirty, true);
		if (ms_heap_contains(&reg.routine, z)) {
			reschedule(z);
		}
	}
	pthread_mutex_unlock(&reg.sched_lock);
}

/* Called by the worker inside a read-side section. */
static void on_file_event(void *opaque, const char *dir, const char *name)
{
	(void)opaque;
	ms_zone_t *z;
	cds_list_for_each_entry_rcu(z, &reg.zones, link) {
		char zdir[MS_PATH_MAX];
		zone_file_dir(z, zdir);
		bool zone_file = strcmp(zdir, dir) == 0 && strcmp(zone_file_base(z), name) == 0;
		bool kasp = watches_kasp(z) && strcmp(z->env.kasp_db, dir) == 0;
		if (zone_file || kasp) {
			mark_dirty(z);
		}
	}
}

/* ---- the worker ------------------------------------------------------------ */

static ms_sched_zone_t sched_view(const ms_zone_t *z)
{
	return (ms_sched_zone_t){ .due_routine = z->due, .due_followup = z->followup,
	                          .dirty = atomic_load(&z->dirty) };
}

typedef struct {
	ms_zone_t *zone;           /* what to run now, or NULL */
	ms_sched_class_t cls;
	double wake;               /* when something is next due */
	double change_at;          /* when a change is next due */
	size_t zones;              /* runnable zones */
	double demand;             /* their routine requests per second */
	ms_zone_t *any;            /* one of them, to log through (in the section only) */
	double factor;             /* routine intervals stretch by this */
	bool was_dirty;            /* the picked zone had an event */
} pick_t;

/* Log once when routine checks start or stop being stretched. Under
 * sched_lock: p->any is only valid there. */
static void note_stretch(const pick_t *p, double factor)
{
	bool stretched = factor > 1.0;
	if (stretched == reg.stretched || p->any == NULL) {
		return;
	}
	reg.stretched = stretched;
	if (stretched) {
		ms_zone_log(p->any, LOG_INFO, "%zu zones at %d requests per routine check need more "
		            "than the API budget of %u requests per 5 minutes allows for routine "
		            "checks: they run every %.0f s instead of every %.0f s (changes still "
		            "go first); raise api-budget or check-interval to change this",
		            p->zones, MS_SCHED_CHECK_COST, reg.budget,
		            interval_of(p->any) * factor, interval_of(p->any));
	} else {
		ms_zone_log(p->any, LOG_INFO, "routine checks of all %zu zones fit the API budget "
		            "of %u requests per 5 minutes again: every zone is checked at its "
		            "check-interval", p->zones, reg.budget);
	}
}

/* The next zone from the heaps' tops, O(log n) at most. The picked zone is
 * marked busy under sched_lock, so remove() waits for its pass; a zone
 * picked for a change leaves the change heap (its pass runs at once). */
static void pick(double now, pick_t *p)
{
	*p = (pick_t){ .wake = now + MAX_SLEEP_MS / 1000.0, .change_at = now + MAX_SLEEP_MS / 1000.0 };
	pthread_mutex_lock(&reg.sched_lock);
	ms_zone_t *ct = ms_heap_top(&reg.change);
	ms_zone_t *rt = ms_heap_top(&reg.routine);
	p->zones = reg.sched_count;
	p->demand = reg.demand;
	p->any = rt;
	if (ct != NULL) {
		ms_sched_zone_t v = sched_view(ct);
		if (ms_sched_class(&v, now) == MS_SCHED_CHANGE) {
			p->zone = ct;
			p->cls = MS_SCHED_CHANGE;
			p->was_dirty = atomic_exchange(&ct->dirty, false);
			ms_heap_remove(&reg.change, ct);
		}
		double at = ct->heap_key[1] > now ? ct->heap_key[1] : now;
		p->change_at = at < p->change_at ? at : p->change_at;
		p->wake = p->change_at;
	}
	if (rt != NULL) {
		if (p->zone == NULL && rt->due <= now) {
			p->zone = rt;
			p->cls = MS_SCHED_ROUTINE;
		}
		p->wake = rt->due < p->wake ? rt->due : p->wake;
	}
	if (p->zone != NULL) {
		atomic_store(&p->zone->busy, true);
	}
	p->factor = ms_sched_stretch(p->demand, ms_ratelimit_usable(reg.ratelimit),
	                             MS_RATELIMIT_DEFAULT_WINDOW);
	note_stretch(p, p->factor);
	p->any = NULL;
	pthread_mutex_unlock(&reg.sched_lock);
}

static void run_pass(ms_zone_t *z, ms_sched_class_t cls, double factor)
{
	double now = ms_now();
	bool routine = cls == MS_SCHED_ROUTINE || z->due <= now;
	double followup = reg.pass(z, now, routine);
	double done = ms_now();
	pthread_mutex_lock(&reg.sched_lock);
	z->followup = followup;
	if (routine) {
		/* The first check ran at load: the next on the zone's slot, but not
		 * right away; after that, on its slot at most one interval apart. */
		double iv = interval_of(z) * factor;
		z->due = ms_sched_next_routine(done, iv, z->phase, z->checked ? 0 : iv / 2);
		z->checked = true;
	}
	reschedule(z);
	pthread_mutex_unlock(&reg.sched_lock);
	pthread_mutex_lock(&reg.done_lock);
	atomic_store(&z->busy, false);
	pthread_cond_broadcast(&reg.pass_done);
	pthread_mutex_unlock(&reg.done_lock);
}

/* Mark the zones whose files changed (non-blocking: one read() when
 * nothing is pending). */
static void drain_file_events(void)
{
	if (reg.watch == NULL) {
		return;
	}
	pthread_mutex_lock(&reg.watch_lock);
	urcu_mb_read_lock();
	ms_watch_drain(reg.watch, on_file_event, NULL);
	urcu_mb_read_unlock();
	pthread_mutex_unlock(&reg.watch_lock);
}

static void sleep_until(double wake)
{
	double wait = (wake - ms_now()) * 1000.0;
	int timeout = wait <= 0 ? 0 : (wait > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)wait + 1);
	struct pollfd fds[2] = {
		{ .fd = reg.wake_fd, .events = POLLIN },
		{ .fd = reg.watch ? ms_watch_fd(reg.watch) : -1, .events = POLLIN },
	};
	int n = poll(fds, 2, timeout);
	if (n > 0 && (fds[0].revents & POLLIN)) {
		uint64_t v;
		if (read(reg.wake_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: someone else drained it. */
		}
	}
	if (n > 0 && (fds[1].revents & POLLIN)) {
		drain_file_events();
	}
}

/* A routine check starts only when it can run without waiting for the
 * budget, leaving tokens for a change; until then the worker sleeps (and a
 * change that comes up meanwhile wakes it and goes first). */
static double budget_wait(void)
{
	uint64_t now_ms = (uint64_t)(ms_now() * 1000);
	uint64_t wait_ms = ms_ratelimit_wait_for(reg.ratelimit, now_ms, MS_SCHED_ROUTINE_TOKENS);
	return (double)wait_ms / 1000.0;
}

/* The worker's passes (and keymgr and knotc, which inherit the calling
 * thread's niceness) give way to knotd's own threads when the CPUs are
 * busy: loading zones, answering queries, signing. Linux keeps niceness
 * per thread, so this thread alone is lowered. Lowering needs no privilege;
 * should it fail all the same, the worker runs as before. */
static void lower_worker_priority(void)
{
	id_t tid = (id_t)syscall(SYS_gettid);
	errno = 0;
	int now = getpriority(PRIO_PROCESS, tid);
	if (now == -1 && errno != 0) {
		return;
	}
	int lower = now + WORKER_NICENESS;
	(void)setpriority(PRIO_PROCESS, tid, lower > 19 ? 19 : lower);
}

static void *worker_main(void *arg)
{
	(void)arg;
	lower_worker_priority();
	urcu_mb_register_thread();
	while (!atomic_load(&reg.stop)) {
		/* Before every pick, not only when idle: a worker busy with a
		 * backlog of passes never sleeps, and knotd's changes (a new ZSK
		 * published) must still go before that backlog. */
		drain_file_events();
		pick_t p;
		pick(ms_now(), &p);
		double wait = (p.zone != NULL && p.cls == MS_SCHED_ROUTINE) ? budget_wait() : 0;
		/* knotd is shutting down: no new pass (it would act on a zone
		 * knotd is about to free); unload wakes us to stop. */
		bool stopping = p.zone != NULL && ms_zone_knotd_stopping(p.zone);
		if (p.zone != NULL && wait <= 0 && !stopping) {
			run_pass(p.zone, p.cls, p.factor);
			continue;
		}
		if (p.zone != NULL) {
			/* Not now after all: let remove() have it meanwhile, and keep
			 * its change (if that is what it was picked for) for later. */
			pthread_mutex_lock(&reg.sched_lock);
			if (p.was_dirty) {
				atomic_store(&p.zone->dirty, true);
			}
			reschedule(p.zone);
			pthread_mutex_unlock(&reg.sched_lock);
			pthread_mutex_lock(&reg.done_lock);
			atomic_store(&p.zone->busy, false);
			pthread_cond_broadcast(&reg.pass_done);
			pthread_mutex_unlock(&reg.done_lock);
			/* Until the budget has refilled, or a change is due. */
			double refilled = ms_now() + wait;
			p.wake = stopping ? ms_now() + MAX_SLEEP_MS / 1000.0
			       : refilled < p.change_at ? refilled : p.change_at;
		}
		sleep_until(p.wake);
	}
	urcu_mb_unregister_thread();
	return NULL;
}

/* What start_worker() set up besides the thread. */
static void release_worker_resources(void)
{
	/* Clients keep a pointer but never touch the limiter once freed. */
	ms_ratelimit_free(reg.ratelimit);
	reg.ratelimit = NULL;
	/* Only the worker used it, and it has stopped. */
	ms_http_pool_free(reg.http_pool);
	reg.http_pool = NULL;
	ms_watch_free(reg.watch);
	reg.watch = NULL;
	if (reg.wake_fd >= 0) {
		close(reg.wake_fd);
	}
	reg.wake_fd = -1;
	pthread_mutex_lock(&reg.sched_lock);
	ms_heap_free(&reg.routine); /* empty by now: every zone was removed */
	ms_heap_free(&reg.change);
	reg.sched_count = 0;
	reg.demand = 0;
	pthread_mutex_unlock(&reg.sched_lock);
}

static uint32_t budget_of(const ms_zone_t *z)
{
	return z->settings.api_budget != 0 ? z->settings.api_budget : MS_DEFAULT_API_BUDGET;
}

static ms_ratelimit_config_t budget_config(uint32_t budget)
{
	return (ms_ratelimit_config_t){ .budget = budget, .window_s = MS_RATELIMIT_DEFAULT_WINDOW };
}

/* One budget per process: the zone loaded last says what it is, so that a
 * changed api-budget applies with the next reload. */
static void apply_budget(ms_zone_t *z)
{
	uint32_t budget = budget_of(z);
	if (budget == reg.budget) {
		return;
	}
	ms_ratelimit_config_t cfg = budget_config(budget);
	ms_err_t err = { 0 };
	if (ms_ratelimit_reconfigure(reg.ratelimit, &cfg, (uint64_t)(ms_now() * 1000), &err)
	    != MS_OK) {
		ms_zone_log(z, LOG_WARNING, "api-budget %u: %s; keeping %u", budget, err.msg,
		            reg.budget);
		return;
	}
	ms_zone_log(z, LOG_INFO, "API request budget of this server is now %u requests "
	            "per 5 minutes (was %u); every zone shares it", budget, reg.budget);
	reg.budget = budget;
}

static ms_rc_t start_worker(ms_pass_fn pass, const ms_zone_t *first, ms_err_t *err)
{
	reg.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (reg.wake_fd < 0) {
		return ms_err_set(err, MS_EIO, "eventfd: %s", strerror(errno));
	}
	ms_err_t watch_err = { 0 };
	if (ms_watch_new(&reg.watch, &watch_err) != MS_OK) {
		reg.watch = NULL; /* periodic checks still work */
	}
	reg.budget = budget_of(first);
	ms_ratelimit_config_t cfg = budget_config(reg.budget);
	ms_rc_t rc = ms_ratelimit_new(&cfg, &reg.ratelimit, err);
	if (rc == MS_OK) {
		rc = ms_http_pool_new(&reg.http_pool, err);
	}
	if (rc != MS_OK) {
		release_worker_resources();
		return rc;
	}
	reg.pass = pass;
	atomic_store(&reg.stop, false);
	reg.stretched = false;
	int ret = pthread_create(&reg.thread, NULL, worker_main, NULL);
	if (ret != 0) {
		release_worker_resources();
		return ms_err_set(err, MS_EIO, "cannot start the worker thread: %s", strerror(ret));
	}
	reg.running = true;
	return MS_OK;
}

static void stop_worker(void)
{
	atomic_store(&reg.stop, true);
	wake_worker();
	pthread_join(reg.thread, NULL);
	release_worker_resources();
	ms_zone_index_free(&reg.by_name); /* empty: every zone was removed */
	reg.running = false;
}

/* ---- registration (writers hold `lifecycle`) ------------------------------- */

static void supersede(ms_zone_t *z, void *newer)
{
	if (z != newer && !atomic_load(&z->superseded)) {
		pthread_mutex_lock(&reg.sched_lock);
		atomic_store(&z->superseded, true);
		atomic_store(&z->abort, true);
		unschedule(z);
		pthread_mutex_unlock(&reg.sched_lock);
	}
}

static void supersede_older(ms_zone_t *newer)
{
	ms_zone_index_each(&reg.by_name, newer->name, supersede, newer);
}

typedef struct {
	const ms_zone_t *gone;
	ms_zone_t *best;
} revive_t;

static void consider_reviving(ms_zone_t *z, void *opaque)
{
	revive_t *r = opaque;
	if (z != r->gone && !atomic_load(&z->removed) &&
	    (r->best == NULL || z->generation > r->best->generation)) {
		r->best = z;
	}
}

/* When the newest instance of a zone goes, the newest remaining one acts. */
static void revive_previous(const ms_zone_t *gone)
{
	revive_t r = { .gone = gone };
	ms_zone_index_each(&reg.by_name, gone->name, consider_reviving, &r);
	if (r.best != NULL) {
		pthread_mutex_lock(&reg.sched_lock);
		atomic_store(&r.best->abort, false);
		atomic_store(&r.best->dirty, true);
		atomic_store(&r.best->superseded, false);
		reschedule(r.best);
		pthread_mutex_unlock(&reg.sched_lock);
	}
}

static void unlink_zone(ms_zone_t *zone)
{
	cds_list_del_rcu(&zone->link);
	ms_zone_index_remove(&reg.by_name, zone);
	atomic_fetch_sub(&reg.count, 1);
}

ms_rc_t ms_registry_add(ms_zone_t *zone, ms_pass_fn pass, ms_err_t *err)
{
	pthread_mutex_lock(&reg.lifecycle);
	ms_rc_t rc = reg.running ? MS_OK : start_worker(pass, zone, err);
	if (rc == MS_OK) {
		rc = ms_zone_index_add(&reg.by_name, zone, err);
		if (rc != MS_OK && atomic_load(&reg.count) == 0) {
			stop_worker(); /* started for this zone alone */
		}
	}
	if (rc == MS_OK) {
		apply_budget(zone);
		zone->registered = true;
		zone->generation = ++reg.generation;
		zone->ratelimit = reg.ratelimit;
		zone->http_pool = reg.http_pool;
		zone->phase = ms_sched_phase(zone->name);
		/* The first check is a routine one, due at once: it goes before
		 * later routine checks but after changes of zones already running
		 * (10,000 zones loading must not hold up a rollover step). */
		zone->due = ms_now();
		zone->checked = false;
		zone->followup = 0;
		atomic_store(&zone->dirty, false);
		atomic_store(&zone->busy, false);
		atomic_store(&zone->removed, false);
		atomic_store(&zone->superseded, false);
		zone->heap_pos[0] = zone->heap_pos[1] = MS_HEAP_NONE;
		supersede_older(zone);
		watch_zone(zone, true);
		cds_list_add_rcu(&zone->link, &reg.zones); /* published complete */
		pthread_mutex_lock(&reg.sched_lock);
		heaps_init();
		reschedule(zone);
		pthread_mutex_unlock(&reg.sched_lock);
		atomic_fetch_add(&reg.count, 1);
		wake_worker();
	}
	pthread_mutex_unlock(&reg.lifecycle);
	return rc;
}

void ms_registry_remove(ms_zone_t *zone)
{
	if (!zone->registered) {
		return; /* never added (refused at load): nothing to undo */
	}
	pthread_mutex_lock(&reg.lifecycle);
	pthread_mutex_lock(&reg.sched_lock);
	atomic_store(&zone->removed, true);
	atomic_store(&zone->abort, true);
	unschedule(zone);
	pthread_mutex_unlock(&reg.sched_lock);
	unlink_zone(zone);
	/* After a grace period no walk of the worker still sees the zone, so
	 * busy can only go from true to false: wait for that (≤ ~100 ms, the
	 * pass checks the abort flag). */
	urcu_mb_synchronize_rcu();
	pthread_mutex_lock(&reg.done_lock);
	while (atomic_load(&zone->busy)) {
		pthread_cond_wait(&reg.pass_done, &reg.done_lock);
	}
	pthread_mutex_unlock(&reg.done_lock);
	watch_zone(zone, false);
	if (!atomic_load(&zone->superseded)) {
		revive_previous(zone);
	}
	zone->registered = false;
	if (atomic_load(&reg.count) == 0 && reg.running) {
		stop_worker();
	} else {
		wake_worker();
	}
	pthread_mutex_unlock(&reg.lifecycle);
}

size_t ms_registry_count(void)
{
	return atomic_load(&reg.count);
}
