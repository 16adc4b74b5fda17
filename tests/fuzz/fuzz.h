/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c, doc/hardening.md).
 *
 * Each target feeds one parser of outside input with the bytes libFuzzer
 * hands over, exactly `size` of them and not NUL-terminated (so a read past
 * the end is an ASan report), and checks what the parser promises besides
 * not crashing: an error always comes with a message, a value it accepts
 * survives a round trip. A broken promise is a crash (FUZZ_CHECK aborts),
 * which libFuzzer reports and saves like any other.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* A failed call said what went wrong, in a NUL-terminated message. */
static inline void fuzz_check_error(ms_rc_t rc, const ms_err_t *err)
{
	if (rc != MS_OK) {
		FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
		FUZZ_CHECK(err->msg[0] != '\0');
	}
}

/* The input as a NUL-terminated heap string, for parsers that take one
 * (as the module hands them: curl's body and read files are terminated).
 * Bytes after an embedded NUL are what such a parser never sees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#include "dnskey.h"

/* What every accepted DNSKEY holds: protocol 3, a public key within the
 * cap, and the same key again after a trip through wire form. */
static inline void fuzz_check_dnskey(const ms_dnskey_t *key)
{
	FUZZ_CHECK(key->protocol == MS_DNSKEY_PROTOCOL);
	FUZZ_CHECK(key->pubkey_len > 0 && key->pubkey_len <= MS_DNSKEY_PUBKEY_MAX);
	uint8_t wire[4 + MS_DNSKEY_PUBKEY_MAX];
	size_t n = ms_dnskey_to_wire(key, wire, sizeof(wire));
	FUZZ_CHECK(n == 4u + key->pubkey_len);
	ms_dnskey_t back;
	ms_err_t err = { 0 };
	FUZZ_CHECK(ms_dnskey_from_wire(wire, n, &back, &err) == MS_OK);
	FUZZ_CHECK(ms_dnskey_equal(key, &back) && back.algorithm == key->algorithm);
}

/* A fixed-size string field the parser filled is terminated. */
#define FUZZ_CHECK_STR(field) FUZZ_CHECK(memchr((field), '\0', sizeof(field)) != NULL)
