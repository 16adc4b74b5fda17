#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#define LINE_MAX_SHOWN 160

static const char *const default_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

typedef struct {
	int fd;
	char *buf;
	size_t len, alloc, cap;
	bool truncated;
} sink_t;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static bool aborted(const atomic_bool *flag)
{
	return flag != NULL && atomic_load(flag);
}

static const char *errstr(int errnum, char *buf, size_t cap)
{
	return strerror_r(errnum, buf, cap); /* GNU variant: thread-safe */
}

void ms_proc_first_line(const char *text, char *buf, size_t cap)
{
	if (cap == 0) {
		return;
	}
	buf[0] = '\0';
	if (text == NULL) {
		return;
	}
	const char *p = text;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		}
		if (*p == '\0') {
			return;
		}
		const char *end = p;
		while (*end != '\0' && *end != '\n') {
			end++;
		}
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r')) {
			last--;
		}
		if (last > p) {
			size_t n = (size_t)(last - p);
			if (n > cap - 1) {
				n = cap - 1;
			}
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];
				buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
			}
			buf[n] = '\0';
			return;
		}
		p = end;
	}
}

/* Pipe whose both ends are close-on-exec and above 2, so that dup2() onto
 * 1 or 2 in the child always makes a fresh, inheritable descriptor; the
 * read end is non-blocking. */
static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0) {
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i] <= 2) {
			int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			int saved = errno;
			close(fds[i]);
			if (moved < 0) {
				close(fds[1 - i]);
				errno = saved;
				return -1;
			}
			fds[i] = moved;
		}
	}
	int fl = fcntl(fds[0], F_GETFL);
	if (fl < 0 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) != 0) {
		int saved = errno;
		close(fds[0]);
		close(fds[1]);
		errno = saved;
		return -1;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Read what is available; closes the sink's fd on EOF or error.
 * Returns false only when memory ran out. */
static bool drain(sink_t *s)
{
	char scratch[4096];
	for (;;) {
		char *dst = scratch;
		size_t room = sizeof(scratch);
		if (!s->truncated && s->len < s->cap) {
			if (s->alloc - s->len < 2) {
				size_t want = s->alloc ? s->alloc * 2 : 4096;
				if (want > s->cap + 1) {
					want = s->cap + 1;
				}
				char *nb = realloc(s->buf, want);
				if (nb == NULL) {
					return false;
				}
				s->buf = nb;
				s->alloc = want;
			}
			dst = s->buf + s->len;
			room = s->alloc - 1 - s->len; /* keep room for NUL */
		}
		ssize_t n = read(s->fd, dst, room);
		if (n > 0) {
			if (dst != scratch) {
				s->len += (size_t)n;
			} else {
				s->truncated = true;
			}
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return true;
		}
		close_fd(&s->fd); /* EOF or error */
		return true;
	}
}

static bool reap_nohang(pid_t pid, int *status, bool *lost)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid) {
			return true;
		}
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) { /* ECHILD: someone else reaped it */
			*lost = true;
			return true;
		}
		return false;
	}
}

/* SIGTERM to the child's process group, SIGKILL after a grace period;
 * always reaps. */
static void kill_and_reap(pid_t pid, int *status, bool *lost)
{
	if (kill(-pid, SIGTERM) != 0) {
		kill(pid, SIGTERM);
	}
	long until = now_ms() + MS_PROC_TERM_GRACE_MS;
	do {
		if (reap_nohang(pid, status, lost)) {
			return;
		}
		sleep_ms(2);
	} while (now_ms() < until);
	if (kill(-pid, SIGKILL) != 0) {
		kill(pid, SIGKILL);
	}
	for (;;) {
		pid_t r = waitpid(pid, status, 0);
		if (r == pid) {
			return;
		}
		if (r < 0 && errno == EINTR) {
			continue;
		}
		*lost = true;
		return;
	}
}

void ms_proc_result_free(ms_proc_result_t *res)
{
	if (res == NULL) {
		return;
	}
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

static char *take(sink_t *s)
{
	if (s->buf == NULL) {
		s->buf = malloc(1);
		if (s->buf == NULL) {
			return NULL;
		}
	}
	s->buf[s->len] = '\0';
	char *b = s->buf;
	s->buf = NULL;
	return b;
}

ms_rc_t ms_proc_run(const ms_proc_opts_t *opts, ms_proc_result_t *res, ms_err_t *err)
{
	if (res == NULL) {
		return ms_err_set(err, MS_EINVAL, "ms_proc_run: no result buffer");
	}
	memset(res, 0, sizeof(*res));
	if (opts == NULL || opts->argv == NULL || opts->argv[0] == NULL || opts->argv[0][0] == '\0') {
		return ms_err_set(err, MS_EINVAL, "ms_proc_run: no program to run");
	}
	const char *label = opts->label ? opts->label : opts->argv[0];
	int timeout = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	char ebuf[128];

	sink_t out = { .fd = -1, .cap = opts->out_cap ? opts->out_cap : MS_PROC_OUT_CAP_DEFAULT };
	sink_t er = { .fd = -1, .cap = opts->err_cap ? opts->err_cap : MS_PROC_ERR_CAP_DEFAULT };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };

	if (aborted(opts->abort)) {
		return ms_err_set(err, MS_EABORTED, "%s was not started: shutting down", label);
	}
	if (make_pipe(outp) != 0 || make_pipe(errp) != 0) {
		int e = errno;
		close_fd(&outp[0]);
		close_fd(&outp[1]);
		return ms_err_set(err, MS_EIO, "cannot run %s: pipe: %s", label, errstr(e, ebuf, sizeof(ebuf)));
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* knotd may hold descriptors without close-on-exec: keep them. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	sigset_t mask, def;
	sigemptyset(&mask);
	sigemptyset(&def);
	const int defaults[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
	                         SIGALRM, SIGCHLD, SIGXFSZ };
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		sigaddset(&def, defaults[i]);
	}
	posix_spawnattr_setsigmask(&at, &mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                              POSIX_SPAWN_SETPGROUP);

	const char *const *envp = opts->envp ? opts->envp : default_env;
	pid_t pid = -1;
	long start = now_ms();
	int se;
	if (strchr(opts->argv[0], '/') != NULL) {
		se = posix_spawn(&pid, opts->argv[0], &fa, &at, (char *const *)opts->argv,
		                 (char *const *)envp);
	} else {
		se = posix_spawnp(&pid, opts->argv[0], &fa, &at, (char *const *)opts->argv,
		                  (char *const *)envp);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	if (se != 0) {
		close_fd(&outp[0]);
		close_fd(&errp[0]);
		return ms_err_set(err, MS_EIO, "cannot run %s: %s: %s", label, opts->argv[0],
		                  errstr(se, ebuf, sizeof(ebuf)));
	}
	out.fd = outp[0];
	er.fd = errp[0];

	long deadline = start + timeout;
	int status = 0;
	bool reaped = false, lost = false, nomem = false;
	ms_rc_t why = MS_OK;
	while (!reaped) {
		if (aborted(opts->abort)) {
			why = MS_EABORTED;
			break;
		}
		long now = now_ms();
		if (now >= deadline) {
			why = MS_ETIMEOUT;
			break;
		}
		long wait = deadline - now;
		if (wait > MS_PROC_SLICE_MS) {
			wait = MS_PROC_SLICE_MS;
		}
		if (out.fd >= 0 || er.fd >= 0) {
			struct pollfd p[2];
			sink_t *who[2];
			nfds_t n = 0;
			if (out.fd >= 0) {
				p[n] = (struct pollfd){ .fd = out.fd, .events = POLLIN };
				who[n++] = &out;
			}
			if (er.fd >= 0) {
				p[n] = (struct pollfd){ .fd = er.fd, .events = POLLIN };
				who[n++] = &er;
			}
			int r = poll(p, n, (int)wait);
			if (r < 0 && errno != EINTR) {
				why = MS_EIO;
				break;
			}
			for (nfds_t i = 0; r > 0 && i < n; i++) {
				if (p[i].revents != 0 && !drain(who[i])) {
					nomem = true;
				}
			}
			if (nomem) {
				why = MS_ENOMEM;
				break;
			}
		} else {
			/* Both pipes closed: the child is exiting (or closed them and
			 * goes on, which the deadline covers). Only now may it be
			 * reaped: until then its pid still names its process group. */
			if (reap_nohang(pid, &status, &lost)) {
				reaped = true;
			} else {
				sleep_ms(wait < 2 ? wait : 2);
			}
		}
	}
	if (!reaped) {
		kill_and_reap(pid, &status, &lost);
		res->killed = true;
	}
	close_fd(&out.fd);
	close_fd(&er.fd);
	res->elapsed_ms = now_ms() - start;
	res->out_len = out.len;
	res->out_truncated = out.truncated;
	res->err_len = er.len;
	res->err_truncated = er.truncated;
	res->out = take(&out);
	res->err = take(&er);
	free(out.buf);
	free(er.buf);
	if (res->out == NULL || res->err == NULL) {
		ms_proc_result_free(res);
		return ms_err_set(err, MS_ENOMEM, "%s: out of memory capturing its output", label);
	}
	if (!lost) {
		if (WIFEXITED(status)) {
			res->exited = true;
			res->exit_code = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			res->term_signal = WTERMSIG(status);
		}
	}

	switch (why) {
	case MS_EABORTED:
		return ms_err_set(err, MS_EABORTED, "%s was stopped: shutting down", label);
	case MS_ETIMEOUT:
		return ms_err_set(err, MS_ETIMEOUT, "%s did not finish within %d ms and was stopped",
		                  label, timeout);
	case MS_ENOMEM:
		return ms_err_set(err, MS_ENOMEM, "%s: out of memory capturing its output", label);
	case MS_EIO:
		return ms_err_set(err, MS_EIO, "%s: waiting for its output failed", label);
	default:
		break;
	}

	char line[LINE_MAX_SHOWN + 1];
	ms_proc_first_line(res->err, line, sizeof(line));
	if (line[0] == '\0') {
		ms_proc_first_line(res->out, line, sizeof(line));
	}
	if (lost) {
		return ms_err_set(err, MS_EIO, "%s: its exit status was lost (is SIGCHLD ignored?)", label);
	}
	if (!res->exited) {
		return ms_err_set(err, MS_EIO, "%s failed (killed by signal %d)%s%s", label,
		                  res->term_signal, line[0] ? ": " : "", line);
	}
	if (res->exit_code == 127 && res->out_len == 0 && res->err_len == 0) {
		/* posix_spawn reports exec failures itself, except where the child
		 * cannot share memory with us (valgrind): then it exits 127. */
		return ms_err_set(err, MS_EIO, "cannot run %s: %s exited with 127 (not found or "
		                  "not executable?)", label, opts->argv[0]);
	}
	if (res->exit_code != 0) {
		return ms_err_set(err, MS_EIO, "%s failed (exit %d): %s", label, res->exit_code,
		                  line[0] ? line : "no error output");
	}
	if (res->out_truncated) {
		return ms_err_set(err, MS_ETOOBIG, "%s wrote more than %zu bytes of output; "
		                  "it was not used", label, out.cap);
	}
	return MS_OK;
}
