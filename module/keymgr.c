#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "keymgr.h"
#include "proc.h"

#define ZONE_MAX 254 /* with the trailing dot */
#define ARGV_MAX 12

/* ---- small helpers ---------------------------------------------------- */

bool ms_keymgr_id_valid(const char *id)
{
	if (id == NULL || strlen(id) != MS_KEYMGR_ID_LEN) {
		return false;
	}
	for (size_t i = 0; i < MS_KEYMGR_ID_LEN; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
	}
	return true;
}

/* Zone name for argv: printable, no white space, not starting with '-'
 * (keymgr would take it for an option), with one trailing dot. */
static ms_rc_t zone_arg(const char *zone, char out[ZONE_MAX + 1], ms_err_t *err)
{
	size_t n = zone ? strlen(zone) : 0;
	if (n == 0 || zone[0] == '-' || zone[0] == '.' || n > ZONE_MAX - 1 + (zone[n - 1] == '.')) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a zone name", zone ? zone : "(null)");
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)zone[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\') {
			return ms_err_set(err, MS_EINVAL, "zone name '%s' has a character keymgr "
			                  "cannot be given safely", zone);
		}
	}
	memcpy(out, zone, n);
	if (out[n - 1] != '.') {
		out[n++] = '.';
	}
	out[n] = '\0';
	return MS_OK;
}

static bool same_zone(const char *a, const char *b_dotted)
{
	size_t na = strlen(a), nb = strlen(b_dotted);
	if (na > 0 && a[na - 1] == '.') {
		na--;
	}
	if (nb > 0 && b_dotted[nb - 1] == '.') {
		nb--;
	}
	return na == nb && strncasecmp(a, b_dotted, na) == 0;
}

static const char *keymgr_prog(const ms_keymgr_ctx_t *ctx)
{
	return ctx->keymgr ? ctx->keymgr : MS_KEYMGR_PATH;
}

/* argv = keymgr <db option> [-j] <zone> <cmd> [a1] [a2]; label for errors. */
static ms_rc_t run_keymgr(const ms_keymgr_ctx_t *ctx, bool json, const char *zone,
                          const char *cmd, const char *a1, const char *a2,
                          ms_proc_result_t *res, ms_err_t *err)
{
	const char *argv[ARGV_MAX];
	size_t n = 0;
	argv[n++] = keymgr_prog(ctx);
	if (ctx->kasp_db != NULL) {
		argv[n++] = "-D";
		argv[n++] = ctx->kasp_db;
	} else if (ctx->conf != NULL) {
		argv[n++] = "-c";
		argv[n++] = ctx->conf;
	} else {
		memset(res, 0, sizeof(*res));
		return ms_err_set(err, MS_EINVAL, "keymgr needs knotd's KASP database directory "
		                  "(database.kasp-db) or configuration file");
	}
	if (json) {
		argv[n++] = "-j";
	}
	argv[n++] = zone;
	argv[n++] = cmd;
	if (a1 != NULL) {
		argv[n++] = a1;
	}
	if (a2 != NULL) {
		argv[n++] = a2;
	}
	argv[n] = NULL;
	char label[64 + ZONE_MAX];
	snprintf(label, sizeof(label), "keymgr %s %s", zone, cmd);
	ms_proc_opts_t opts = {
		.argv = argv,
		.label = label,
		.timeout_ms = ctx->timeout_ms > 0 ? ctx->timeout_ms : MS_KEYMGR_TIMEOUT_MS,
		.abort = ctx->abort,
	};
	return ms_proc_run(&opts, res, err);
}

/* ---- parsers ---------------------------------------------------------- */

static ms_rc_t get_field(json_object *o, const char *name, json_type type, bool required,
                         json_object **val, size_t idx, ms_err_t *err)
{
	*val = NULL;
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL) {
		if (required) {
			return ms_err_set(err, MS_EPARSE, "keymgr list: key %zu has no \"%s\"", idx, name);
		}
		return MS_OK;
	}
	if (!json_object_is_type(v, type)) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: key %zu: \"%s\" has the wrong type",
		                  idx, name);
	}
	*val = v;
	return MS_OK;
}

static ms_rc_t get_int(json_object *o, const char *name, bool required, int64_t min,
                       int64_t max, int64_t *out, size_t idx, ms_err_t *err)
{
	json_object *v;
	ms_rc_t rc = get_field(o, name, json_type_int, required, &v, idx, err);
	if (rc != MS_OK) {
		return rc;
	}
	*out = 0;
	if (v == NULL) {
		return MS_OK;
	}
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno != 0 || x < min || x > max) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: key %zu: \"%s\" is out of range",
		                  idx, name);
	}
	*out = x;
	return MS_OK;
}

static ms_rc_t get_bool(json_object *o, const char *name, bool *out, size_t idx, ms_err_t *err)
{
	json_object *v;
	ms_rc_t rc = get_field(o, name, json_type_boolean, true, &v, idx, err);
	if (rc == MS_OK) {
		*out = json_object_get_boolean(v);
	}
	return rc;
}

static ms_rc_t parse_key(json_object *o, const char *zone, size_t idx, ms_keymgr_key_t *k,
                         ms_err_t *err)
{
	if (!json_object_is_type(o, json_type_object)) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: entry %zu is not an object", idx);
	}
	memset(k, 0, sizeof(*k));
	json_object *v;
	ms_rc_t rc = get_field(o, "zone", json_type_string, false, &v, idx, err);
	if (rc != MS_OK) {
		return rc;
	}
	if (v != NULL && !same_zone(json_object_get_string(v), zone)) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: key %zu belongs to zone '%.64s', "
		                  "not %s", idx, json_object_get_string(v), zone);
	}
	if ((rc = get_field(o, "id", json_type_string, true, &v, idx, err)) != MS_OK) {
		return rc;
	}
	if (!ms_keymgr_id_valid(json_object_get_string(v))) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: key %zu: id is not 40 hex digits", idx);
	}
	memcpy(k->id, json_object_get_string(v), MS_KEYMGR_ID_LEN + 1);

	int64_t tag, alg, size;
	if ((rc = get_bool(o, "ksk", &k->ksk, idx, err)) != MS_OK ||
	    (rc = get_bool(o, "zsk", &k->zsk, idx, err)) != MS_OK ||
	    (rc = get_bool(o, "public-only", &k->public_only, idx, err)) != MS_OK ||
	    (rc = get_int(o, "tag", true, 0, UINT16_MAX, &tag, idx, err)) != MS_OK ||
	    (rc = get_int(o, "algorithm", true, 1, 255, &alg, idx, err)) != MS_OK ||
	    (rc = get_int(o, "size", false, 0, UINT16_MAX, &size, idx, err)) != MS_OK) {
		return rc;
	}
	if (!k->ksk && !k->zsk) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: key %zu is neither KSK nor ZSK", idx);
	}
	k->tag = (uint16_t)tag;
	k->algorithm = (uint8_t)alg;
	k->size = (uint16_t)size;

	static const struct {
		const char *name;
		bool required;
		size_t offset;
	} timers[] = {
		{ "pre-active", false, offsetof(ms_keymgr_key_t, pre_active) },
		{ "publish", true, offsetof(ms_keymgr_key_t, publish) },
		{ "ready", true, offsetof(ms_keymgr_key_t, ready) },
		{ "active", true, offsetof(ms_keymgr_key_t, active) },
		{ "retire-active", false, offsetof(ms_keymgr_key_t, retire_active) },
		{ "retire", true, offsetof(ms_keymgr_key_t, retire) },
		{ "post-active", false, offsetof(ms_keymgr_key_t, post_active) },
		{ "revoke", false, offsetof(ms_keymgr_key_t, revoke) },
		{ "remove", true, offsetof(ms_keymgr_key_t, remove) },
	};
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		int64_t *dst = (int64_t *)((char *)k + timers[i].offset);
		rc = get_int(o, timers[i].name, timers[i].required, 0, INT64_MAX, dst, idx, err);
		if (rc != MS_OK) {
			return rc;
		}
	}
	return MS_OK;
}

ms_rc_t ms_keymgr_parse_list(const char *json, size_t len, const char *zone,
                             ms_keymgr_keys_t *out, ms_err_t *err)
{
	char zarg[ZONE_MAX + 1];
	ms_rc_t rc = zone_arg(zone, zarg, err);
	if (rc != MS_OK) {
		return rc;
	}
	if (out == NULL || json == NULL) {
		return ms_err_set(err, MS_EINVAL, "keymgr list: nothing to parse");
	}
	out->count = 0;
	size_t start = 0;
	while (start < len && (json[start] == ' ' || json[start] == '\n' || json[start] == '\t' ||
	                       json[start] == '\r')) {
		start++;
	}
	if (start == len) {
		return ms_err_set(err, MS_ENOTFOUND, "keymgr lists no key for %s (is dnssec-signing "
		                  "on and has knotd signed the zone?)", zarg);
	}
	if (len > INT32_MAX || memchr(json, '\0', len) != NULL) {
		return ms_err_set(err, MS_EPARSE, "keymgr list: output is not JSON text");
	}
	json_tokener *tok = json_tokener_new();
	if (tok == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory parsing keymgr output");
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL || jerr != json_tokener_success) {
		json_object_put(root);
		return ms_err_set(err, MS_EPARSE, "keymgr list: output is not valid JSON (%s)",
		                  json_tokener_error_desc(jerr));
	}
	for (size_t i = used; i < len; i++) {
		if (json[i] != ' ' && json[i] != '\n' && json[i] != '\t' && json[i] != '\r') {
			json_object_put(root);
			return ms_err_set(err, MS_EPARSE, "keymgr list: text after the JSON value");
		}
	}
	if (!json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return ms_err_set(err, MS_EPARSE, "keymgr list: output is not a JSON array");
	}
	size_t n = json_object_array_length(root);
	if (n > MS_KEYMGR_MAX_KEYS) {
		json_object_put(root);
		return ms_err_set(err, MS_ETOOBIG, "keymgr lists %zu keys for %s, more than %d",
		                  n, zarg, MS_KEYMGR_MAX_KEYS);
	}
	for (size_t i = 0; i < n; i++) {
		rc = parse_key(json_object_array_get_idx(root, i), zarg, i, &out->keys[i], err);
		if (rc != MS_OK) {
			json_object_put(root);
			out->count = 0;
			return rc;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(out->keys[j].id, out->keys[i].id) == 0) {
				json_object_put(root);
				out->count = 0;
				return ms_err_set(err, MS_EPARSE, "keymgr list: key %s is listed twice",
				                  out->keys[i].id);
			}
		}
	}
	out->count = n;
	json_object_put(root);
	return MS_OK;
}

/* Next white-space separated token of *p into buf. */
static bool token(const char **p, char *buf, size_t cap)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	size_t n = 0;
	while (s[n] != '\0' && s[n] != ' ' && s[n] != '\t' && s[n] != '\n' && s[n] != '\r') {
		n++;
	}
	if (n == 0 || n >= cap) {
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = s + n;
	return true;
}

ms_rc_t ms_keymgr_parse_dnskey(const char *text, const char *zone, ms_dnskey_t *out,
                               ms_err_t *err)
{
	char zarg[ZONE_MAX + 1];
	ms_rc_t rc = zone_arg(zone, zarg, err);
	if (rc != MS_OK) {
		return rc;
	}
	if (text == NULL) {
		return ms_err_set(err, MS_EPARSE, "keymgr dnskey: no output");
	}
	/* Exactly one line: "<owner> [ttl] [IN] DNSKEY <rdata>". */
	const char *nl = strchr(text, '\n');
	if (nl != NULL) {
		for (const char *q = nl; *q != '\0'; q++) {
			if (*q != '\n' && *q != '\r' && *q != ' ' && *q != '\t') {
				return ms_err_set(err, MS_EPARSE, "keymgr dnskey: more than one line");
			}
		}
	}
	size_t linelen = nl ? (size_t)(nl - text) : strlen(text);
	char *line = strndup(text, linelen);
	if (line == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory parsing keymgr output");
	}
	const char *p = line;
	char tok[ZONE_MAX + 1];
	rc = MS_OK;
	if (!token(&p, tok, sizeof(tok)) || !same_zone(tok, zarg)) {
		rc = ms_err_set(err, MS_EPARSE, "keymgr dnskey: not a record of %s", zarg);
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		if (!token(&p, tok, sizeof(tok))) {
			rc = ms_err_set(err, MS_EPARSE, "keymgr dnskey: no DNSKEY record");
			goto out;
		}
		if (strcmp(tok, "DNSKEY") == 0) {
			break;
		}
		bool ttl = tok[0] != '\0' && strspn(tok, "0123456789") == strlen(tok);
		if (i == 2 || (!ttl && strcmp(tok, "IN") != 0)) {
			rc = ms_err_set(err, MS_EPARSE, "keymgr dnskey: no DNSKEY record");
			goto out;
		}
	}
	rc = ms_dnskey_from_text(p, out, err);
	if (rc != MS_OK) {
		ms_err_prefix(err, "keymgr dnskey");
	}
out:
	free(line);
	return rc;
}

ms_rc_t ms_keymgr_parse_import(const char *text, char id_out[MS_KEYMGR_ID_LEN + 1],
                               ms_err_t *err)
{
	const char *p = text ? text : "";
	char id[MS_KEYMGR_ID_LEN + 2], ok[8];
	if (!token(&p, id, sizeof(id)) || !ms_keymgr_id_valid(id)) {
		return ms_err_set(err, MS_EPARSE, "keymgr import-pub: did not print a key id");
	}
	while (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t') {
		p++;
	}
	if (!token(&p, ok, sizeof(ok)) || strcmp(ok, "OK") != 0) {
		return ms_err_set(err, MS_EPARSE, "keymgr import-pub: did not confirm with OK");
	}
	while (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t') {
		p++;
	}
	if (*p != '\0') {
		return ms_err_set(err, MS_EPARSE, "keymgr import-pub: unexpected output after OK");
	}
	memcpy(id_out, id, MS_KEYMGR_ID_LEN + 1);
	return MS_OK;
}

/* ---- operations ------------------------------------------------------- */

static ms_rc_t check_ctx(const ms_keymgr_ctx_t *ctx, ms_err_t *err)
{
	if (ctx == NULL || (ctx->kasp_db == NULL && ctx->conf == NULL)) {
		return ms_err_set(err, MS_EINVAL, "keymgr needs knotd's KASP database directory "
		                  "(database.kasp-db) or configuration file");
	}
	const char *dir = ctx->kasp_db ? ctx->kasp_db : ctx->conf;
	if (dir[0] != '/') {
		return ms_err_set(err, MS_EINVAL, "keymgr: '%s' is not an absolute path", dir);
	}
	return MS_OK;
}

ms_rc_t ms_keymgr_dnskey(const ms_keymgr_ctx_t *ctx, const char *zone, const char *id,
                         ms_dnskey_t *out, ms_err_t *err)
{
	char zarg[ZONE_MAX + 1], spec[8 + MS_KEYMGR_ID_LEN];
	ms_rc_t rc = check_ctx(ctx, err);
	if (rc != MS_OK || (rc = zone_arg(zone, zarg, err)) != MS_OK) {
		return rc;
	}
	if (!ms_keymgr_id_valid(id)) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a keymgr key id", id ? id : "(null)");
	}
	snprintf(spec, sizeof(spec), "id=%s", id);
	ms_proc_result_t res;
	rc = run_keymgr(ctx, false, zarg, "dnskey", spec, NULL, &res, err);
	if (rc == MS_OK) {
		rc = ms_keymgr_parse_dnskey(res.out, zarg, out, err);
	}
	ms_proc_result_free(&res);
	return rc;
}

static ms_rc_t fill_dnskey(const ms_keymgr_ctx_t *ctx, const char *zarg, ms_keymgr_key_t *k,
                           ms_err_t *err)
{
	ms_rc_t rc = ms_keymgr_dnskey(ctx, zarg, k->id, &k->dnskey, err);
	if (rc != MS_OK) {
		return rc;
	}
	uint16_t role = k->ksk ? 257 : 256;
	if (k->dnskey.algorithm != k->algorithm || ms_dnskey_tag(&k->dnskey) != k->tag ||
	    (k->dnskey.flags & ~MS_DNSKEY_FLAG_REVOKE) != role) {
		return ms_err_set(err, MS_EPARSE, "keymgr dnskey for key %s (tag %u) does not match "
		                  "its listing", k->id, k->tag);
	}
	k->has_dnskey = true;
	return MS_OK;
}

ms_rc_t ms_keymgr_fill_dnskey(const ms_keymgr_ctx_t *ctx, const char *zone, ms_keymgr_key_t *k,
                              ms_err_t *err)
{
	char zarg[ZONE_MAX + 1];
	ms_rc_t rc = check_ctx(ctx, err);
	if (rc != MS_OK || (rc = zone_arg(zone, zarg, err)) != MS_OK) {
		return rc;
	}
	return fill_dnskey(ctx, zarg, k, err);
}

ms_rc_t ms_keymgr_list(const ms_keymgr_ctx_t *ctx, const char *zone, bool with_dnskeys,
                       ms_keymgr_keys_t *out, ms_err_t *err)
{
	char zarg[ZONE_MAX + 1];
	ms_rc_t rc = check_ctx(ctx, err);
	if (rc != MS_OK || (rc = zone_arg(zone, zarg, err)) != MS_OK) {
		return rc;
	}
	if (out == NULL) {
		return ms_err_set(err, MS_EINVAL, "keymgr list: no result buffer");
	}
	out->count = 0;
	ms_proc_result_t res;
	rc = run_keymgr(ctx, true, zarg, "list", NULL, NULL, &res, err);
	if (rc == MS_OK) {
		rc = ms_keymgr_parse_list(res.out, res.out_len, zarg, out, err);
	}
	ms_proc_result_free(&res);
	for (size_t i = 0; rc == MS_OK && with_dnskeys && i < out->count; i++) {
		rc = fill_dnskey(ctx, zarg, &out->keys[i], err);
	}
	if (rc != MS_OK) {
		out->count = 0;
	}
	return rc;
}

static bool same_material(const ms_dnskey_t *a, const ms_dnskey_t *b)
{
	return a->algorithm == b->algorithm && a->pubkey_len == b->pubkey_len &&
	       memcmp(a->pubkey, b->pubkey, a->pubkey_len) == 0;
}

/* Could k (from the list) be the same key material as key, judging by its
 * tag? The tag depends on the flags, so try the flag values keymgr may hold. */
static bool tag_may_match(const ms_keymgr_key_t *k, const ms_dnskey_t *key)
{
	static const uint16_t flags[] = { 256, 257, 384, 385 };
	if (k->algorithm != key->algorithm) {
		return false;
	}
	ms_dnskey_t v = *key;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		v.flags = flags[i];
		if (ms_dnskey_tag(&v) == k->tag) {
			return true;
		}
	}
	return false;
}

ms_rc_t ms_keymgr_import_pub(const ms_keymgr_ctx_t *ctx, const char *zone,
                             const ms_dnskey_t *key, char id_out[MS_KEYMGR_ID_LEN + 1],
                             ms_err_t *err)
{
	char zarg[ZONE_MAX + 1];
	ms_rc_t rc = check_ctx(ctx, err);
	if (rc != MS_OK || (rc = zone_arg(zone, zarg, err)) != MS_OK) {
		return rc;
	}
	if (key == NULL || id_out == NULL) {
		return ms_err_set(err, MS_EINVAL, "keymgr import-pub: no key given");
	}
	if ((key->flags != 256 && key->flags != 257) || key->protocol != MS_DNSKEY_PROTOCOL ||
	    key->pubkey_len == 0) {
		return ms_err_set(err, MS_EINVAL, "refusing to import DNSKEY %u %u %u into %s: only "
		                  "ZSKs (256) and KSKs (257) of protocol 3 are imported",
		                  key->flags, key->protocol, key->algorithm, zarg);
	}
	uint16_t tag = ms_dnskey_tag(key);

	/* Is it there already, as ours or as imported? */
	ms_keymgr_keys_t *have = malloc(sizeof(*have));
	if (have == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	rc = ms_keymgr_list(ctx, zarg, false, have, err);
	if (rc == MS_ENOTFOUND) {
		have->count = 0; /* nothing there: the zone is not signed yet */
		rc = MS_OK;
	}
	for (size_t i = 0; rc == MS_OK && i < have->count; i++) {
		ms_keymgr_key_t *k = &have->keys[i];
		if (!tag_may_match(k, key)) {
			continue;
		}
		rc = fill_dnskey(ctx, zarg, k, err);
		if (rc != MS_OK || !same_material(&k->dnskey, key)) {
			continue;
		}
		if (!k->public_only) {
			rc = ms_err_set(err, MS_EINVAL, "refusing to import DNSKEY tag %u into %s: it is "
			                "knotd's own key %s (importing would turn it public-only)",
			                tag, zarg, k->id);
		} else if (k->dnskey.flags != key->flags) {
			rc = ms_err_set(err, MS_EINVAL, "refusing to import DNSKEY tag %u into %s: key "
			                "%s has the same material with flags %u; delete it first",
			                tag, zarg, k->id, k->dnskey.flags);
		} else {
			memcpy(id_out, k->id, MS_KEYMGR_ID_LEN + 1);
			free(have);
			return MS_OK; /* already imported */
		}
	}
	if (rc != MS_OK) {
		free(have);
		return rc;
	}

	char b64[MS_DNSKEY_B64_MAX];
	if (!ms_dnskey_pubkey_b64(key, b64, sizeof(b64))) {
		free(have);
		return ms_err_set(err, MS_EINVAL, "keymgr import-pub: cannot encode the key");
	}
	/* keymgr insists on a name ending in ".key"; owner and TTL are ignored. */
	const char *dir = ctx->tmp_dir ? ctx->tmp_dir : "/tmp";
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/ms-import-XXXXXX.key", dir) >= (int)sizeof(path) ||
	    dir[0] != '/') {
		free(have);
		return ms_err_set(err, MS_EINVAL, "temporary directory '%s' is not usable", dir);
	}
	int fd = mkostemps(path, 4, O_CLOEXEC);
	if (fd < 0) {
		char ebuf[128];
		free(have);
		return ms_err_set(err, MS_EIO, "cannot create a key file in %s: %s", dir,
		                  strerror_r(errno, ebuf, sizeof(ebuf)));
	}
	char line[MS_DNSKEY_B64_MAX + ZONE_MAX + 64];
	int len = snprintf(line, sizeof(line), "%s DNSKEY %u %u %u %s\n", zarg, key->flags,
	                   key->protocol, key->algorithm, b64);
	bool written = len > 0 && (size_t)len < sizeof(line) &&
	               write(fd, line, (size_t)len) == len;
	if (close(fd) != 0) {
		written = false;
	}
	if (!written) {
		unlink(path);
		free(have);
		return ms_err_set(err, MS_EIO, "cannot write the key file %s", path);
	}
	ms_proc_result_t res;
	rc = run_keymgr(ctx, false, zarg, "import-pub", path, NULL, &res, err);
	unlink(path);
	char id[MS_KEYMGR_ID_LEN + 1];
	if (rc == MS_OK) {
		rc = ms_keymgr_parse_import(res.out, id, err);
	}
	ms_proc_result_free(&res);
	for (size_t i = 0; rc == MS_OK && i < have->count; i++) {
		if (strcmp(have->keys[i].id, id) == 0 && !have->keys[i].public_only) {
			rc = ms_err_set(err, MS_EIO, "keymgr import-pub into %s returned the id of "
			                "knotd's own key %s: check it with `keymgr %s list`",
			                zarg, id, zarg);
		}
	}
	free(have);
	if (rc == MS_OK) {
		memcpy(id_out, id, MS_KEYMGR_ID_LEN + 1);
	}
	return rc;
}

ms_rc_t ms_keymgr_delete(const ms_keymgr_ctx_t *ctx, const char *zone, const char *id,
                         ms_err_t *err)
{
	char zarg[ZONE_MAX + 1], spec[8 + MS_KEYMGR_ID_LEN];
	ms_rc_t rc = check_ctx(ctx, err);
	if (rc != MS_OK || (rc = zone_arg(zone, zarg, err)) != MS_OK) {
		return rc;
	}
	if (!ms_keymgr_id_valid(id)) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a keymgr key id", id ? id : "(null)");
	}
	ms_keymgr_keys_t *have = malloc(sizeof(*have));
	if (have == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	rc = ms_keymgr_list(ctx, zarg, false, have, err);
	const ms_keymgr_key_t *found = NULL;
	for (size_t i = 0; rc == MS_OK && i < have->count; i++) {
		if (strcmp(have->keys[i].id, id) == 0) {
			found = &have->keys[i];
		}
	}
	if (rc == MS_OK && found == NULL) {
		rc = ms_err_set(err, MS_ENOTFOUND, "key %s is not in %s's key database", id, zarg);
	} else if (rc == MS_OK && !found->public_only) {
		rc = ms_err_set(err, MS_EINVAL, "refusing to delete key %s (tag %u) of %s: it is "
		                "one of knotd's own keys, not an imported one", id, found->tag, zarg);
	}
	free(have);
	if (rc != MS_OK) {
		return rc;
	}
	snprintf(spec, sizeof(spec), "id=%s", id);
	ms_proc_result_t res;
	rc = run_keymgr(ctx, false, zarg, "delete", spec, NULL, &res, err);
	ms_proc_result_free(&res);
	return rc;
}

ms_rc_t ms_keymgr_set_publish(const ms_keymgr_ctx_t *ctx, const char *zone, const char *id,
                              int64_t when, ms_err_t *err)
{
	char zarg[ZONE_MAX + 1], spec[8 + MS_KEYMGR_ID_LEN], attr[40];
	ms_rc_t rc = check_ctx(ctx, err);
	if (rc != MS_OK || (rc = zone_arg(zone, zarg, err)) != MS_OK) {
		return rc;
	}
	if (!ms_keymgr_id_valid(id)) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a keymgr key id", id ? id : "(null)");
	}
	if (when < 0 || when > UINT32_MAX) {
		return ms_err_set(err, MS_EINVAL, "publish time %" PRId64 " is out of range", when);
	}
	snprintf(spec, sizeof(spec), "id=%s", id);
	snprintf(attr, sizeof(attr), "publish=%" PRId64, when);
	ms_proc_result_t res;
	rc = run_keymgr(ctx, false, zarg, "set", spec, attr, &res, err);
	ms_proc_result_free(&res);
	return rc;
}

ms_rc_t ms_knotc_zone_keys_load(const ms_knotc_ctx_t *ctx, const char *zone, ms_err_t *err)
{
	char zarg[ZONE_MAX + 1];
	ms_rc_t rc = zone_arg(zone, zarg, err);
	if (rc != MS_OK) {
		return rc;
	}
	if (ctx == NULL || ctx->socket == NULL || ctx->socket[0] == '\0') {
		return ms_err_set(err, MS_EINVAL, "knotc needs knotd's control socket (control.listen)");
	}
	int timeout_ms = ctx->timeout_ms > 0 ? ctx->timeout_ms : MS_KNOTC_TIMEOUT_MS;
	char secs[16];
	snprintf(secs, sizeof(secs), "%d", timeout_ms < 1000 ? 1 : timeout_ms / 1000);
	const char *argv[] = {
		ctx->knotc ? ctx->knotc : MS_KNOTC_PATH,
		"-s", ctx->socket, "-t", secs, "zone-keys-load", zarg, NULL,
	};
	char label[64 + ZONE_MAX];
	snprintf(label, sizeof(label), "knotc zone-keys-load %s", zarg);
	ms_proc_opts_t opts = {
		.argv = argv,
		.label = label,
		/* knotc gives up by itself after -t; this is the backstop. */
		.timeout_ms = (timeout_ms < 1000 ? 1000 : timeout_ms) + 1000,
		.abort = ctx->abort,
	};
	ms_proc_result_t res;
	rc = ms_proc_run(&opts, &res, err);
	ms_proc_result_free(&res);
	return rc;
}
