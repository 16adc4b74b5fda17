/*
 * Checks at load of what knotd's configuration says about the zone against
 * what RFC 8901 multi-signing with Cloudflare needs (multisigner-rules.md).
 * Pure: the glue logs the findings; a finding that refuses stops the module
 * from syncing the zone (knotd still serves it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "knot_env.h"
#include "settings.h"

#define MS_CF_ALGORITHM         13    /* Cloudflare signs with ECDSAP256SHA256 only */
#define MS_CF_DNSKEY_TTL        3600  /* Cloudflare's DNSKEY TTL (its API shows it) */
#define MS_API_LATENCY_ALLOWANCE 10   /* s: one pass's API round trips, generously */
#define MS_CHECK_NOTES_MAX      8

typedef struct {
	bool refuse;     /* syncing this zone would break it: do not start */
	bool info;       /* a statement of what holds, not a problem (logged as info) */
	char text[512];
} ms_check_note_t;

/* Fill notes (at most cap); returns how many. */
size_t ms_policy_check(const ms_knot_env_t *env, const ms_settings_t *s,
                       ms_check_note_t *notes, size_t cap);
