/*
 * Plain C values for what the Cloudflare API returns and accepts, so that
 * the planner never sees JSON. Fixed-size strings keep the values copyable;
 * lists are heap arrays with a free function. Key material is ms_dnskey_t,
 * always validated on the way in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnskey.h"

#define MS_CF_ID_MAX      64   /* ids are 32 lowercase hex today; room to grow */
#define MS_CF_NAME_MAX    253  /* a domain name in presentation form, no dot */
#define MS_CF_WORD_MAX    31   /* status words, types, tags of ZSKs */
#define MS_CF_COMMENT_MAX 500  /* Cloudflare's cap on paid plans (100 on Free) */
#define MS_CF_TAGS_MAX    20
#define MS_CF_TAG_MAX     255
#define MS_CF_ZONE_NS_MAX 16
#define MS_CF_BATCH_MAX   200  /* operations per batch on the Free plan */
#define MS_CF_TTL_AUTO    1    /* ttl 1 means "automatic" */

/* result_info of a paged list; -1 for what the answer left out. */
typedef struct {
	bool present;
	long page, per_page, count, total_count, total_pages;
} ms_cf_result_info_t;

/* GET /user/tokens/verify */
typedef enum {
	MS_CF_TOKEN_UNKNOWN = 0, /* a status this client does not know */
	MS_CF_TOKEN_ACTIVE,
	MS_CF_TOKEN_DISABLED,
	MS_CF_TOKEN_EXPIRED,
} ms_cf_token_status_t;

typedef struct {
	char id[MS_CF_ID_MAX + 1];
	ms_cf_token_status_t status;
	char status_text[MS_CF_WORD_MAX + 1];
	char expires_on[MS_CF_WORD_MAX + 1]; /* RFC 3339, empty when unset */
} ms_cf_token_t;

/* Zone object (GET /zones, /zones/{id}). */
typedef struct {
	char id[MS_CF_ID_MAX + 1];
	char name[MS_CF_NAME_MAX + 1];          /* lower case, no trailing dot */
	char status[MS_CF_WORD_MAX + 1];        /* active, pending, initializing, moved */
	char type[MS_CF_WORD_MAX + 1];          /* full, partial, secondary; may be empty */
	bool paused;
	size_t name_server_count;               /* Cloudflare's assigned nameservers */
	char name_servers[MS_CF_ZONE_NS_MAX][MS_CF_NAME_MAX + 1]; /* lower case, no dot */
} ms_cf_zone_t;

/* GET/PATCH /zones/{id}/dnssec */
typedef enum {
	MS_CF_DNSSEC_UNKNOWN = 0, /* a status this client does not know */
	MS_CF_DNSSEC_ACTIVE,
	MS_CF_DNSSEC_PENDING,     /* signing, waiting for the DS at the parent */
	MS_CF_DNSSEC_DISABLED,
	MS_CF_DNSSEC_PENDING_DISABLED,
	MS_CF_DNSSEC_ERROR,
} ms_cf_dnssec_status_t;

typedef struct {
	ms_cf_dnssec_status_t status;
	char status_text[MS_CF_WORD_MAX + 1];
	bool multi_signer;       /* dnssec_multi_signer (false when absent) */
	bool presigned;
	bool use_nsec3;
	bool has_ksk;            /* false while Cloudflare reports null DS fields */
	ms_dnskey_t ksk;         /* Cloudflare's KSK (flags, algorithm, public_key) */
	uint16_t key_tag;        /* checked against ksk when both are there */
	uint8_t algorithm;       /* 0 when null */
	uint8_t digest_type;     /* 0 when null */
	char digest[129];        /* hex, empty when null */
	char ds[MS_CF_NAME_MAX + 300]; /* "example.com. 3600 IN DS ...", empty when null */
} ms_cf_dnssec_t;

/* Both Cloudflare enabled states sign and serve. */
static inline bool ms_cf_dnssec_enabled(ms_cf_dnssec_status_t s)
{
	return s == MS_CF_DNSSEC_ACTIVE || s == MS_CF_DNSSEC_PENDING;
}

/* A tri-state for PATCH bodies: zero-initialised means "leave as is". */
typedef enum { MS_CF_KEEP = 0, MS_CF_SET_FALSE, MS_CF_SET_TRUE } ms_cf_opt_bool_t;

typedef struct {
	ms_cf_dnssec_status_t status; /* ACTIVE or DISABLED; UNKNOWN: leave as is */
	ms_cf_opt_bool_t multi_signer;
} ms_cf_dnssec_patch_t;

/* GET/PATCH /zones/{id}/dns_settings */
typedef struct {
	bool multi_provider;    /* (or the older use_apex_ns) */
	uint32_t ns_ttl;        /* 0 when absent */
} ms_cf_dns_settings_t;

/* DNS records: the types this module manages, others only pass through. */
typedef enum {
	MS_CF_RR_OTHER = 0,
	MS_CF_RR_NS,
	MS_CF_RR_DNSKEY,
} ms_cf_rrtype_t;

typedef struct {
	char id[MS_CF_ID_MAX + 1];       /* empty for a record not yet created */
	char name[MS_CF_NAME_MAX + 1];   /* owner FQDN, lower case, no trailing dot */
	ms_cf_rrtype_t type;
	char type_text[MS_CF_WORD_MAX + 1];
	uint32_t ttl;                    /* MS_CF_TTL_AUTO or 60..86400 */
	bool has_comment;                /* false: comment null or absent */
	char comment[MS_CF_COMMENT_MAX + 1];
	size_t tag_count;
	char tags[MS_CF_TAGS_MAX][MS_CF_TAG_MAX + 1]; /* "name:value" */
	ms_dnskey_t dnskey;              /* MS_CF_RR_DNSKEY */
	char ns_host[MS_CF_NAME_MAX + 1]; /* MS_CF_RR_NS: lower case, no trailing dot */
} ms_cf_record_t;

typedef struct {
	ms_cf_record_t *items;
	size_t count;
} ms_cf_record_list_t;

void ms_cf_record_list_free(ms_cf_record_list_t *list);

/* Fill a record to create (name lower-cased, trailing dot dropped); the
 * comment may be NULL. */
void ms_cf_record_dnskey(ms_cf_record_t *rec, const char *name, uint32_t ttl,
                         const ms_dnskey_t *key, const char *comment);
void ms_cf_record_ns(ms_cf_record_t *rec, const char *name, uint32_t ttl,
                     const char *ns_host, const char *comment);

/* GET /zones/{id}/dnssec/zsk: Cloudflare's own signing keys. */
typedef enum {
	MS_CF_ZSK_UNKNOWN = 0, /* a Tag this client does not know: not served */
	MS_CF_ZSK_ACTIVE,
	MS_CF_ZSK_PUBLISH,
	MS_CF_ZSK_EXTERNAL,
	MS_CF_ZSK_RETIRED,
	MS_CF_ZSK_REVOKED,
	MS_CF_ZSK_REMOVED,
} ms_cf_zsk_state_t;

typedef struct {
	ms_dnskey_t key;
	ms_cf_zsk_state_t state;
	char state_text[MS_CF_WORD_MAX + 1]; /* Cloudflare's Tag */
	char name[MS_CF_WORD_MAX + 1];       /* Cloudflare's key name ("zsk_default") */
	uint32_t ttl;                        /* DNSKEY.Hdr.Ttl, 0 when absent */
} ms_cf_zsk_t;

/* Keys tagged publish, active or retired are in Cloudflare's served DNSKEY set. */
static inline bool ms_cf_zsk_served(const ms_cf_zsk_t *z)
{
	return z->state == MS_CF_ZSK_PUBLISH || z->state == MS_CF_ZSK_ACTIVE ||
	       z->state == MS_CF_ZSK_RETIRED;
}

typedef struct {
	ms_cf_zsk_t *items;
	size_t count;
} ms_cf_zsk_list_t;

void ms_cf_zsk_list_free(ms_cf_zsk_list_t *list);

/* POST /zones/{id}/dns_records/batch: deletes then posts, all or nothing. */
typedef struct {
	const char *const *delete_ids;
	size_t delete_count;
	const ms_cf_record_t *posts;
	size_t post_count;
} ms_cf_batch_t;

/* Names for logs and the test driver. */
const char *ms_cf_dnssec_status_name(ms_cf_dnssec_status_t s);
const char *ms_cf_zsk_state_name(ms_cf_zsk_state_t s);
const char *ms_cf_rrtype_name(ms_cf_rrtype_t t);
