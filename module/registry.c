#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "registry.h"
#include "watch.h"

#define MAX_SLEEP_MS 60000

/* The module's only global mutable state (see registry.h). `lifecycle`
 * serialises add/remove, including starting and joining the worker; `lock`
 * guards the zone list and is never held across a pass or a wait. */
static struct {
	pthread_mutex_t lifecycle;
	pthread_mutex_t lock;
	pthread_cond_t pass_done;
	ms_zone_t *zones;
	size_t count;
	uint64_t generation;
	ms_pass_fn pass;
	ms_ratelimit_t *ratelimit; /* the API request budget all zones share */
	uint32_t budget;           /* its api-budget, requests per 5 minutes */
	ms_watch_t *watch;
	int wake_fd;
	bool running;
	bool stop;
	pthread_t thread;
} reg = {
	.lifecycle = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.pass_done = PTHREAD_COND_INITIALIZER,
	.wake_fd = -1,
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
	snprintf(dir, MS_PATH_MAX, "%s", z->env.zone_file);
	char *slash = strrchr(dir, '/');
	if (slash != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
	} else {
		dir[0] = '\0';
	}
}

static const char *zone_file_base(const ms_zone_t *z)
{
	const char *slash = strrchr(z->env.zone_file, '/');
	return slash ? slash + 1 : z->env.zone_file;
}

/* Zone file flushes name the zone; the key database is the fallback when
 * knotd does not flush (zonefile-sync other than 0) or the path is unknown. */
static bool watches_kasp(const ms_zone_t *z)
{
	return z->env.zone_file[0] == '\0' || z->env.zonefile_sync != 0;
}

static void watch_zone(ms_zone_t *z, bool add)
{
	if (reg.watch == NULL) {
		return;
	}
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
			ms_zone_log(z, 4 /* LOG_WARNING */, "%s; local changes are noticed by "
			            "the periodic check only", err.msg);
		}
	}
}

static void on_file_event(void *opaque, const char *dir, const char *name)
{
	(void)opaque;
	for (ms_zone_t *z = reg.zones; z != NULL; z = z->next) {
		char zdir[MS_PATH_MAX];
		zone_file_dir(z, zdir);
		bool zone_file = strcmp(zdir, dir) == 0 && strcmp(zone_file_base(z), name) == 0;
		bool kasp = watches_kasp(z) && strcmp(z->env.kasp_db, dir) == 0;
		if (zone_file || kasp) {
			z->dirty = true;
		}
	}
}

/* ---- the worker ------------------------------------------------------------ */

static bool runnable(const ms_zone_t *z)
{
	return !z->busy && !z->superseded && !z->removed;
}

/* Changes first, then the zone whose routine check is most overdue. */
static ms_zone_t *pick(double now, double *next_due)
{
	ms_zone_t *best = NULL;
	*next_due = now + MAX_SLEEP_MS / 1000.0;
	for (ms_zone_t *z = reg.zones; z != NULL; z = z->next) {
		if (!runnable(z)) {
			continue;
		}
		if (z->dirty) {
			return z;
		}
		if (z->due <= now && (best == NULL || z->due < best->due)) {
			best = z;
		}
		if (z->due < *next_due) {
			*next_due = z->due;
		}
	}
	return best;
}

static void run_pass(ms_zone_t *z)
{
	z->busy = true;
	z->dirty = false;
	pthread_mutex_unlock(&reg.lock);
	double due = reg.pass(z, ms_now());
	pthread_mutex_lock(&reg.lock);
	z->busy = false;
	z->due = due;
	pthread_cond_broadcast(&reg.pass_done);
}

static void sleep_until(double next_due)
{
	double wait = (next_due - ms_now()) * 1000.0;
	int timeout = wait <= 0 ? 0 : (wait > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)wait + 1);
	struct pollfd fds[2] = {
		{ .fd = reg.wake_fd, .events = POLLIN },
		{ .fd = reg.watch ? ms_watch_fd(reg.watch) : -1, .events = POLLIN },
	};
	pthread_mutex_unlock(&reg.lock);
	int n = poll(fds, 2, timeout);
	pthread_mutex_lock(&reg.lock);
	if (n > 0 && (fds[0].revents & POLLIN)) {
		uint64_t v;
		if (read(reg.wake_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: someone else drained it. */
		}
	}
	if (n > 0 && (fds[1].revents & POLLIN)) {
		ms_watch_drain(reg.watch, on_file_event, NULL);
	}
}

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reg.lock);
	while (!reg.stop) {
		double next_due;
		ms_zone_t *z = pick(ms_now(), &next_due);
		if (z != NULL) {
			run_pass(z);
		} else {
			sleep_until(next_due);
		}
	}
	pthread_mutex_unlock(&reg.lock);
	return NULL;
}

/* What start_worker() set up besides the thread. */
static void release_worker_resources(void)
{
	/* Clients keep a pointer but never touch the limiter once freed. */
	ms_ratelimit_free(reg.ratelimit);
	reg.ratelimit = NULL;
	ms_watch_free(reg.watch);
	reg.watch = NULL;
	if (reg.wake_fd >= 0) {
		close(reg.wake_fd);
	}
	reg.wake_fd = -1;
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
	if (rc != MS_OK) {
		release_worker_resources();
		return rc;
	}
	reg.pass = pass;
	reg.stop = false;
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
	pthread_mutex_lock(&reg.lock);
	reg.stop = true;
	for (ms_zone_t *z = reg.zones; z != NULL; z = z->next) {
		atomic_store(&z->abort, true);
	}
	pthread_mutex_unlock(&reg.lock);
	wake_worker();
	pthread_join(reg.thread, NULL);
	release_worker_resources();
	reg.running = false;
}

/* ---- registration ---------------------------------------------------------- */

static void supersede_older(ms_zone_t *newer)
{
	for (ms_zone_t *z = reg.zones; z != NULL; z = z->next) {
		if (z != newer && strcmp(z->name, newer->name) == 0 && !z->superseded) {
			z->superseded = true;
			atomic_store(&z->abort, true);
		}
	}
}

/* When the newest instance of a zone goes, the newest remaining one acts. */
static void revive_previous(const ms_zone_t *gone)
{
	ms_zone_t *best = NULL;
	for (ms_zone_t *z = reg.zones; z != NULL; z = z->next) {
		if (z != gone && !z->removed && strcmp(z->name, gone->name) == 0 &&
		    (best == NULL || z->generation > best->generation)) {
			best = z;
		}
	}
	if (best != NULL) {
		best->superseded = false;
		atomic_store(&best->abort, false);
		best->dirty = true;
	}
}

static void unlink_zone(ms_zone_t *zone)
{
	for (ms_zone_t **pp = &reg.zones; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == zone) {
			*pp = zone->next;
			reg.count--;
			return;
		}
	}
}

ms_rc_t ms_registry_add(ms_zone_t *zone, ms_pass_fn pass, ms_err_t *err)
{
	pthread_mutex_lock(&reg.lifecycle);
	ms_rc_t rc = reg.running ? MS_OK : start_worker(pass, zone, err);
	if (rc == MS_OK) {
		apply_budget(zone);
		pthread_mutex_lock(&reg.lock);
		zone->registered = true;
		zone->generation = ++reg.generation;
		zone->ratelimit = reg.ratelimit;
		zone->dirty = true;
		zone->due = ms_now();
		zone->next = reg.zones;
		reg.zones = zone;
		reg.count++;
		supersede_older(zone);
		watch_zone(zone, true);
		pthread_mutex_unlock(&reg.lock);
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
	pthread_mutex_lock(&reg.lock);
	zone->removed = true;
	atomic_store(&zone->abort, true);
	while (zone->busy) {
		pthread_cond_wait(&reg.pass_done, &reg.lock);
	}
	watch_zone(zone, false);
	unlink_zone(zone);
	if (!zone->superseded) {
		revive_previous(zone);
	}
	bool last = (reg.count == 0);
	zone->registered = false;
	pthread_mutex_unlock(&reg.lock);
	if (last && reg.running) {
		stop_worker();
	} else {
		wake_worker();
	}
	pthread_mutex_unlock(&reg.lifecycle);
}

size_t ms_registry_count(void)
{
	pthread_mutex_lock(&reg.lock);
	size_t n = reg.count;
	pthread_mutex_unlock(&reg.lock);
	return n;
}
