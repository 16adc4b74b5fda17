/*
 * What each side shows for one zone, as plain values: the local view (what
 * knotd serves plus `keymgr -j list`) and the Cloudflare view (zone, DNSSEC
 * and DNS settings, apex records, Cloudflare's ZSKs). Observers fill them;
 * the planner only reads them.
 *
 * Arrays have fixed caps so that the planner needs no allocation. An
 * observer that meets more entries than a cap returns MS_ETOOBIG instead of
 * truncating: a silently shortened list would look like deleted keys.
 *
 * `complete` is the observer's promise that every field was observed. When
 * any part failed (timeout, parse error, an entry it could not understand),
 * it sets complete = false and fills what it did see: the planner then adds
 * what it saw but deletes nothing (rule 11).
 *
 * Names are FQDNs without the trailing dot (a trailing dot is tolerated);
 * the planner compares them case-insensitively. Times are Unix seconds,
 * 0 meaning "unset".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_types.h" /* MS_CF_ID_MAX, ms_cf_zsk_t, ms_cf_dnssec_status_t */
#include "dnskey.h"

#define MS_MAX_KEYS     16   /* DNSKEYs per side, keymgr keys, Cloudflare ZSKs */
#define MS_MAX_NS       16   /* names in an NS set */
#define MS_MAX_RECORDS  64   /* apex DNSKEY or NS records at Cloudflare, each */
#define MS_DNAME_MAX    253  /* presentation length of a name, without NUL */
#define MS_KEY_ID_MAX   64   /* keymgr key ids are 40 hex */

/* ---- local: knotd and its key database ---- */

typedef enum {
	MS_ROLE_ZSK = 0,
	MS_ROLE_KSK,
	MS_ROLE_CSK,
} ms_key_role_t;

/* One entry of `keymgr -j <zone> list`. */
typedef struct {
	char id[MS_KEY_ID_MAX + 1];  /* keymgr's key id, for `keymgr delete` */
	ms_dnskey_t key;
	ms_key_role_t role;
	bool public_only;            /* imported with import-pub: never export */
	int64_t publish, active, retire, remove;
} ms_local_key_t;

typedef struct {
	bool complete;
	bool ns_editable;            /* zone from a zone file: the module may add NS;
	                                false for zones fed by transfer (log only) */
	uint32_t soa_serial;
	uint32_t soa_refresh;        /* how often a secondary re-checks without NOTIFY */
	/* Served apex DNSKEY RRset. */
	ms_dnskey_t dnskeys[MS_MAX_KEYS];
	size_t dnskey_count;
	uint32_t dnskey_ttl;
	/* Key tags of the RRSIGs over SOA (the ZSKs that sign). */
	uint16_t signing_tags[MS_MAX_KEYS];
	size_t signing_tag_count;
	/* Served apex NS RRset. */
	char ns[MS_MAX_NS][MS_DNAME_MAX + 1];
	size_t ns_count;
	uint32_t ns_ttl;
	uint32_t max_ttl;            /* largest TTL in the zone */
	/* The key database. */
	ms_local_key_t keys[MS_MAX_KEYS];
	size_t key_count;
} ms_local_view_t;

/* ---- Cloudflare ---- */

typedef enum {
	MS_VIEW_ZONE_UNKNOWN = 0,
	MS_VIEW_ZONE_FULL,
	MS_VIEW_ZONE_PARTIAL,
	MS_VIEW_ZONE_SECONDARY,
	MS_VIEW_ZONE_OTHER,
} ms_view_zone_type_t;

/* An apex DNSKEY record at /dns_records (a slim ms_cf_record_t). */
typedef struct {
	char id[MS_CF_ID_MAX + 1];
	ms_dnskey_t key;
	uint32_t ttl;
	char comment[MS_CF_COMMENT_MAX + 1]; /* "" when Cloudflare says null */
} ms_cf_view_dnskey_t;

/* An apex NS record at /dns_records. */
typedef struct {
	char id[MS_CF_ID_MAX + 1];
	char name[MS_DNAME_MAX + 1];
	uint32_t ttl;
	char comment[MS_CF_COMMENT_MAX + 1];
} ms_cf_view_ns_t;

typedef struct {
	bool complete;
	char zone_id[MS_CF_ID_MAX + 1];
	ms_view_zone_type_t type;
	char name_servers[MS_MAX_NS][MS_DNAME_MAX + 1]; /* assigned to the zone */
	size_t name_server_count;
	/* /dnssec */
	ms_cf_dnssec_status_t dnssec_status; /* pending counts as on */
	bool dnssec_multi_signer;
	uint8_t dnssec_algorithm;      /* 0: not reported (Cloudflare uses 13) */
	bool has_ksk;                  /* /dnssec reported Cloudflare's KSK */
	ms_dnskey_t ksk;
	uint16_t ksk_ds_tag;           /* /dnssec's DS of it: key_tag, digest_type, */
	uint8_t ksk_ds_digest_type;    /* digest (hex; "" when not reported) */
	char ksk_ds_digest[129];
	/* /dns_settings */
	bool multi_provider;
	uint32_t ns_ttl;               /* 0: not reported */
	/* Apex records at /dns_records. */
	ms_cf_view_dnskey_t dnskeys[MS_MAX_RECORDS];
	size_t dnskey_count;
	ms_cf_view_ns_t ns[MS_MAX_RECORDS];
	size_t ns_count;
	/* /dnssec/zsk (ms_cf_zsk_served() tells the keys Cloudflare serves) */
	ms_cf_zsk_t zsks[MS_MAX_KEYS];
	size_t zsk_count;
	/* Optional, from DNS queries to Cloudflare's nameservers: what it really
	 * serves (rule 11: trust answers over what the API accepted). When
	 * served_observed is false both lists are ignored. */
	bool served_observed;
	ms_dnskey_t served_dnskeys[MS_MAX_KEYS];
	size_t served_dnskey_count;
	uint16_t signing_tags[MS_MAX_KEYS]; /* RRSIG key tags over SOA: its ZSKs */
	size_t signing_tag_count;
} ms_cf_view_t;

/* Names equal as DNS names: ASCII case-insensitive, one trailing dot ignored. */
static inline bool ms_dname_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
		char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
		if (ca != cb) {
			/* "name." equals "name": one side may end with the root dot. */
			return (ca == '.' && a[1] == '\0' && cb == '\0') ||
			       (cb == '.' && b[1] == '\0' && ca == '\0');
		}
		if (ca == '\0') {
			return true;
		}
	}
}

/* Whether name is among names[0..count), as DNS names. */
static inline bool ms_dname_in(const char (*names)[MS_DNAME_MAX + 1], size_t count,
                               const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (ms_dname_equal(names[i], name)) {
			return true;
		}
	}
	return false;
}
