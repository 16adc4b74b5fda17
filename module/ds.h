/*
 * DS records for the registrar (RFC 4034 section 5, digest type 2 = SHA-256,
 * RFC 4509): computed from the KSKs both providers serve, so that the
 * operator can hand the parent the DS of each provider's KSK (RFC 8901
 * rule 6/8). Pure apart from the digest: no I/O, no clock, no globals.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnskey.h"
#include "error.h"
#include "views.h"

#define MS_DS_DIGEST_SHA256  2
#define MS_DS_SHA256_HEX     64
#define MS_DS_MAX            8    /* KSKs reported per zone */
#define MS_DS_TEXT_MAX       (MS_DNAME_MAX + 2 + 32 + MS_DS_SHA256_HEX)

typedef struct {
	uint16_t key_tag;
	uint8_t algorithm;
	uint8_t digest_type;                /* MS_DS_DIGEST_SHA256 */
	char digest[MS_DS_SHA256_HEX + 1];  /* uppercase hex, as keymgr prints it */
	bool cloudflare;                    /* Cloudflare's KSK, else ours */
} ms_ds_t;

/* The SHA-256 DS of key (a zone key, SEP or not) owned by zone (with or
 * without trailing dot). MS_EINVAL for a bad name or a key that is not a
 * zone key. */
ms_rc_t ms_ds_from_dnskey(const char *zone, const ms_dnskey_t *key, ms_ds_t *out,
                          ms_err_t *err);

/* "example.com. IN DS 2371 13 2 <HEX>" (no TTL: the parent sets it). False
 * when cap is too small. */
bool ms_ds_format(const char *zone, const ms_ds_t *ds, char *buf, size_t cap);

/* The DS records the registrar needs: one per KSK (flags 257, not revoked)
 * that knotd serves and that keymgr lists as ours, then Cloudflare's KSK
 * when /dnssec reported it (a copy of it that knotd serves is not reported
 * twice). Returns the count (at most cap; more KSKs are left out). */
size_t ms_ds_report(const char *zone, const ms_local_view_t *local, const ms_cf_view_t *cf,
                    ms_ds_t *out, size_t cap);

/* Whether a DS Cloudflare reported (its /dnssec `key_tag`, `digest_type`,
 * `digest`) matches ours for its KSK: true when it does or when Cloudflare
 * gave none to compare (digest empty). */
bool ms_ds_matches(const ms_ds_t *ds, uint16_t key_tag, uint8_t digest_type,
                   const char *digest);
