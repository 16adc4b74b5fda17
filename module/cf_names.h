/*
 * Small string rules shared by the client's parts: domain names as the
 * module compares them, ids safe to put in a URL path, and text safe to put
 * in a message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Copy a domain name lower-cased, without a trailing dot (cap with NUL). */
void ms_cf_name_copy(char *dst, size_t cap, const char *src);

/* In place: lower case, no trailing dot. */
void ms_cf_name_normalize(char *name);

/* Case-insensitive comparison of names, ignoring one trailing dot. */
bool ms_cf_name_equal(const char *a, const char *b);

/* An API id we are willing to put into a URL path: 1..64 of [A-Za-z0-9_-].
 * Cloudflare's are 32 lowercase hex; this only rules out path tricks. */
bool ms_cf_id_is_safe(const char *id);

/* Copy API-provided text for a message: printable ASCII only (others become
 * '?'), at most max characters, "..." when cut. */
void ms_cf_clean_text(char *dst, size_t cap, const char *src, size_t max);
