#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "watch.h"

typedef struct {
	int wd;
	unsigned refs;
	char *dir;
} watched_dir_t;

struct ms_watch {
	int fd;
	watched_dir_t *dirs;
	size_t count, cap;
};

#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY)

ms_rc_t ms_watch_new(ms_watch_t **out, ms_err_t *err)
{
	ms_watch_t *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return ms_err_set(err, MS_EIO, "inotify: %s (changes are then noticed by the "
		                  "periodic check only)", strerror(errno));
	}
	*out = w;
	return MS_OK;
}

void ms_watch_free(ms_watch_t *w)
{
	if (w == NULL) {
		return;
	}
	for (size_t i = 0; i < w->count; i++) {
		free(w->dirs[i].dir);
	}
	free(w->dirs);
	close(w->fd);
	free(w);
}

int ms_watch_fd(const ms_watch_t *w)
{
	return w->fd;
}

static watched_dir_t *find_dir(ms_watch_t *w, const char *dir)
{
	for (size_t i = 0; i < w->count; i++) {
		if (strcmp(w->dirs[i].dir, dir) == 0) {
			return &w->dirs[i];
		}
	}
	return NULL;
}

static const char *dir_of_wd(const ms_watch_t *w, int wd)
{
	for (size_t i = 0; i < w->count; i++) {
		if (w->dirs[i].wd == wd) {
			return w->dirs[i].dir;
		}
	}
	return NULL;
}

static ms_rc_t grow(ms_watch_t *w, ms_err_t *err)
{
	if (w->count < w->cap) {
		return MS_OK;
	}
	size_t cap = w->cap ? w->cap * 2 : 8;
	watched_dir_t *dirs = realloc(w->dirs, cap * sizeof(*dirs));
	if (dirs == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	w->dirs = dirs;
	w->cap = cap;
	return MS_OK;
}

ms_rc_t ms_watch_add_dir(ms_watch_t *w, const char *dir, ms_err_t *err)
{
	watched_dir_t *known = find_dir(w, dir);
	if (known != NULL) {
		known->refs++;
		return MS_OK;
	}
	ms_rc_t rc = grow(w, err);
	if (rc != MS_OK) {
		return rc;
	}
	int wd = inotify_add_watch(w->fd, dir, WATCH_EVENTS | IN_ONLYDIR);
	if (wd < 0) {
		return ms_err_set(err, MS_EIO, "cannot watch '%s': %s", dir, strerror(errno));
	}
	char *copy = strdup(dir);
	if (copy == NULL) {
		inotify_rm_watch(w->fd, wd);
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	w->dirs[w->count++] = (watched_dir_t){ .wd = wd, .refs = 1, .dir = copy };
	return MS_OK;
}

void ms_watch_remove_dir(ms_watch_t *w, const char *dir)
{
	watched_dir_t *d = find_dir(w, dir);
	if (d == NULL || --d->refs > 0) {
		return;
	}
	inotify_rm_watch(w->fd, d->wd);
	free(d->dir);
	*d = w->dirs[--w->count];
}

void ms_watch_drain(ms_watch_t *w, ms_watch_cb cb, void *opaque)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n <= 0) {
			return; /* EAGAIN: drained */
		}
		for (char *p = buf; p < buf + n; ) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			const char *dir = dir_of_wd(w, ev->wd);
			if (dir != NULL && ev->len > 0) {
				cb(opaque, dir, ev->name);
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}
