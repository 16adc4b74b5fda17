/*
 * Secrets (API token, global API key) live in files that only the owner may
 * read. They are read once into memory, never copied into logs or state, and
 * wiped before they are freed.
 */
#pragma once

#include "error.h"

#define MS_SECRET_MAX 4096 /* bytes in a secret file */

/* Read and validate a secret file: a regular file, not readable or writable by
 * group or others, holding one non-empty line (surrounding white space is
 * dropped). On success *secret is a NUL-terminated heap string that the caller
 * releases with ms_secret_free(). Error messages name the file, never its
 * contents. */
ms_rc_t ms_secret_read(const char *path, char **secret, ms_err_t *err);

/* Wipe and free a secret returned by ms_secret_read(); NULL is fine. */
void ms_secret_free(char *secret);
