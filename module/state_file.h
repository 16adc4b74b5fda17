/*
 * Whole-file reads and atomic replacement for the per-zone state files:
 * a reader sees either the old file or the new one, never a torn write,
 * even after a crash or power loss.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Create directory dir (mode 0700) unless it exists: the per-zone state
 * directory, made on first use. MS_EIO with the reason on failure. */
ms_rc_t ms_state_dir_ensure(const char *dir, ms_err_t *err);

/* Replace path with data: write a temporary file (mode 0600) in the same
 * directory, fsync it, rename it over path, fsync the directory. On failure
 * path is unchanged and no temporary file is left behind. */
ms_rc_t ms_state_file_write(const char *path, const void *data, size_t len, ms_err_t *err);

/* The same with the given file mode (for files others may read). */
ms_rc_t ms_state_file_write_mode(const char *path, const void *data, size_t len, mode_t mode,
                                 ms_err_t *err);

/* Atomic replacement without fsync, for files that are rebuilt after every
 * pass anyway (the status file): readers still never see a torn file, but
 * after a power loss the file may be an older one (or, on some file
 * systems, empty) until the next pass rewrites it. */
ms_rc_t ms_state_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                              ms_err_t *err);

/* Read the whole of path into buf (NUL-terminated); *len gets its length.
 * MS_ENOTFOUND when there is no such file (a zone's first pass), MS_ETOOBIG
 * when it does not fit in cap - 1 bytes, MS_EIO on other failures. */
ms_rc_t ms_state_file_read(const char *path, char *buf, size_t cap, size_t *len, ms_err_t *err);
