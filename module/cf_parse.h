/*
 * Cloudflare API responses → plain values. Pure functions: a response body
 * (and its HTTP status) in, a value or an ms_err_t out; no I/O.
 *
 * First the envelope decides between success and failure:
 * - success:false → MS_EAPI with the HTTP status, the error codes (top-level
 *   ones first, then the first error's chain) and a message such as
 *   "Cloudflare error 9109: Invalid access token (HTTP 403): <what to do>";
 * - an HTTP error whose body is not an envelope (an edge's HTML page, a cut
 *   body) → MS_EHTTP with the status and a few words on what the body was;
 *   the body itself is never quoted;
 * - a 2xx that is not an envelope → MS_EPARSE.
 * Then a typed parser reads the result: unknown fields are ignored; missing
 * or mistyped fields the module needs are MS_EPARSE naming the field; key
 * material goes through ms_dnskey_from_b64/from_text and is refused, never
 * repaired. Cloudflare's ZSK private key blob (SigningKey) is never read.
 */
#pragma once

#include <json-c/json.h>

#include "cf_types.h"
#include "error.h"

typedef struct {
	json_object *root;           /* owned; release with ms_cf_envelope_free */
	json_object *result;         /* in root; NULL when null or absent */
	ms_cf_result_info_t info;
	long http_status;
} ms_cf_envelope_t;

ms_rc_t ms_cf_envelope_parse(const char *body, size_t len, long http_status,
                             ms_cf_envelope_t *env, ms_err_t *err);
void ms_cf_envelope_free(ms_cf_envelope_t *env);

/* Typed readers of an envelope's result (which may be NULL: an error). */
ms_rc_t ms_cf_token_from_json(const json_object *result, ms_cf_token_t *out, ms_err_t *err);
ms_rc_t ms_cf_zone_from_json(const json_object *result, const char *ctx,
                             ms_cf_zone_t *out, ms_err_t *err);
/* GET /zones?name=: the one zone of the result list whose name is exactly
 * `name` (MS_ENOTFOUND when none, MS_EINVAL when several). */
ms_rc_t ms_cf_zone_pick_from_json(const json_object *result, const char *name,
                                  ms_cf_zone_t *out, ms_err_t *err);
ms_rc_t ms_cf_dnssec_from_json(const json_object *result, ms_cf_dnssec_t *out, ms_err_t *err);
ms_rc_t ms_cf_dns_settings_from_json(const json_object *result, ms_cf_dns_settings_t *out,
                                     ms_err_t *err);
ms_rc_t ms_cf_record_from_json(const json_object *v, const char *ctx, ms_cf_record_t *out,
                               ms_err_t *err);
/* Append a result array of records to list (which grows). */
ms_rc_t ms_cf_records_from_json(const json_object *array, const char *what,
                                ms_cf_record_list_t *list, ms_err_t *err);
ms_rc_t ms_cf_zsks_from_json(const json_object *result, ms_cf_zsk_list_t *out, ms_err_t *err);
/* DELETE answer: result {"id": ...}. */
ms_rc_t ms_cf_deleted_from_json(const json_object *result, char id[MS_CF_ID_MAX + 1],
                                ms_err_t *err);
/* Batch answer: the records created by its posts, in order. */
ms_rc_t ms_cf_batch_from_json(const json_object *result, ms_cf_record_list_t *created,
                              ms_err_t *err);

/* Whole-body conveniences (envelope + typed reader), for tests and tools. */
ms_rc_t ms_cf_parse_token(const char *body, long status, ms_cf_token_t *out, ms_err_t *err);
ms_rc_t ms_cf_parse_zone(const char *body, long status, ms_cf_zone_t *out, ms_err_t *err);
ms_rc_t ms_cf_parse_dnssec(const char *body, long status, ms_cf_dnssec_t *out, ms_err_t *err);
ms_rc_t ms_cf_parse_dns_settings(const char *body, long status, ms_cf_dns_settings_t *out,
                                 ms_err_t *err);
/* One page of a record list: appends to list, fills info. */
ms_rc_t ms_cf_parse_record_page(const char *body, long status, ms_cf_record_list_t *list,
                                ms_cf_result_info_t *info, ms_err_t *err);
ms_rc_t ms_cf_parse_zsks(const char *body, long status, ms_cf_zsk_list_t *out, ms_err_t *err);
