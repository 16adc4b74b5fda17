/*
 * DNSKEY value type: the one representation of a DNSSEC public key that the
 * whole module passes around (local zone, Cloudflare API, saved state).
 * Constructors validate: a key that is not what it claims to be (algorithm,
 * protocol, base64, key length) is refused, never guessed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MS_DNSKEY_FLAG_ZONE   0x0100 /* 256: a zone key */
#define MS_DNSKEY_FLAG_SEP    0x0001 /* 257 = zone + SEP: a KSK */
#define MS_DNSKEY_FLAG_REVOKE 0x0080
#define MS_DNSKEY_PROTOCOL    3
#define MS_ALG_ECDSAP256SHA256 13
#define MS_DNSKEY_PUBKEY_MAX  512  /* RSA-4096 fits; P-256 needs 64 */

typedef struct {
	uint16_t flags;
	uint8_t protocol;
	uint8_t algorithm;
	uint16_t pubkey_len;
	uint8_t pubkey[MS_DNSKEY_PUBKEY_MAX];
} ms_dnskey_t;

/* From fields plus base64 public key (as the API and zone files give them). */
ms_rc_t ms_dnskey_from_b64(uint16_t flags, long protocol, long algorithm,
                           const char *pubkey_b64, ms_dnskey_t *out, ms_err_t *err);

/* From presentation rdata "flags protocol algorithm base64..." (base64 may
 * be split by white space, as in zone files and Cloudflare's `content`). */
ms_rc_t ms_dnskey_from_text(const char *rdata, ms_dnskey_t *out, ms_err_t *err);

/* From wire rdata (RFC 4034 2.1). */
ms_rc_t ms_dnskey_from_wire(const uint8_t *rdata, size_t len, ms_dnskey_t *out, ms_err_t *err);

/* Wire rdata; returns the length written, 0 if cap is too small. */
size_t ms_dnskey_to_wire(const ms_dnskey_t *key, uint8_t *buf, size_t cap);

/* Base64 of the public key into buf (NUL-terminated); false if cap is too small. */
bool ms_dnskey_pubkey_b64(const ms_dnskey_t *key, char *buf, size_t cap);

/* Key tag (RFC 4034 appendix B). */
uint16_t ms_dnskey_tag(const ms_dnskey_t *key);

/* Same key material and flags (what makes two DNSKEY records the same record). */
bool ms_dnskey_equal(const ms_dnskey_t *a, const ms_dnskey_t *b);

static inline bool ms_dnskey_is_zsk(const ms_dnskey_t *k)
{
	return k->flags == MS_DNSKEY_FLAG_ZONE;
}

static inline bool ms_dnskey_is_ksk(const ms_dnskey_t *k)
{
	return k->flags == (MS_DNSKEY_FLAG_ZONE | MS_DNSKEY_FLAG_SEP);
}

/* Buffer size for base64 of the largest public key, with NUL. */
#define MS_DNSKEY_B64_MAX (((MS_DNSKEY_PUBKEY_MAX + 2) / 3) * 4 + 1)
