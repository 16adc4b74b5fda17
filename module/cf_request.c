#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cf_names.h"
#include "cf_request.h"

static ms_rc_t oom(ms_err_t *err)
{
	return ms_err_set(err, MS_ENOMEM, "out of memory");
}

/* Serialise and release obj; *out is a heap copy. */
static ms_rc_t finish(json_object *obj, char **out, ms_err_t *err)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
	*out = s ? strdup(s) : NULL;
	json_object_put(obj);
	return *out ? MS_OK : oom(err);
}

static bool add(json_object *obj, const char *key, json_object *v)
{
	return v != NULL && json_object_object_add(obj, key, v) == 0;
}

static ms_rc_t check_text(const char *what, const char *s, size_t max, ms_err_t *err)
{
	size_t len = strlen(s);
	if (len > max) {
		return ms_err_set(err, MS_EINVAL, "%s is longer than %zu characters", what, max);
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			return ms_err_set(err, MS_EINVAL, "%s contains a control character", what);
		}
	}
	return MS_OK;
}

static ms_rc_t check_tag(const char *tag, ms_err_t *err)
{
	const char *colon = strchr(tag, ':');
	bool ok = colon != NULL && colon != tag;
	for (const char *p = tag; ok && p < colon; p++) {
		ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
	}
	if (!ok) {
		return ms_err_set(err, MS_EINVAL, "tag '%.40s' is not name:value with a name of "
		                  "letters, digits, '_' and '-'", tag);
	}
	return check_text("tag", tag, MS_CF_TAG_MAX, err);
}

static ms_rc_t check_record(const ms_cf_record_t *rec, ms_err_t *err)
{
	if (rec->type != MS_CF_RR_NS && rec->type != MS_CF_RR_DNSKEY) {
		return ms_err_set(err, MS_EINVAL, "only NS and DNSKEY records are created");
	}
	if (rec->name[0] == '\0') {
		return ms_err_set(err, MS_EINVAL, "record has no name");
	}
	if (rec->ttl != MS_CF_TTL_AUTO && (rec->ttl < 60 || rec->ttl > 86400)) {
		return ms_err_set(err, MS_EINVAL, "TTL %u is not accepted by Cloudflare: use 1 "
		                  "(automatic) or 60 to 86400", rec->ttl);
	}
	if (rec->type == MS_CF_RR_NS && rec->ns_host[0] == '\0') {
		return ms_err_set(err, MS_EINVAL, "NS record has no host name");
	}
	if (rec->type == MS_CF_RR_DNSKEY && rec->dnskey.pubkey_len == 0) {
		return ms_err_set(err, MS_EINVAL, "DNSKEY record has no public key");
	}
	ms_rc_t rc = rec->has_comment ? check_text("comment", rec->comment, MS_CF_COMMENT_MAX, err)
	                              : MS_OK;
	for (size_t i = 0; rc == MS_OK && i < rec->tag_count && i < MS_CF_TAGS_MAX; i++) {
		rc = check_tag(rec->tags[i], err);
	}
	return rc;
}

static json_object *dnskey_data(const ms_dnskey_t *key)
{
	char b64[MS_DNSKEY_B64_MAX];
	json_object *data = json_object_new_object();
	if (data == NULL || !ms_dnskey_pubkey_b64(key, b64, sizeof(b64)) ||
	    !add(data, "flags", json_object_new_int(key->flags)) ||
	    !add(data, "protocol", json_object_new_int(key->protocol)) ||
	    !add(data, "algorithm", json_object_new_int(key->algorithm)) ||
	    !add(data, "public_key", json_object_new_string(b64))) {
		json_object_put(data);
		return NULL;
	}
	return data;
}

/* The record as a JSON object (NULL: out of memory). */
static json_object *record_object(const ms_cf_record_t *rec)
{
	json_object *obj = json_object_new_object();
	bool ok = obj != NULL &&
	          add(obj, "type", json_object_new_string(ms_cf_rrtype_name(rec->type))) &&
	          add(obj, "name", json_object_new_string(rec->name)) &&
	          add(obj, "ttl", json_object_new_int64(rec->ttl));
	if (ok && rec->type == MS_CF_RR_DNSKEY) {
		ok = add(obj, "data", dnskey_data(&rec->dnskey));
	} else if (ok) {
		ok = add(obj, "content", json_object_new_string(rec->ns_host));
	}
	if (ok && rec->has_comment) {
		ok = add(obj, "comment", json_object_new_string(rec->comment));
	}
	if (ok && rec->tag_count > 0) {
		json_object *tags = json_object_new_array();
		ok = add(obj, "tags", tags);
		for (size_t i = 0; ok && i < rec->tag_count && i < MS_CF_TAGS_MAX; i++) {
			json_object *t = json_object_new_string(rec->tags[i]);
			ok = t != NULL && json_object_array_add(tags, t) == 0;
		}
	}
	if (!ok) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

ms_rc_t ms_cf_body_record(const ms_cf_record_t *rec, char **out, ms_err_t *err)
{
	*out = NULL;
	ms_rc_t rc = check_record(rec, err);
	if (rc != MS_OK) {
		return rc;
	}
	json_object *obj = record_object(rec);
	return obj ? finish(obj, out, err) : oom(err);
}

ms_rc_t ms_cf_body_dnssec_patch(const ms_cf_dnssec_patch_t *patch, char **out, ms_err_t *err)
{
	*out = NULL;
	if (patch->status != MS_CF_DNSSEC_UNKNOWN && patch->status != MS_CF_DNSSEC_ACTIVE &&
	    patch->status != MS_CF_DNSSEC_DISABLED) {
		return ms_err_set(err, MS_EINVAL, "DNSSEC status can only be set to active or disabled");
	}
	if (patch->status == MS_CF_DNSSEC_UNKNOWN && patch->multi_signer == MS_CF_KEEP) {
		return ms_err_set(err, MS_EINVAL, "DNSSEC change without anything to change");
	}
	json_object *obj = json_object_new_object();
	bool ok = obj != NULL;
	if (ok && patch->status != MS_CF_DNSSEC_UNKNOWN) {
		ok = add(obj, "status", json_object_new_string(ms_cf_dnssec_status_name(patch->status)));
	}
	if (ok && patch->multi_signer != MS_CF_KEEP) {
		ok = add(obj, "dnssec_multi_signer",
		         json_object_new_boolean(patch->multi_signer == MS_CF_SET_TRUE));
	}
	if (!ok) {
		json_object_put(obj);
		return oom(err);
	}
	return finish(obj, out, err);
}

ms_rc_t ms_cf_body_dns_settings_patch(bool multi_provider, char **out, ms_err_t *err)
{
	*out = NULL;
	json_object *obj = json_object_new_object();
	if (obj == NULL || !add(obj, "multi_provider", json_object_new_boolean(multi_provider))) {
		json_object_put(obj);
		return oom(err);
	}
	return finish(obj, out, err);
}

static ms_rc_t check_batch(const ms_cf_batch_t *b, ms_err_t *err)
{
	size_t ops = b->delete_count + b->post_count;
	if (ops == 0) {
		return ms_err_set(err, MS_EINVAL, "batch without operations");
	}
	if (ops > MS_CF_BATCH_MAX) {
		return ms_err_set(err, MS_EINVAL, "batch of %zu operations, more than the %d the "
		                  "API takes in one request", ops, MS_CF_BATCH_MAX);
	}
	for (size_t i = 0; i < b->delete_count; i++) {
		if (!ms_cf_id_is_safe(b->delete_ids[i])) {
			return ms_err_set(err, MS_EINVAL, "batch delete %zu has no valid record id", i + 1);
		}
	}
	for (size_t i = 0; i < b->post_count; i++) {
		ms_rc_t rc = check_record(&b->posts[i], err);
		if (rc != MS_OK) {
			return ms_err_prefix(err, "batch post %zu", i + 1);
		}
	}
	return MS_OK;
}

ms_rc_t ms_cf_body_batch(const ms_cf_batch_t *b, char **out, ms_err_t *err)
{
	*out = NULL;
	ms_rc_t rc = check_batch(b, err);
	if (rc != MS_OK) {
		return rc;
	}
	json_object *obj = json_object_new_object();
	json_object *deletes = NULL, *posts = NULL;
	bool ok = obj != NULL && add(obj, "deletes", deletes = json_object_new_array()) &&
	          add(obj, "posts", posts = json_object_new_array());
	for (size_t i = 0; ok && i < b->delete_count; i++) {
		json_object *d = json_object_new_object();
		ok = d != NULL && json_object_array_add(deletes, d) == 0 &&
		     add(d, "id", json_object_new_string(b->delete_ids[i]));
	}
	for (size_t i = 0; ok && i < b->post_count; i++) {
		json_object *r = record_object(&b->posts[i]);
		ok = r != NULL && json_object_array_add(posts, r) == 0;
	}
	if (!ok) {
		json_object_put(obj);
		return oom(err);
	}
	return finish(obj, out, err);
}
