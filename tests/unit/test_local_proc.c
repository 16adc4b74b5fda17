/*
 * proc: exit status and messages, output capture and caps, timeout and
 * abort kill the child (and its process group) and reap it, descriptor and
 * signal hygiene, concurrent use from threads, and never a zombie.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Processes (any state, zombies included) whose parent is us, or whose
 * process group is pgid (when pgid > 0), from /proc. */
static int count_procs(pid_t pgid)
{
	DIR *d = opendir("/proc");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9') {
			continue;
		}
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL) {
			continue;
		}
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		char *rp = strrchr(buf, ')'); /* comm may hold spaces */
		if (rp == NULL) {
			continue;
		}
		char state;
		int ppid, pgrp;
		if (sscanf(rp + 2, "%c %d %d", &state, &ppid, &pgrp) != 3) {
			continue;
		}
		if (ppid == getpid() || (pgid > 0 && pgrp == pgid)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static void no_children_left(void)
{
	assert_int_equal(count_procs(0), 0);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static ms_rc_t run(const char *const *argv, int timeout_ms, const atomic_bool *abort_flag,
                   ms_proc_result_t *res, ms_err_t *err)
{
	ms_proc_opts_t o = { .argv = argv, .timeout_ms = timeout_ms, .abort = abort_flag };
	return ms_proc_run(&o, res, err);
}

static void exit_status_and_output(void **state)
{
	(void)state;
	ms_proc_result_t res;
	ms_err_t err = { 0 };
	const char *ok[] = { "/bin/echo", "hello", NULL };
	assert_int_equal(run(ok, 5000, NULL, &res, &err), MS_OK);
	assert_string_equal(res.out, "hello\n");
	assert_int_equal(res.out_len, 6);
	assert_string_equal(res.err, "");
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_false(res.killed);
	ms_proc_result_free(&res);

	const char *fail[] = { "/bin/sh", "-c", "echo out; printf '\\n  error: bad\\tthing \\n"
	                       "second\\n' >&2; exit 3", NULL };
	ms_proc_opts_t o = { .argv = fail, .label = "keymgr example.com. import-pub",
	                     .timeout_ms = 5000 };
	assert_int_equal(ms_proc_run(&o, &res, &err), MS_EIO);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 3);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(err.msg, "keymgr example.com. import-pub failed (exit 3): "
	                             "error: bad?thing");
	ms_proc_result_free(&res);

	/* knotc prints its errors on stdout: used when stderr is empty. */
	const char *so[] = { "/bin/sh", "-c", "echo 'error: [x.] (no such zone found)'; exit 1", NULL };
	assert_int_equal(run(so, 5000, NULL, &res, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "(exit 1): error: [x.] (no such zone found)"));
	ms_proc_result_free(&res);

	const char *quiet[] = { "/bin/false", NULL };
	assert_int_equal(run(quiet, 5000, NULL, &res, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "no error output"));
	ms_proc_result_free(&res);

	/* A bare name is looked up in PATH. */
	const char *bare[] = { "true", NULL };
	assert_int_equal(run(bare, 5000, NULL, &res, &err), MS_OK);
	ms_proc_result_free(&res);

	/* Killed by a signal of its own. */
	const char *sig[] = { "/bin/sh", "-c", "kill -USR1 $$", NULL };
	assert_int_equal(run(sig, 5000, NULL, &res, &err), MS_EIO);
	assert_false(res.exited);
	assert_int_equal(res.term_signal, SIGUSR1);
	assert_non_null(strstr(err.msg, "signal"));
	ms_proc_result_free(&res);
	no_children_left();
}

static void cannot_start(void **state)
{
	(void)state;
	ms_proc_result_t res;
	ms_err_t err = { 0 };
	const char *argv[] = { "/nonexistent/keymgr", "-D", "/x", NULL };
	assert_int_equal(run(argv, 1000, NULL, &res, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "cannot run"));
	assert_non_null(strstr(err.msg, "/nonexistent/keymgr"));
	ms_proc_result_free(&res);
	const char *none[] = { NULL };
	assert_int_equal(run(none, 1000, NULL, &res, &err), MS_EINVAL);
	assert_int_equal(ms_proc_run(NULL, &res, &err), MS_EINVAL);
	no_children_left();
}

static void stdin_is_null(void **state)
{
	(void)state;
	ms_proc_result_t res;
	const char *argv[] = { "/bin/cat", NULL };
	long t0 = now_ms();
	assert_int_equal(run(argv, 5000, NULL, &res, NULL), MS_OK);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(res.out_len, 0);
	ms_proc_result_free(&res);
}

static void output_caps(void **state)
{
	(void)state;
	ms_proc_result_t res;
	ms_err_t err = { 0 };
	/* 3 MB on stdout, 200 kB on stderr: read to the end, kept to the caps. */
	const char *argv[] = { "/bin/sh", "-c",
	                       "head -c 3000000 /dev/zero; head -c 200000 /dev/zero >&2", NULL };
	ms_proc_opts_t o = { .argv = argv, .timeout_ms = 10000, .out_cap = 1000, .err_cap = 10 };
	assert_int_equal(ms_proc_run(&o, &res, &err), MS_ETOOBIG);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.out_len, 1000);
	assert_true(res.out_truncated);
	assert_int_equal(res.err_len, 10);
	assert_true(res.err_truncated);
	assert_non_null(strstr(err.msg, "more than 1000 bytes"));
	ms_proc_result_free(&res);

	/* The default cap is 1 MiB; exactly at the cap is fine. */
	const char *at_cap[] = { "/bin/sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x", NULL };
	assert_int_equal(run(at_cap, 10000, NULL, &res, &err), MS_OK);
	assert_int_equal(res.out_len, MS_PROC_OUT_CAP_DEFAULT);
	assert_false(res.out_truncated);
	assert_int_equal(strlen(res.out), MS_PROC_OUT_CAP_DEFAULT);
	ms_proc_result_free(&res);
	const char *over[] = { "/bin/sh", "-c", "head -c 1048577 /dev/zero", NULL };
	assert_int_equal(run(over, 10000, NULL, &res, &err), MS_ETOOBIG);
	ms_proc_result_free(&res);
	no_children_left();
}

static void timeout_kills_and_reaps(void **state)
{
	(void)state;
	ms_proc_result_t res;
	ms_err_t err = { 0 };
	const char *argv[] = { "/bin/sleep", "30", NULL };
	long t0 = now_ms();
	assert_int_equal(run(argv, 200, NULL, &res, &err), MS_ETIMEOUT);
	long took = now_ms() - t0;
	assert_true(took >= 195 && took < 200 + MS_PROC_TERM_GRACE_MS + 300);
	assert_true(res.killed);
	assert_false(res.exited);
	assert_int_equal(res.term_signal, SIGTERM);
	assert_non_null(strstr(err.msg, "did not finish within 200 ms"));
	ms_proc_result_free(&res);
	no_children_left();

	/* SIGTERM ignored, and a grandchild in the same process group: SIGKILL
	 * to the group after the grace period takes both. */
	const char *stubborn[] = { "/bin/sh", "-c",
	                           "trap '' TERM; echo $$; sleep 30 & sleep 30; wait", NULL };
	t0 = now_ms();
	assert_int_equal(run(stubborn, 300, NULL, &res, &err), MS_ETIMEOUT);
	took = now_ms() - t0;
	assert_true(took < 300 + MS_PROC_TERM_GRACE_MS + 500);
	assert_int_equal(res.term_signal, SIGKILL);
	pid_t pgid = (pid_t)atoi(res.out);
	assert_true(pgid > 0);
	ms_proc_result_free(&res);
	/* SIGKILL is delivered to the group at once, but the kernel may take a
	 * moment to tear the grandchildren down: bounded wait. */
	long until = now_ms() + 2000;
	while (count_procs(pgid) > 0 && now_ms() < until) {
		usleep(10000);
	}
	assert_int_equal(count_procs(pgid), 0);
	no_children_left();
}

typedef struct {
	atomic_bool *flag;
	int after_ms;
	long set_at;
} setter_t;

static void *set_later(void *arg)
{
	setter_t *s = arg;
	usleep((useconds_t)s->after_ms * 1000);
	s->set_at = now_ms();
	atomic_store(s->flag, true);
	return NULL;
}

static void abort_within_100ms(void **state)
{
	(void)state;
	ms_proc_result_t res;
	ms_err_t err = { 0 };
	atomic_bool flag = false;
	const char *argv[] = { "/bin/sleep", "30", NULL };
	setter_t st = { &flag, 200, 0 };
	pthread_t th;
	pthread_create(&th, NULL, set_later, &st);
	assert_int_equal(run(argv, 30000, &flag, &res, &err), MS_EABORTED);
	long done = now_ms();
	pthread_join(th, NULL);
	assert_true(done - st.set_at < 100);
	assert_true(res.killed);
	assert_non_null(strstr(err.msg, "shutting down"));
	ms_proc_result_free(&res);
	no_children_left();

	/* Already set: not even started. */
	assert_int_equal(run(argv, 30000, &flag, &res, &err), MS_EABORTED);
	assert_false(res.killed);
	ms_proc_result_free(&res);
	no_children_left();
}

static void descriptor_hygiene(void **state)
{
	(void)state;
	/* A descriptor of ours without close-on-exec must not reach the child. */
	int leak = 57; /* far above what sh opens for itself */
	int tmp = open("/dev/null", O_RDONLY);
	assert_int_equal(dup2(tmp, leak), leak);
	close(tmp);
	ms_proc_result_t res;
	const char *argv[] = { "/bin/sh", "-c", "cd /proc/self/fd && echo *", NULL };
	assert_int_equal(run(argv, 5000, NULL, &res, NULL), MS_OK);
	/* sh itself may hold one descriptor of its own (for the cd); ours never. */
	char want[16];
	snprintf(want, sizeof(want), " %d", leak);
	assert_null(strstr(res.out, want));
	assert_int_equal(strncmp(res.out, "0 1 2", 5), 0);
	assert_true(strlen(res.out) <= strlen("0 1 2 3\n"));
	ms_proc_result_free(&res);
	close(leak);

	/* Also with stdin/stdout/stderr of the caller closed (a daemon). */
	int saved0 = dup(0), saved1 = dup(1), saved2 = dup(2);
	close(0);
	close(1);
	close(2);
	const char *echo[] = { "/bin/sh", "-c", "echo to-out; echo to-err >&2; cat", NULL };
	ms_rc_t rc = run(echo, 5000, NULL, &res, NULL);
	dup2(saved0, 0);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved0);
	close(saved1);
	close(saved2);
	assert_int_equal(rc, MS_OK);
	assert_string_equal(res.out, "to-out\n");
	assert_string_equal(res.err, "to-err\n");
	ms_proc_result_free(&res);
}

static void signal_hygiene(void **state)
{
	(void)state;
	/* knotd ignores SIGPIPE and its threads block signals; the child gets
	 * defaults, else SIGTERM could not stop it. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	sigset_t block, oldmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &oldmask);

	ms_proc_result_t res;
	const char *pipe_argv[] = { "/bin/sh", "-c", "kill -PIPE $$; echo survived", NULL };
	assert_int_equal(run(pipe_argv, 5000, NULL, &res, NULL), MS_EIO);
	assert_int_equal(res.term_signal, SIGPIPE);
	ms_proc_result_free(&res);

	const char *sleep_argv[] = { "/bin/sleep", "30", NULL };
	long t0 = now_ms();
	assert_int_equal(run(sleep_argv, 100, NULL, &res, NULL), MS_ETIMEOUT);
	assert_int_equal(res.term_signal, SIGTERM); /* not SIGKILL after the grace */
	assert_true(now_ms() - t0 < 100 + MS_PROC_TERM_GRACE_MS);
	ms_proc_result_free(&res);

	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	sigaction(SIGPIPE, &old, NULL);

	/* The environment is the fixed default. */
	setenv("MS_SECRET_TEST", "x", 1);
	const char *env_argv[] = { "/usr/bin/env", NULL };
	assert_int_equal(run(env_argv, 5000, NULL, &res, NULL), MS_OK);
	assert_null(strstr(res.out, "MS_SECRET_TEST"));
	assert_non_null(strstr(res.out, "LC_ALL=C"));
	ms_proc_result_free(&res);
	unsetenv("MS_SECRET_TEST");
	no_children_left();
}

static void *worker(void *arg)
{
	long *failures = arg;
	for (int i = 0; i < 10; i++) {
		ms_proc_result_t res;
		char word[32];
		snprintf(word, sizeof(word), "w%lx-%d", (unsigned long)pthread_self(), i);
		const char *argv[] = { "/bin/echo", word, NULL };
		ms_proc_opts_t o = { .argv = argv, .timeout_ms = 10000 };
		if (ms_proc_run(&o, &res, NULL) != MS_OK || strncmp(res.out, word, strlen(word)) != 0) {
			(*failures)++;
		}
		ms_proc_result_free(&res);
	}
	return NULL;
}

static void concurrent_threads(void **state)
{
	(void)state;
	pthread_t th[8];
	long failures[8] = { 0 };
	for (int i = 0; i < 8; i++) {
		pthread_create(&th[i], NULL, worker, &failures[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(failures[i], 0);
	}
	no_children_left();
}

static void first_line(void **state)
{
	(void)state;
	char buf[16];
	ms_proc_first_line("\n\n  \t\nhello world\nnext", buf, sizeof(buf));
	assert_string_equal(buf, "hello world");
	ms_proc_first_line("a very long line that goes on", buf, sizeof(buf));
	assert_string_equal(buf, "a very long lin");
	ms_proc_first_line("bell\a\r\n", buf, sizeof(buf));
	assert_string_equal(buf, "bell?");
	ms_proc_first_line("", buf, sizeof(buf));
	assert_string_equal(buf, "");
	ms_proc_first_line(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_status_and_output),
		cmocka_unit_test(cannot_start),
		cmocka_unit_test(stdin_is_null),
		cmocka_unit_test(output_caps),
		cmocka_unit_test(timeout_kills_and_reaps),
		cmocka_unit_test(abort_within_100ms),
		cmocka_unit_test(descriptor_hygiene),
		cmocka_unit_test(signal_hygiene),
		cmocka_unit_test(concurrent_threads),
		cmocka_unit_test(first_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
