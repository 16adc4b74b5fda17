#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cf_names.h"
#include "cf_parse.h"
#include "json_util.h"

#define API_MSG_SHOWN 100 /* characters of a Cloudflare message we repeat */

/* ---- envelope ------------------------------------------------------------ */

/* What to do about an API error, by code first, then by HTTP status. */
static const char *error_hint(int code, long status)
{
	switch (code) {
	case 1000: case 6003: case 6102: case 6103: case 6111:
	case 9103: case 9106: case 9109:
		return "check the API credential (api-token-file, or api-email with api-key-file)";
	case 10000:
		return "the credential lacks a permission: the token needs DNS Write and "
		       "Zone DNS Settings Write on this zone";
	case 7000: case 7003:
		return "check zone-id (32 hex digits from the zone's overview page)";
	case 971:
		return "Cloudflare's rate limit was hit: backing off; reduce other use of this token";
	default:
		break;
	}
	if (status == 401 || status == 403) {
		return "check the API credential and its permissions";
	}
	if (status == 429) {
		return "Cloudflare's rate limit was hit: backing off; reduce other use of this token";
	}
	if (status >= 500) {
		return "Cloudflare is failing: will retry";
	}
	return NULL;
}

static void add_code(ms_err_t *err, int code)
{
	if (err != NULL && err->api_code_count < MS_ERR_CODES_MAX) {
		err->api_codes[err->api_code_count++] = code;
	}
}

/* Code and cleaned message of one {code, message} entry; false if not one. */
static bool read_error_entry(const json_object *e, int *code, char *msg, size_t cap)
{
	if (!json_object_is_type(e, json_type_object)) {
		return false;
	}
	json_object *c = ms_json_member(e, "code");
	json_object *m = ms_json_member(e, "message");
	*code = (c != NULL && json_object_is_type(c, json_type_int)) ? json_object_get_int(c) : 0;
	ms_cf_clean_text(msg, cap,
	                 (m != NULL && json_object_is_type(m, json_type_string))
	                         ? json_object_get_string(m) : "",
	                 API_MSG_SHOWN);
	return true;
}

static ms_rc_t api_failure(const json_object *root, long status, ms_err_t *err)
{
	json_object *errors = ms_json_member(root, "errors");
	size_t n = (errors && json_object_is_type(errors, json_type_array))
	                   ? json_object_array_length(errors) : 0;
	int first_code = 0;
	char first_msg[API_MSG_SHOWN + 1] = "";
	char chain_note[API_MSG_SHOWN + 40] = "";
	const json_object *first = NULL;
	if (err != NULL) {
		err->api_code_count = 0;
	}
	for (size_t i = 0; i < n; i++) {
		int code;
		char msg[API_MSG_SHOWN + 1];
		const json_object *e = json_object_array_get_idx(errors, i);
		if (read_error_entry(e, &code, msg, sizeof(msg))) {
			add_code(err, code);
			if (first == NULL) {
				first = e;
				first_code = code;
				memcpy(first_msg, msg, sizeof(msg));
			}
		}
	}
	/* The chain says what the wrapper (1004 "DNS Validation Error") means. */
	json_object *chain = first ? ms_json_member(first, "error_chain") : NULL;
	size_t chain_len = (chain && json_object_is_type(chain, json_type_array))
	                           ? json_object_array_length(chain) : 0;
	for (size_t i = 0; i < chain_len; i++) {
		int code;
		char msg[API_MSG_SHOWN + 1];
		if (read_error_entry(json_object_array_get_idx(chain, i), &code, msg, sizeof(msg))) {
			add_code(err, code);
			if (chain_note[0] == '\0') {
				snprintf(chain_note, sizeof(chain_note), " [%d: %s]", code, msg);
			}
		}
	}
	const char *hint = error_hint(first_code, status);
	if (first == NULL) {
		return ms_err_set(err, MS_EAPI, "Cloudflare reported a failure without an error code "
		                  "(HTTP %ld)%s%s", status, hint ? ": " : "", hint ? hint : "");
	}
	return ms_err_set(err, MS_EAPI, "Cloudflare error %d: %s%s (HTTP %ld)%s%s%s",
	                  first_code, first_msg, chain_note, status,
	                  n > 1 ? ", and more" : "", hint ? ": " : "", hint ? hint : "");
}

static ms_rc_t not_an_envelope(long status, const char *what, ms_err_t *err)
{
	if (status >= 300 || status == 0) {
		const char *hint = error_hint(0, status);
		return ms_err_set(err, MS_EHTTP, "HTTP %ld from the API, with a body that is %s, "
		                  "not an API response%s%s", status, what,
		                  hint ? ": " : "", hint ? hint : "");
	}
	return ms_err_set(err, MS_EPARSE, "the API answered HTTP %ld with a body that is %s, "
	                  "not an API response", status, what);
}

static ms_rc_t read_result_info(const json_object *root, ms_cf_result_info_t *info,
                                ms_err_t *err)
{
	*info = (ms_cf_result_info_t){ .page = -1, .per_page = -1, .count = -1,
	                               .total_count = -1, .total_pages = -1 };
	json_object *ri;
	ms_rc_t rc = ms_json_get_object(root, "result_info", false, &ri, "response", err);
	if (rc != MS_OK || ri == NULL) {
		return rc;
	}
	info->present = true;
	struct { const char *key; long *dst; } fields[] = {
		{ "page", &info->page }, { "per_page", &info->per_page }, { "count", &info->count },
		{ "total_count", &info->total_count }, { "total_pages", &info->total_pages },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int64_t v;
		bool present;
		rc = ms_json_get_int(ri, fields[i].key, false, 0, INT32_MAX, &v, &present,
		                     "result_info", err);
		if (rc != MS_OK) {
			return rc;
		}
		if (present) {
			*fields[i].dst = (long)v;
		}
	}
	return MS_OK;
}

ms_rc_t ms_cf_envelope_parse(const char *body, size_t len, long http_status,
                             ms_cf_envelope_t *env, ms_err_t *err)
{
	memset(env, 0, sizeof(*env));
	env->http_status = http_status;
	if (err != NULL) {
		err->http_status = http_status;
		err->api_code_count = 0;
	}
	const char *why = NULL;
	json_object *root = ms_json_parse(body, len, &why);
	if (root == NULL) {
		return not_an_envelope(http_status, why, err);
	}
	json_object *success = ms_json_member(root, "success");
	ms_rc_t rc;
	if (!json_object_is_type(root, json_type_object)) {
		rc = not_an_envelope(http_status, "JSON without an envelope", err);
	} else if (success == NULL || !json_object_is_type(success, json_type_boolean)) {
		rc = (http_status >= 300) ? not_an_envelope(http_status, "JSON without an envelope", err)
		                          : ms_json_get_bool(root, "success", true, &(bool){ 0 }, NULL,
		                                             "response envelope", err);
	} else if (!json_object_get_boolean(success)) {
		rc = api_failure(root, http_status, err);
	} else if (http_status >= 300 || http_status < 200) {
		rc = ms_err_set(err, MS_EHTTP, "HTTP %ld from the API although its body says success",
		                http_status);
	} else {
		env->result = ms_json_member(root, "result");
		rc = read_result_info(root, &env->info, err);
	}
	if (rc != MS_OK) {
		json_object_put(root);
		env->result = NULL;
		return rc;
	}
	env->root = root;
	return MS_OK;
}

void ms_cf_envelope_free(ms_cf_envelope_t *env)
{
	if (env != NULL) {
		json_object_put(env->root);
		env->root = NULL;
		env->result = NULL;
	}
}

/* ---- typed readers ------------------------------------------------------- */

static ms_rc_t need_object(const json_object *v, const char *ctx, ms_err_t *err)
{
	if (v == NULL) {
		return ms_err_set(err, MS_EPARSE, "%s: the response has no result", ctx);
	}
	if (!json_object_is_type(v, json_type_object)) {
		return ms_err_set(err, MS_EPARSE, "%s: result is %s, not an object",
		                  ctx, ms_json_type_name(v));
	}
	return MS_OK;
}

static ms_rc_t need_array(const json_object *v, const char *ctx, ms_err_t *err)
{
	if (v == NULL) {
		return ms_err_set(err, MS_EPARSE, "%s: the response has no result", ctx);
	}
	if (!json_object_is_type(v, json_type_array)) {
		return ms_err_set(err, MS_EPARSE, "%s: result is %s, not an array",
		                  ctx, ms_json_type_name(v));
	}
	return MS_OK;
}

static ms_rc_t get_id(const json_object *obj, const char *key, char id[MS_CF_ID_MAX + 1],
                      const char *ctx, ms_err_t *err)
{
	ms_rc_t rc = ms_json_get_string(obj, key, true, id, MS_CF_ID_MAX + 1, NULL, ctx, err);
	if (rc == MS_OK && !ms_cf_id_is_safe(id)) {
		rc = ms_err_set(err, MS_EPARSE, "%s: field '%s' is not an id (1-64 letters, "
		                "digits, '-' or '_')", ctx, key);
	}
	return rc;
}

static ms_rc_t get_name(const json_object *obj, const char *key, bool required, char *buf,
                        size_t cap, const char *ctx, ms_err_t *err)
{
	bool present = false;
	ms_rc_t rc = ms_json_get_string(obj, key, required, buf, cap, &present, ctx, err);
	if (rc == MS_OK && present) {
		ms_cf_name_normalize(buf);
		if (buf[0] == '\0') {
			rc = ms_err_set(err, MS_EPARSE, "%s: field '%s' is empty", ctx, key);
		}
	}
	return rc;
}

ms_rc_t ms_cf_token_from_json(const json_object *result, ms_cf_token_t *out, ms_err_t *err)
{
	static const char *ctx = "token verification";
	memset(out, 0, sizeof(*out));
	ms_rc_t rc = need_object(result, ctx, err);
	if (rc == MS_OK) {
		rc = get_id(result, "id", out->id, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "status", true, out->status_text,
		                        sizeof(out->status_text), NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "expires_on", false, out->expires_on,
		                        sizeof(out->expires_on), NULL, ctx, err);
	}
	if (rc != MS_OK) {
		return rc;
	}
	static const char *names[] = { "active", "disabled", "expired" };
	static const ms_cf_token_status_t values[] = { MS_CF_TOKEN_ACTIVE, MS_CF_TOKEN_DISABLED,
	                                               MS_CF_TOKEN_EXPIRED };
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(out->status_text, names[i]) == 0) {
			out->status = values[i];
		}
	}
	return MS_OK;
}

static ms_rc_t zone_name_servers(const json_object *result, const char *ctx,
                                 ms_cf_zone_t *out, ms_err_t *err)
{
	json_object *ns;
	ms_rc_t rc = ms_json_get_array(result, "name_servers", false, &ns, ctx, err);
	if (rc != MS_OK || ns == NULL) {
		return rc;
	}
	size_t n = json_object_array_length(ns);
	if (n > MS_CF_ZONE_NS_MAX) {
		return ms_err_set(err, MS_EPARSE, "%s: field 'name_servers' has %zu entries, more "
		                  "than %d", ctx, n, MS_CF_ZONE_NS_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(ns, i);
		size_t len = json_object_is_type(v, json_type_string)
		                     ? (size_t)json_object_get_string_len(v) : 0;
		if (len == 0 || len > MS_CF_NAME_MAX) {
			return ms_err_set(err, MS_EPARSE, "%s: name_servers[%zu] is not a host name",
			                  ctx, i);
		}
		ms_cf_name_copy(out->name_servers[i], sizeof(out->name_servers[i]),
		                json_object_get_string(v));
	}
	out->name_server_count = n;
	return MS_OK;
}

ms_rc_t ms_cf_zone_from_json(const json_object *result, const char *ctx,
                             ms_cf_zone_t *out, ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	ms_rc_t rc = need_object(result, ctx, err);
	if (rc == MS_OK) {
		rc = get_id(result, "id", out->id, ctx, err);
	}
	if (rc == MS_OK) {
		rc = get_name(result, "name", true, out->name, sizeof(out->name), ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "status", true, out->status, sizeof(out->status),
		                        NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "type", false, out->type, sizeof(out->type),
		                        NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_bool(result, "paused", false, &out->paused, NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = zone_name_servers(result, ctx, out, err);
	}
	return rc;
}

ms_rc_t ms_cf_zone_pick_from_json(const json_object *result, const char *name,
                                  ms_cf_zone_t *out, ms_err_t *e)
{
	if (result == NULL || !json_object_is_type(result, json_type_array)) {
		return ms_err_set(e, MS_EPARSE, "zones: result is not a list");
	}
	size_t matches = 0;
	for (size_t i = 0; i < json_object_array_length(result); i++) {
		ms_cf_zone_t z;
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "zone %zu", i + 1);
		ms_rc_t rc = ms_cf_zone_from_json(json_object_array_get_idx(result, i), ctx, &z, e);
		if (rc != MS_OK) {
			return rc;
		}
		if (ms_cf_name_equal(z.name, name)) {
			*out = z;
			matches++;
		}
	}
	if (matches == 0) {
		return ms_err_set(e, MS_ENOTFOUND, "no zone named %s is visible with this credential: "
		                  "check the zone name and the token's zone resources", name);
	}
	if (matches > 1) {
		return ms_err_set(e, MS_EINVAL, "%zu zones named %s are visible with this credential: "
		                  "configure zone-id", matches, name);
	}
	return MS_OK;
}

static ms_cf_dnssec_status_t dnssec_status(const char *s)
{
	static const struct { const char *name; ms_cf_dnssec_status_t value; } map[] = {
		{ "active", MS_CF_DNSSEC_ACTIVE }, { "pending", MS_CF_DNSSEC_PENDING },
		{ "disabled", MS_CF_DNSSEC_DISABLED },
		{ "pending-disabled", MS_CF_DNSSEC_PENDING_DISABLED },
		{ "error", MS_CF_DNSSEC_ERROR },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(s, map[i].name) == 0) {
			return map[i].value;
		}
	}
	return MS_CF_DNSSEC_UNKNOWN;
}

/* Cloudflare's KSK from flags, algorithm and public_key; the key_tag it
 * reports must be the one the key has. */
static ms_rc_t dnssec_key(const json_object *r, ms_cf_dnssec_t *out, ms_err_t *err)
{
	static const char *ctx = "DNSSEC";
	char b64[MS_DNSKEY_B64_MAX];
	bool have_key = false, have_flags = false, have_alg = false, have_tag = false;
	int64_t flags = 0, alg = 0, tag = 0, dtype = 0;
	ms_rc_t rc = ms_json_get_string(r, "public_key", false, b64, sizeof(b64), &have_key,
	                                ctx, err);
	if (rc == MS_OK) {
		rc = ms_json_get_int(r, "flags", false, 0, 65535, &flags, &have_flags, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int_or_digits(r, "algorithm", false, 0, 255, &alg, &have_alg,
		                               ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(r, "key_tag", false, 0, 65535, &tag, &have_tag, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int_or_digits(r, "digest_type", false, 0, 255, &dtype, NULL,
		                               ctx, err);
	}
	if (rc != MS_OK) {
		return rc;
	}
	out->algorithm = (uint8_t)alg;
	out->key_tag = (uint16_t)tag;
	out->digest_type = (uint8_t)dtype;
	if (!have_key) {
		return MS_OK;
	}
	if (!have_flags || !have_alg) {
		return ms_err_set(err, MS_EPARSE, "DNSSEC: field '%s' is missing beside public_key",
		                  have_flags ? "algorithm" : "flags");
	}
	rc = ms_dnskey_from_b64((uint16_t)flags, MS_DNSKEY_PROTOCOL, alg, b64, &out->ksk, err);
	if (rc != MS_OK) {
		return ms_err_prefix(err, "DNSSEC public_key");
	}
	if (have_tag && ms_dnskey_tag(&out->ksk) != out->key_tag) {
		return ms_err_set(err, MS_EPARSE, "DNSSEC: key_tag %u does not belong to public_key "
		                  "(its tag is %u)", out->key_tag, ms_dnskey_tag(&out->ksk));
	}
	out->has_ksk = true;
	return MS_OK;
}

ms_rc_t ms_cf_dnssec_from_json(const json_object *result, ms_cf_dnssec_t *out, ms_err_t *err)
{
	static const char *ctx = "DNSSEC";
	memset(out, 0, sizeof(*out));
	ms_rc_t rc = need_object(result, ctx, err);
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "status", true, out->status_text,
		                        sizeof(out->status_text), NULL, ctx, err);
	}
	struct { const char *key; bool *dst; } flags[] = {
		{ "dnssec_multi_signer", &out->multi_signer },
		{ "dnssec_presigned", &out->presigned },
		{ "dnssec_use_nsec3", &out->use_nsec3 },
	};
	for (size_t i = 0; rc == MS_OK && i < sizeof(flags) / sizeof(flags[0]); i++) {
		rc = ms_json_get_bool(result, flags[i].key, false, flags[i].dst, NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "digest", false, out->digest, sizeof(out->digest),
		                        NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(result, "ds", false, out->ds, sizeof(out->ds), NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = dnssec_key(result, out, err);
	}
	out->status = dnssec_status(out->status_text);
	return rc;
}

ms_rc_t ms_cf_dns_settings_from_json(const json_object *result, ms_cf_dns_settings_t *out,
                                     ms_err_t *err)
{
	static const char *ctx = "DNS settings";
	memset(out, 0, sizeof(*out));
	bool present = false;
	int64_t ttl = 0;
	ms_rc_t rc = need_object(result, ctx, err);
	if (rc == MS_OK) {
		rc = ms_json_get_bool(result, "multi_provider", false, &out->multi_provider,
		                      &present, ctx, err);
	}
	if (rc == MS_OK && !present) {
		/* Older zones had the same switch under this name. */
		rc = ms_json_get_bool(result, "use_apex_ns", false, &out->multi_provider,
		                      &present, ctx, err);
		if (rc == MS_OK && !present) {
			rc = ms_err_set(err, MS_EPARSE, "%s: field 'multi_provider' is missing", ctx);
		}
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(result, "ns_ttl", false, 0, INT32_MAX, &ttl, NULL, ctx, err);
	}
	out->ns_ttl = (uint32_t)ttl;
	return rc;
}

static ms_cf_rrtype_t rrtype(const char *s)
{
	if (strcasecmp(s, "NS") == 0) {
		return MS_CF_RR_NS;
	}
	if (strcasecmp(s, "DNSKEY") == 0) {
		return MS_CF_RR_DNSKEY;
	}
	return MS_CF_RR_OTHER;
}

static ms_rc_t record_tags(const json_object *v, const char *ctx, ms_cf_record_t *out,
                           ms_err_t *err)
{
	json_object *tags;
	ms_rc_t rc = ms_json_get_array(v, "tags", false, &tags, ctx, err);
	if (rc != MS_OK || tags == NULL) {
		return rc;
	}
	size_t n = json_object_array_length(tags);
	if (n > MS_CF_TAGS_MAX) {
		return ms_err_set(err, MS_EPARSE, "%s: %zu tags, more than %d", ctx, n, MS_CF_TAGS_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		if (!json_object_is_type(t, json_type_string) ||
		    (size_t)json_object_get_string_len(t) > MS_CF_TAG_MAX) {
			return ms_err_set(err, MS_EPARSE, "%s: tags[%zu] is not a string of at most "
			                  "%d characters", ctx, i, MS_CF_TAG_MAX);
		}
		snprintf(out->tags[i], sizeof(out->tags[i]), "%s", json_object_get_string(t));
	}
	out->tag_count = n;
	return MS_OK;
}

static ms_rc_t dnskey_from_data(const json_object *data, const char *ctx, ms_dnskey_t *key,
                                ms_err_t *err)
{
	char b64[MS_DNSKEY_B64_MAX];
	int64_t flags = 0, protocol = 0, alg = 0;
	char where[96];
	snprintf(where, sizeof(where), "%s data", ctx);
	ms_rc_t rc = ms_json_get_int(data, "flags", true, 0, 65535, &flags, NULL, where, err);
	if (rc == MS_OK) {
		rc = ms_json_get_int(data, "protocol", true, 0, 255, &protocol, NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(data, "algorithm", true, 0, 255, &alg, NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(data, "public_key", true, b64, sizeof(b64), NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_dnskey_from_b64((uint16_t)flags, protocol, alg, b64, key, err);
		if (rc != MS_OK) {
			ms_err_prefix(err, "%s", where);
		}
	}
	return rc;
}

/* DNSKEY from `data`, or from the read-only `content` when data is absent
 * (the contract is unsure which Cloudflare sends); when both are there they
 * must be the same key. */
static ms_rc_t record_dnskey(const json_object *v, const char *ctx, ms_cf_record_t *out,
                             ms_err_t *err)
{
	json_object *data;
	ms_rc_t rc = ms_json_get_object(v, "data", false, &data, ctx, err);
	if (rc != MS_OK) {
		return rc;
	}
	char content[2 * MS_DNSKEY_B64_MAX];
	bool have_content = false;
	if (data != NULL) {
		rc = dnskey_from_data(data, ctx, &out->dnskey, err);
		ms_dnskey_t other;
		if (rc == MS_OK &&
		    ms_json_get_string(v, "content", false, content, sizeof(content), &have_content,
		                       ctx, NULL) == MS_OK &&
		    have_content && ms_dnskey_from_text(content, &other, NULL) == MS_OK &&
		    !ms_dnskey_equal(&other, &out->dnskey)) {
			rc = ms_err_set(err, MS_EPARSE, "%s: 'data' and 'content' are different keys", ctx);
		}
		return rc;
	}
	rc = ms_json_get_string(v, "content", false, content, sizeof(content), &have_content,
	                        ctx, err);
	if (rc == MS_OK && !have_content) {
		rc = ms_err_set(err, MS_EPARSE, "%s: DNSKEY record has neither 'data' nor 'content'",
		                ctx);
	}
	if (rc == MS_OK && ms_dnskey_from_text(content, &out->dnskey, err) != MS_OK) {
		rc = ms_err_prefix(err, "%s content", ctx);
	}
	return rc;
}

ms_rc_t ms_cf_record_from_json(const json_object *v, const char *ctx, ms_cf_record_t *out,
                               ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	int64_t ttl = 0;
	ms_rc_t rc = need_object(v, ctx, err);
	if (rc == MS_OK) {
		rc = get_id(v, "id", out->id, ctx, err);
	}
	if (rc == MS_OK) {
		rc = get_name(v, "name", true, out->name, sizeof(out->name), ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(v, "type", true, out->type_text, sizeof(out->type_text),
		                        NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(v, "ttl", true, 1, INT32_MAX, &ttl, NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(v, "comment", false, out->comment, sizeof(out->comment),
		                        &out->has_comment, ctx, err);
	}
	if (rc == MS_OK) {
		rc = record_tags(v, ctx, out, err);
	}
	if (rc != MS_OK) {
		return rc;
	}
	out->ttl = (uint32_t)ttl;
	out->type = rrtype(out->type_text);
	if (out->type == MS_CF_RR_DNSKEY) {
		return record_dnskey(v, ctx, out, err);
	}
	if (out->type == MS_CF_RR_NS) {
		return get_name(v, "content", true, out->ns_host, sizeof(out->ns_host), ctx, err);
	}
	return MS_OK;
}

static ms_rc_t grow(void **items, size_t *cap, size_t need, size_t size, ms_err_t *err)
{
	if (need <= *cap) {
		return MS_OK;
	}
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need) {
		ncap *= 2;
	}
	void *p = realloc(*items, ncap * size);
	if (p == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	*items = p;
	*cap = ncap;
	return MS_OK;
}

ms_rc_t ms_cf_records_from_json(const json_object *array, const char *what,
                                ms_cf_record_list_t *list, ms_err_t *err)
{
	ms_rc_t rc = need_array(array, what, err);
	if (rc != MS_OK) {
		return rc;
	}
	size_t n = json_object_array_length(array);
	size_t cap = list->count; /* realloc to exactly what is needed */
	void *items = list->items;
	rc = grow(&items, &cap, list->count + n, sizeof(ms_cf_record_t), err);
	if (rc != MS_OK) {
		return rc;
	}
	list->items = items;
	for (size_t i = 0; i < n; i++) {
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "%s, record %zu", what, i + 1);
		rc = ms_cf_record_from_json(json_object_array_get_idx(array, i), ctx,
		                            &list->items[list->count], err);
		if (rc != MS_OK) {
			return rc;
		}
		list->count++;
	}
	return MS_OK;
}

static ms_cf_zsk_state_t zsk_state(const char *s)
{
	static const struct { const char *name; ms_cf_zsk_state_t value; } map[] = {
		{ "active", MS_CF_ZSK_ACTIVE }, { "publish", MS_CF_ZSK_PUBLISH },
		{ "external", MS_CF_ZSK_EXTERNAL }, { "retired", MS_CF_ZSK_RETIRED },
		{ "revoked", MS_CF_ZSK_REVOKED }, { "removed", MS_CF_ZSK_REMOVED },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcasecmp(s, map[i].name) == 0) {
			return map[i].value;
		}
	}
	return MS_CF_ZSK_UNKNOWN;
}

/* One Go-style entry; SigningKey (with the private key blob) is not read. */
static ms_rc_t zsk_entry(const json_object *v, const char *ctx, ms_cf_zsk_t *out,
                         ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	json_object *dnskey, *hdr = NULL;
	char b64[MS_DNSKEY_B64_MAX];
	int64_t flags = 0, protocol = 0, alg = 0, ttl = 0;
	char where[64];
	snprintf(where, sizeof(where), "%s DNSKEY", ctx);
	ms_rc_t rc = need_object(v, ctx, err);
	if (rc == MS_OK) {
		rc = ms_json_get_object(v, "DNSKEY", true, &dnskey, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(dnskey, "Flags", true, 0, 65535, &flags, NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(dnskey, "Protocol", true, 0, 255, &protocol, NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_int(dnskey, "Algorithm", true, 0, 255, &alg, NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(dnskey, "PublicKey", true, b64, sizeof(b64), NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_object(dnskey, "Hdr", false, &hdr, where, err);
	}
	if (rc == MS_OK && hdr != NULL) {
		rc = ms_json_get_int(hdr, "Ttl", false, 0, INT32_MAX, &ttl, NULL, where, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(v, "Tag", true, out->state_text, sizeof(out->state_text),
		                        NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_json_get_string(v, "Name", false, out->name, sizeof(out->name), NULL, ctx, err);
	}
	if (rc == MS_OK) {
		rc = ms_dnskey_from_b64((uint16_t)flags, protocol, alg, b64, &out->key, err);
		if (rc != MS_OK) {
			ms_err_prefix(err, "%s", where);
		}
	}
	out->ttl = (uint32_t)ttl;
	out->state = zsk_state(out->state_text);
	return rc;
}

ms_rc_t ms_cf_zsks_from_json(const json_object *result, ms_cf_zsk_list_t *out, ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	ms_rc_t rc = need_array(result, "Cloudflare ZSKs", err);
	if (rc != MS_OK) {
		return rc;
	}
	size_t n = json_object_array_length(result);
	if (n == 0) {
		return MS_OK;
	}
	out->items = calloc(n, sizeof(*out->items));
	if (out->items == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "Cloudflare ZSK %zu", i + 1);
		rc = zsk_entry(json_object_array_get_idx(result, i), ctx, &out->items[i], err);
		if (rc != MS_OK) {
			ms_cf_zsk_list_free(out);
			return rc;
		}
		out->count++;
	}
	return MS_OK;
}

ms_rc_t ms_cf_deleted_from_json(const json_object *result, char id[MS_CF_ID_MAX + 1],
                                ms_err_t *err)
{
	ms_rc_t rc = need_object(result, "deleted record", err);
	return rc == MS_OK ? get_id(result, "id", id, "deleted record", err) : rc;
}

ms_rc_t ms_cf_batch_from_json(const json_object *result, ms_cf_record_list_t *created,
                              ms_err_t *err)
{
	memset(created, 0, sizeof(*created));
	json_object *posts;
	ms_rc_t rc = need_object(result, "batch", err);
	if (rc == MS_OK) {
		rc = ms_json_get_array(result, "posts", false, &posts, "batch", err);
	}
	if (rc == MS_OK && posts != NULL) {
		rc = ms_cf_records_from_json(posts, "batch posts", created, err);
	}
	if (rc != MS_OK) {
		ms_cf_record_list_free(created);
	}
	return rc;
}

/* ---- whole bodies ---------------------------------------------------------- */

static ms_rc_t with_envelope(const char *body, long status, ms_cf_envelope_t *env,
                             ms_err_t *err)
{
	return ms_cf_envelope_parse(body, body ? strlen(body) : 0, status, env, err);
}

ms_rc_t ms_cf_parse_token(const char *body, long status, ms_cf_token_t *out, ms_err_t *err)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = with_envelope(body, status, &env, err);
	if (rc == MS_OK) {
		rc = ms_cf_token_from_json(env.result, out, err);
	}
	ms_cf_envelope_free(&env);
	return rc;
}

ms_rc_t ms_cf_parse_zone(const char *body, long status, ms_cf_zone_t *out, ms_err_t *err)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = with_envelope(body, status, &env, err);
	if (rc == MS_OK) {
		rc = ms_cf_zone_from_json(env.result, "zone", out, err);
	}
	ms_cf_envelope_free(&env);
	return rc;
}

ms_rc_t ms_cf_parse_dnssec(const char *body, long status, ms_cf_dnssec_t *out, ms_err_t *err)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = with_envelope(body, status, &env, err);
	if (rc == MS_OK) {
		rc = ms_cf_dnssec_from_json(env.result, out, err);
	}
	ms_cf_envelope_free(&env);
	return rc;
}

ms_rc_t ms_cf_parse_dns_settings(const char *body, long status, ms_cf_dns_settings_t *out,
                                 ms_err_t *err)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = with_envelope(body, status, &env, err);
	if (rc == MS_OK) {
		rc = ms_cf_dns_settings_from_json(env.result, out, err);
	}
	ms_cf_envelope_free(&env);
	return rc;
}

ms_rc_t ms_cf_parse_record_page(const char *body, long status, ms_cf_record_list_t *list,
                                ms_cf_result_info_t *info, ms_err_t *err)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = with_envelope(body, status, &env, err);
	if (rc == MS_OK) {
		*info = env.info;
		rc = ms_cf_records_from_json(env.result, "DNS records", list, err);
	}
	ms_cf_envelope_free(&env);
	return rc;
}

ms_rc_t ms_cf_parse_zsks(const char *body, long status, ms_cf_zsk_list_t *out, ms_err_t *err)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = with_envelope(body, status, &env, err);
	if (rc == MS_OK) {
		rc = ms_cf_zsks_from_json(env.result, out, err);
	} else {
		memset(out, 0, sizeof(*out));
	}
	ms_cf_envelope_free(&env);
	return rc;
}
