#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_file.h"

static ms_rc_t io_error(ms_err_t *err, const char *what, const char *path)
{
	return ms_err_set(err, MS_EIO, "%s %s: %s", what, path, strerror(errno));
}

ms_rc_t ms_state_dir_ensure(const char *dir, ms_err_t *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		return io_error(err, "cannot create", dir);
	}
	return MS_OK;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Make the rename itself durable: fsync the directory that holds path. */
static ms_rc_t sync_dir_of(const char *path, ms_err_t *err)
{
	char copy[PATH_MAX];
	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		return ms_err_set(err, MS_EINVAL, "state file path is too long");
	}
	const char *dir = dirname(copy);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return io_error(err, "cannot open directory", dir);
	}
	int rc = fsync(fd);
	int saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return rc == 0 ? MS_OK : io_error(err, "cannot sync directory", dir);
}

/* Write (and with durable, sync) the temporary file; closes fd. */
static ms_rc_t fill_temp(int fd, const char *tmp, const void *data, size_t len, mode_t mode,
                         bool durable, ms_err_t *err)
{
	ms_rc_t rc = MS_OK;
	/* Whatever the umask did: mkstemp gives 0600, the caller may want more. */
	if (fchmod(fd, mode) != 0) {
		rc = io_error(err, "cannot set the mode of", tmp);
	} else if (!write_all(fd, data, len)) {
		rc = io_error(err, "cannot write", tmp);
	} else if (durable && fsync(fd) != 0) {
		rc = io_error(err, "cannot sync", tmp);
	}
	if (close(fd) != 0 && rc == MS_OK) {
		rc = io_error(err, "cannot close", tmp);
	}
	return rc;
}

ms_rc_t ms_state_file_write(const char *path, const void *data, size_t len, ms_err_t *err)
{
	return ms_state_file_write_mode(path, data, len, S_IRUSR | S_IWUSR, err);
}

static ms_rc_t replace(const char *path, const void *data, size_t len, mode_t mode,
                       bool durable, ms_err_t *err)
{
	char tmp[PATH_MAX];
	if (path == NULL || path[0] == '\0' ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		return ms_err_set(err, MS_EINVAL, "state file path is empty or too long");
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		return io_error(err, "cannot create a temporary file beside", path);
	}
	ms_rc_t rc = fill_temp(fd, tmp, data, len, mode, durable, err);
	if (rc == MS_OK && rename(tmp, path) != 0) {
		rc = io_error(err, "cannot rename the temporary file to", path);
	}
	if (rc != MS_OK) {
		unlink(tmp);
		return rc;
	}
	return durable ? sync_dir_of(path, err) : MS_OK;
}

ms_rc_t ms_state_file_write_mode(const char *path, const void *data, size_t len, mode_t mode,
                                 ms_err_t *err)
{
	return replace(path, data, len, mode, true, err);
}

ms_rc_t ms_state_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                              ms_err_t *err)
{
	return replace(path, data, len, mode, false, err);
}

ms_rc_t ms_state_file_read(const char *path, char *buf, size_t cap, size_t *len, ms_err_t *err)
{
	if (cap == 0) {
		return ms_err_set(err, MS_EINVAL, "no room to read %s", path);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? ms_err_set(err, MS_ENOTFOUND, "%s does not exist", path)
		                       : io_error(err, "cannot open", path);
	}
	size_t used = 0;
	ms_rc_t rc = MS_OK;
	for (;;) {
		/* Ask for one byte more than fits, to tell "full" from "too big". */
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			rc = io_error(err, "cannot read", path);
			break;
		}
		used += (size_t)n;
		if (n == 0 || used == cap) {
			break;
		}
	}
	close(fd);
	if (rc == MS_OK && used >= cap) {
		rc = ms_err_set(err, MS_ETOOBIG, "%s is larger than %zu bytes", path, cap - 1);
	}
	if (rc != MS_OK) {
		buf[0] = '\0';
		return rc;
	}
	buf[used] = '\0';
	if (len != NULL) {
		*len = used;
	}
	return MS_OK;
}
