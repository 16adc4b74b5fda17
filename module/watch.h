/*
 * inotify adapter: tells the worker, without polling, that a file in a
 * watched directory was written or replaced. knotd rewrites a zone's file
 * (temporary file + rename) after every change when zonefile-sync is 0, and
 * writes its key database on every key event; either is our cue to look.
 */
#pragma once

#include <stddef.h>

#include "error.h"

typedef struct ms_watch ms_watch_t;

/* Called for each event: the watched directory and the file name in it. */
typedef void (*ms_watch_cb)(void *opaque, const char *dir, const char *name);

ms_rc_t ms_watch_new(ms_watch_t **out, ms_err_t *err);
void ms_watch_free(ms_watch_t *w);

/* File descriptor to poll for POLLIN. */
int ms_watch_fd(const ms_watch_t *w);

/* Watch a directory; counted, so several zones can share one. */
ms_rc_t ms_watch_add_dir(ms_watch_t *w, const char *dir, ms_err_t *err);
void ms_watch_remove_dir(ms_watch_t *w, const char *dir);

/* Read all pending events without blocking. */
void ms_watch_drain(ms_watch_t *w, ms_watch_cb cb, void *opaque);
