#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

/* Stop the compiler from dropping the wipe of memory about to be freed. */
static void wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;
	while (len-- > 0) {
		*v++ = 0;
	}
}

void ms_secret_free(char *secret)
{
	if (secret != NULL) {
		wipe(secret, strlen(secret));
		free(secret);
	}
}

static ms_rc_t check_mode(const char *path, const struct stat *st, ms_err_t *err)
{
	if (!S_ISREG(st->st_mode)) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a regular file", path);
	}
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		return ms_err_set(err, MS_EINVAL,
		                  "'%s' is accessible by group or others (mode %04o): "
		                  "chmod 600 it and chown it to the user knotd runs as",
		                  path, (unsigned)(st->st_mode & 07777));
	}
	return MS_OK;
}

/* Drop leading and trailing white space in place; returns the new start. */
static char *trim(char *s, size_t *len)
{
	while (*len > 0 && strchr(" \t\r\n", s[*len - 1]) != NULL) {
		s[--*len] = '\0';
	}
	while (*s != '\0' && strchr(" \t\r\n", *s) != NULL) {
		s++;
		(*len)--;
	}
	return s;
}

static ms_rc_t read_all(int fd, const char *path, char *buf, size_t cap, size_t *len,
                        ms_err_t *err)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return ms_err_set(err, MS_EIO, "cannot read '%s': %s", path, strerror(errno));
		}
		if (n == 0) {
			return MS_OK;
		}
		*len += (size_t)n;
		if (*len == cap) {
			return ms_err_set(err, MS_ETOOBIG, "'%s' is larger than %d bytes: "
			                  "it must hold only the secret", path, MS_SECRET_MAX);
		}
	}
}

static ms_rc_t copy_secret(const char *path, char *s, size_t len, char **secret, ms_err_t *err)
{
	if (len == 0) {
		return ms_err_set(err, MS_EINVAL, "'%s' is empty: put the secret on its first line", path);
	}
	if (memchr(s, '\n', len) != NULL || memchr(s, '\0', len) != NULL) {
		return ms_err_set(err, MS_EINVAL, "'%s' must hold the secret on a single line", path);
	}
	*secret = strndup(s, len);
	return *secret ? MS_OK : ms_err_set(err, MS_ENOMEM, "out of memory");
}

ms_rc_t ms_secret_read(const char *path, char **secret, ms_err_t *err)
{
	*secret = NULL;
	/* O_NOFOLLOW: a link could be repointed at another file by whoever owns
	 * it. O_NONBLOCK: opening a FIFO must not wait for a writer (knotd would
	 * hang at start); it is refused below as not a regular file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP) {
		return ms_err_set(err, MS_EINVAL, "'%s' is a symbolic link: name the file itself",
		                  path);
	}
	if (fd < 0) {
		return ms_err_set(err, MS_EIO, "cannot open '%s': %s (is it readable by the user "
		                  "knotd runs as?)", path, strerror(errno));
	}
	struct stat st;
	ms_rc_t rc = (fstat(fd, &st) == 0) ? check_mode(path, &st, err)
	             : ms_err_set(err, MS_EIO, "cannot stat '%s': %s", path, strerror(errno));
	char buf[MS_SECRET_MAX + 1];
	size_t len = 0;
	if (rc == MS_OK) {
		rc = read_all(fd, path, buf, MS_SECRET_MAX, &len, err);
	}
	close(fd);
	if (rc == MS_OK) {
		buf[len] = '\0';
		char *s = trim(buf, &len);
		rc = copy_secret(path, s, len, secret, err);
	}
	wipe(buf, sizeof(buf));
	return rc;
}
