/*
 * Run one external program (keymgr, knotc) from a thread of a multithreaded
 * process (knotd) and wait for it, without ever blocking longer than asked.
 *
 * - The program runs with a FIXED argv through posix_spawn, never a shell.
 * - stdin is /dev/null; stdout and stderr are captured into capped buffers.
 * - The child gets no descriptor of ours besides 0, 1, 2 (close-on-exec pipes
 *   plus closefrom(3) in the child), default signal dispositions, an empty
 *   signal mask, its own process group and a small fixed environment.
 * - On timeout or abort the child's process group gets SIGTERM, then SIGKILL
 *   after a short grace, and the child is always reaped: no zombie is left.
 * - The abort flag is checked at least every MS_PROC_SLICE_MS.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define MS_PROC_SLICE_MS        50            /* abort/deadline check period */
#define MS_PROC_TERM_GRACE_MS   100           /* SIGTERM -> SIGKILL */
#define MS_PROC_OUT_CAP_DEFAULT (1024 * 1024) /* 1 MiB of stdout */
#define MS_PROC_ERR_CAP_DEFAULT (64 * 1024)   /* 64 KiB of stderr */

typedef struct {
	/* argv[0] is the program: a path with a '/' is used as is, a bare name
	 * is looked up in the calling process's PATH. NULL-terminated. */
	const char *const *argv;
	/* What the error messages call the command ("keymgr example.com.
	 * import-pub"); argv[0] when NULL. */
	const char *label;
	/* Whole run, spawn to reap; <= 0 means 10 s. */
	int timeout_ms;
	/* When it becomes true the child is killed and MS_EABORTED returned. */
	const atomic_bool *abort;
	/* Output caps; 0 means the defaults above. What exceeds a cap is read
	 * and dropped, so the child never blocks on a full pipe. */
	size_t out_cap;
	size_t err_cap;
	/* Environment of the child; NULL means "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
	 * and "LC_ALL=C" (stable messages to parse and report). */
	const char *const *envp;
} ms_proc_opts_t;

typedef struct {
	char *out;          /* NUL-terminated stdout (never NULL after a run) */
	size_t out_len;
	bool out_truncated; /* more than out_cap was written */
	char *err;          /* NUL-terminated stderr */
	size_t err_len;
	bool err_truncated;
	bool exited;        /* exited normally: exit_code is valid */
	int exit_code;
	int term_signal;    /* signal that ended it, 0 if none */
	bool killed;        /* we killed it (timeout or abort) */
	long elapsed_ms;
} ms_proc_result_t;

/*
 * Run the program and wait for it. res is always initialised (free it with
 * ms_proc_result_free, also after an error) and holds what was captured.
 *
 * MS_OK        exited with status 0 and stdout fit its cap
 * MS_EIO       could not be started, or exited non-zero, or was killed by a
 *              signal: "<label> failed (exit 1): <first line of stderr, or
 *              of stdout when stderr is empty>"
 * MS_ETOOBIG   exited 0 but stdout exceeded out_cap
 * MS_ETIMEOUT  killed after timeout_ms
 * MS_EABORTED  killed because *abort became true
 * MS_EINVAL    bad options; MS_ENOMEM
 */
ms_rc_t ms_proc_run(const ms_proc_opts_t *opts, ms_proc_result_t *res, ms_err_t *err);

void ms_proc_result_free(ms_proc_result_t *res);

/* First non-empty line of text, trimmed, control characters replaced by
 * '?', at most cap-1 characters ("" when there is none). For messages. */
void ms_proc_first_line(const char *text, char *buf, size_t cap);
