#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

static char *write_file(const char *content, mode_t mode)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/ms-secret-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void reads_trimmed_secret(void **state)
{
	(void)state;
	char *path = write_file("  cfut_abc.DEF-123\n", 0600);
	char *secret = NULL;
	assert_int_equal(ms_secret_read(path, &secret, NULL), MS_OK);
	assert_string_equal(secret, "cfut_abc.DEF-123");
	ms_secret_free(secret);
	unlink(path);
}

static void refuses_group_or_world_access(void **state)
{
	(void)state;
	const mode_t bad[] = { 0640, 0604, 0660, 0620, 0602 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_file("token-value-123\n", bad[i]);
		char *secret = (char *)"sentinel";
		ms_err_t err = { 0 };
		assert_int_equal(ms_secret_read(path, &secret, &err), MS_EINVAL);
		assert_null(secret);
		assert_non_null(strstr(err.msg, "group or others"));
		assert_non_null(strstr(err.msg, "chmod 600"));
		/* The message names the file and never the secret. */
		assert_non_null(strstr(err.msg, path));
		assert_null(strstr(err.msg, "token-value-123"));
		unlink(path);
	}
}

static void refuses_empty(void **state)
{
	(void)state;
	const char *empties[] = { "", "\n", "  \n\t\n" };
	for (size_t i = 0; i < 3; i++) {
		char *path = write_file(empties[i], 0600);
		char *secret = NULL;
		ms_err_t err = { 0 };
		assert_int_equal(ms_secret_read(path, &secret, &err), MS_EINVAL);
		assert_non_null(strstr(err.msg, "empty"));
		unlink(path);
	}
}

static void refuses_multiline_and_missing(void **state)
{
	(void)state;
	char *path = write_file("line1\nline2\n", 0600);
	char *secret = NULL;
	ms_err_t err = { 0 };
	assert_int_equal(ms_secret_read(path, &secret, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "single line"));
	assert_null(strstr(err.msg, "line1"));
	unlink(path);
	assert_int_equal(ms_secret_read(path, &secret, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_int_equal(ms_secret_read("/tmp", &secret, &err), MS_EINVAL);
}

static void refuses_oversized(void **state)
{
	(void)state;
	char *big = malloc(MS_SECRET_MAX + 10);
	memset(big, 'a', MS_SECRET_MAX + 9);
	big[MS_SECRET_MAX + 9] = '\0';
	char *path = write_file(big, 0600);
	free(big);
	char *secret = NULL;
	ms_err_t err = { 0 };
	assert_int_equal(ms_secret_read(path, &secret, &err), MS_ETOOBIG);
	unlink(path);
}

/* A link is refused, with a message that says so (not "too many levels of
 * symbolic links"), even when the file it points to would be fine. */
static void refuses_symlink(void **state)
{
	(void)state;
	char *target = write_file("token-value-123\n", 0600);
	char link[80];
	snprintf(link, sizeof(link), "%s.link", target);
	assert_int_equal(symlink(target, link), 0);
	char *secret = NULL;
	ms_err_t err = { 0 };
	assert_int_equal(ms_secret_read(link, &secret, &err), MS_EINVAL);
	assert_null(secret);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	assert_non_null(strstr(err.msg, link));
	unlink(link);
	unlink(target);
}

/* A FIFO (or any other non-regular file) is refused at once: opening one
 * must not wait for a writer, which would hang knotd's start. The alarm
 * turns such a hang into a failure. */
static void refuses_fifo_without_waiting(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/ms-secret-fifo-%ld", (long)getpid());
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	char *secret = NULL;
	ms_err_t err = { 0 };
	assert_int_equal(ms_secret_read(path, &secret, &err), MS_EINVAL);
	alarm(0);
	assert_null(secret);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_trimmed_secret),
		cmocka_unit_test(refuses_group_or_world_access),
		cmocka_unit_test(refuses_empty),
		cmocka_unit_test(refuses_multiline_and_missing),
		cmocka_unit_test(refuses_oversized),
		cmocka_unit_test(refuses_symlink),
		cmocka_unit_test(refuses_fifo_without_waiting),
	};
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
