/*
 * Cloudflare API client: one typed call per operation the module needs.
 *
 * Each call: take a token from the credential's rate limiter (waiting,
 * abortably, when the budget is spent) → HTTP request → envelope → typed
 * result; transient failures are retried per the back-off policy (each
 * retry takes a token too); a 429 pauses the shared limiter for everyone
 * using the credential. Errors come back as ms_rc_t + ms_err_t whose message
 * starts with the request ("GET /zones/<id>/dnssec: ...") and never holds
 * the credential.
 *
 * A client is used by one thread at a time (it uses libcurl handles, its own
 * or a pool it shares with the other clients of that thread); clients of
 * the same credential share one ms_ratelimit_t across threads.
 * Results are plain values (cf_types.h); lists are freed with their _free().
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "cf_types.h"
#include "error.h"
#include "ratelimit.h"
#include "settings.h"

#define MS_CF_PER_PAGE_DEFAULT    100
#define MS_CF_RATE_WAIT_DEFAULT_MS 120000 /* longer: MS_ERATELIMIT, try next pass */

/* Called after every HTTP attempt (retries included), so the module can
 * count API requests (every call), failures (rc != MS_OK) and writes
 * (every method but GET). */
typedef void (*ms_cf_request_hook_t)(void *ctx, ms_rc_t rc, long http_status, bool write);

typedef struct {
	const char *api_url;          /* NULL: MS_DEFAULT_API_URL; http:// only to loopback */
	ms_auth_kind_t auth_kind;
	const char *secret;           /* token or global key: copied, wiped on free */
	const char *email;            /* MS_AUTH_GLOBAL_KEY */
	const char *ca_file;          /* NULL: system CA store */
	uint32_t connect_timeout_ms;  /* 0: default (10 s) */
	uint32_t timeout_ms;          /* whole request; 0: default (30 s) */
	size_t max_body;              /* 0: default (4 MiB) */
	uint32_t per_page;            /* list page size; 0: 100 */
	uint32_t max_rate_wait_ms;    /* longest wait for a token; 0: default */
	ms_backoff_policy_t backoff;  /* zero fields: defaults */
	ms_jitter_fn jitter;          /* NULL: system randomness */
	void *jitter_ctx;
	const atomic_bool *abort_flag; /* the caller's; NULL: not abortable */
	ms_ratelimit_t *ratelimit;    /* shared per credential; NULL: a private default one */
	struct ms_http_pool *http_pool; /* libcurl handles shared by the clients of one
	                                 * thread (http.h); NULL: the client's own */
	ms_cf_request_hook_t on_request; /* may be NULL */
	void *hook_ctx;
} ms_cf_config_t;

typedef struct ms_cf_client ms_cf_client_t;

ms_rc_t ms_cf_client_new(const ms_cf_config_t *cfg, ms_cf_client_t **out, ms_err_t *err);
void ms_cf_client_free(ms_cf_client_t *c);

/* GET /user/tokens/verify (API tokens only; MS_EINVAL for a global key). The
 * token's status is in out->status: only MS_CF_TOKEN_ACTIVE works. */
ms_rc_t ms_cf_verify_token(ms_cf_client_t *c, ms_cf_token_t *out, ms_err_t *err);

/* GET /zones?name=: the zone of exactly this name (case and a trailing dot
 * do not matter). MS_ENOTFOUND when the credential sees no such zone;
 * MS_EINVAL when it sees several (then zone-id must be configured). */
ms_rc_t ms_cf_find_zone(ms_cf_client_t *c, const char *name, ms_cf_zone_t *out, ms_err_t *err);

/* GET /zones/{id} */
ms_rc_t ms_cf_get_zone(ms_cf_client_t *c, const char *zone_id, ms_cf_zone_t *out,
                       ms_err_t *err);

/* GET / PATCH /zones/{id}/dnssec; PATCH returns the new state in out (may be NULL). */
ms_rc_t ms_cf_get_dnssec(ms_cf_client_t *c, const char *zone_id, ms_cf_dnssec_t *out,
                         ms_err_t *err);
ms_rc_t ms_cf_patch_dnssec(ms_cf_client_t *c, const char *zone_id,
                           const ms_cf_dnssec_patch_t *patch, ms_cf_dnssec_t *out,
                           ms_err_t *err);

/* GET / PATCH /zones/{id}/dns_settings (multi_provider). */
ms_rc_t ms_cf_get_dns_settings(ms_cf_client_t *c, const char *zone_id,
                               ms_cf_dns_settings_t *out, ms_err_t *err);
ms_rc_t ms_cf_set_multi_provider(ms_cf_client_t *c, const char *zone_id, bool on,
                                 ms_cf_dns_settings_t *out, ms_err_t *err);

/* Every record of this type owned by `name` (all pages; a list that changes
 * while being paged is read again, at most twice more). out is emptied
 * first; free it with ms_cf_record_list_free() in any case. */
ms_rc_t ms_cf_list_records(ms_cf_client_t *c, const char *zone_id, ms_cf_rrtype_t type,
                           const char *name, ms_cf_record_list_t *out, ms_err_t *err);

/* The NS and DNSKEY records owned by `name` in one listing: the filter is the
 * name alone (Cloudflare's filters cannot say "NS or DNSKEY"), records of
 * other types are dropped. An apex holds a handful of records, so this is
 * one request where two ms_cf_list_records() calls take two. Same paging
 * and error rules as ms_cf_list_records(). */
ms_rc_t ms_cf_list_ns_dnskey(ms_cf_client_t *c, const char *zone_id, const char *name,
                             ms_cf_record_list_t *out, ms_err_t *err);

/* POST /zones/{id}/dns_records; created (may be NULL) gets the new record
 * with its id. Errors to know: Cloudflare code 81058 ("identical record
 * already exists", also after a retry whose first answer was lost): the
 * record is there, re-list to learn its id. */
ms_rc_t ms_cf_create_record(ms_cf_client_t *c, const char *zone_id, const ms_cf_record_t *rec,
                            ms_cf_record_t *created, ms_err_t *err);

/* DELETE /zones/{id}/dns_records/{record_id}. MS_ENOTFOUND when the record
 * does not exist (anymore): the wanted state holds. */
ms_rc_t ms_cf_delete_record(ms_cf_client_t *c, const char *zone_id, const char *record_id,
                            ms_err_t *err);

/* POST /zones/{id}/dns_records/batch: deletes, then posts, in one transaction
 * (all or nothing), at most MS_CF_BATCH_MAX operations. created (may be
 * NULL) gets the posted records with their ids, in order; free it. Saves
 * requests whenever more than one change is due. */
ms_rc_t ms_cf_batch(ms_cf_client_t *c, const char *zone_id, const ms_cf_batch_t *batch,
                    ms_cf_record_list_t *created, ms_err_t *err);

/* GET /zones/{id}/dnssec/zsk: Cloudflare's ZSKs (see ms_cf_zsk_served()). */
ms_rc_t ms_cf_list_zsks(ms_cf_client_t *c, const char *zone_id, ms_cf_zsk_list_t *out,
                        ms_err_t *err);
