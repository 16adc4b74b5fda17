/*
 * Per-zone state and its JSON text form (see zone_state.h). The parser
 * refuses anything it does not fully understand: a state file that is only
 * half understood could make a record look like ours.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone_state.h"

void ms_zone_state_init(ms_zone_state_t *state, const char *zone)
{
	memset(state, 0, sizeof(*state));
	snprintf(state->zone, sizeof(state->zone), "%s", zone != NULL ? zone : "");
}

/* ---- lookups and updates ---- */

const ms_owned_record_t *ms_zone_state_find_owned(const ms_zone_state_t *state, const char *id)
{
	for (size_t i = 0; i < state->owned_count; i++) {
		if (strcmp(state->owned[i].id, id) == 0) {
			return &state->owned[i];
		}
	}
	return NULL;
}

const ms_cf_key_state_t *ms_zone_state_find_cf_key(const ms_zone_state_t *state,
                                                   const ms_dnskey_t *key)
{
	for (size_t i = 0; i < state->cf_key_count; i++) {
		if (ms_dnskey_equal(&state->cf_keys[i].key, key)) {
			return &state->cf_keys[i];
		}
	}
	return NULL;
}

const ms_our_zsk_state_t *ms_zone_state_find_our_zsk(const ms_zone_state_t *state,
                                                     const ms_dnskey_t *key)
{
	for (size_t i = 0; i < state->our_zsk_count; i++) {
		if (ms_dnskey_equal(&state->our_zsks[i].key, key)) {
			return &state->our_zsks[i];
		}
	}
	return NULL;
}

static ms_rc_t owned_slot(ms_zone_state_t *state, const char *id, ms_owned_record_t **out,
                          ms_err_t *err)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > MS_CF_ID_MAX) {
		return ms_err_set(err, MS_EINVAL, "record id is empty or longer than %d", MS_CF_ID_MAX);
	}
	const ms_owned_record_t *known = ms_zone_state_find_owned(state, id);
	if (known != NULL) {
		*out = &state->owned[known - state->owned];
		return MS_OK;
	}
	if (state->owned_count >= MS_STATE_MAX_OWNED) {
		return ms_err_set(err, MS_ETOOBIG, "state already holds %d records", MS_STATE_MAX_OWNED);
	}
	ms_owned_record_t *o = &state->owned[state->owned_count++];
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", id);
	*out = o;
	return MS_OK;
}

ms_rc_t ms_zone_state_own_dnskey(ms_zone_state_t *state, const char *id,
                                 const ms_dnskey_t *key, int64_t now, ms_err_t *err)
{
	ms_owned_record_t *o = NULL;
	ms_rc_t rc = owned_slot(state, id, &o, err);
	if (rc != MS_OK) {
		return rc;
	}
	o->type = MS_RECORD_DNSKEY;
	o->key = *key;
	o->name[0] = '\0';
	o->since = now;
	return MS_OK;
}

ms_rc_t ms_zone_state_own_ns(ms_zone_state_t *state, const char *id,
                             const char *name, int64_t now, ms_err_t *err)
{
	if (name == NULL || strlen(name) > MS_DNAME_MAX) {
		return ms_err_set(err, MS_EINVAL, "NS name is missing or too long");
	}
	ms_owned_record_t *o = NULL;
	ms_rc_t rc = owned_slot(state, id, &o, err);
	if (rc != MS_OK) {
		return rc;
	}
	o->type = MS_RECORD_NS;
	memset(&o->key, 0, sizeof(o->key));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->since = now;
	return MS_OK;
}

void ms_zone_state_forget_record(ms_zone_state_t *state, const char *id)
{
	const ms_owned_record_t *o = ms_zone_state_find_owned(state, id);
	if (o == NULL) {
		return;
	}
	size_t i = (size_t)(o - state->owned);
	memmove(&state->owned[i], &state->owned[i + 1],
	        (state->owned_count - i - 1) * sizeof(state->owned[0]));
	state->owned_count--;
}

/* ---- format ---- */

typedef struct {
	bool ok; /* false once an allocation failed */
} builder_t;

static json_object *put(builder_t *b, json_object *obj, const char *name, json_object *val)
{
	if (val == NULL || obj == NULL || json_object_object_add(obj, name, val) != 0) {
		json_object_put(val);
		b->ok = false;
	}
	return obj;
}

static void append(builder_t *b, json_object *arr, json_object *val)
{
	if (val == NULL || json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		b->ok = false;
	}
}

static json_object *dnskey_json(builder_t *b, const ms_dnskey_t *key)
{
	char b64[MS_DNSKEY_B64_MAX];
	char text[MS_DNSKEY_B64_MAX + 32];
	if (!ms_dnskey_pubkey_b64(key, b64, sizeof(b64))) {
		b->ok = false;
		return NULL;
	}
	snprintf(text, sizeof(text), "%u %u %u %s", key->flags, key->protocol, key->algorithm, b64);
	return json_object_new_string(text);
}

static json_object *owned_json(builder_t *b, const ms_owned_record_t *o)
{
	json_object *obj = json_object_new_object();
	put(b, obj, "id", json_object_new_string(o->id));
	if (o->type == MS_RECORD_DNSKEY) {
		put(b, obj, "type", json_object_new_string("DNSKEY"));
		put(b, obj, "dnskey", dnskey_json(b, &o->key));
	} else {
		put(b, obj, "type", json_object_new_string("NS"));
		put(b, obj, "name", json_object_new_string(o->name));
	}
	return put(b, obj, "since", json_object_new_int64(o->since));
}

static json_object *cf_key_json(builder_t *b, const ms_cf_key_state_t *k)
{
	json_object *obj = json_object_new_object();
	put(b, obj, "dnskey", dnskey_json(b, &k->key));
	put(b, obj, "first_seen", json_object_new_int64(k->first_seen));
	put(b, obj, "last_seen", json_object_new_int64(k->last_seen));
	put(b, obj, "gone_since", json_object_new_int64(k->gone_since));
	put(b, obj, "remove_after", json_object_new_int64(k->remove_after));
	return put(b, obj, "in_local_since", json_object_new_int64(k->in_local_since));
}

static json_object *our_zsk_json(builder_t *b, const ms_our_zsk_state_t *z)
{
	json_object *obj = json_object_new_object();
	put(b, obj, "dnskey", dnskey_json(b, &z->key));
	return put(b, obj, "confirmed_since", json_object_new_int64(z->confirmed_since));
}

static json_object *state_json(builder_t *b, const ms_zone_state_t *s)
{
	json_object *root = json_object_new_object();
	json_object *owned = json_object_new_array();
	json_object *cf_keys = json_object_new_array();
	json_object *our_zsks = json_object_new_array();
	put(b, root, "version", json_object_new_int(MS_STATE_VERSION));
	put(b, root, "zone", json_object_new_string(s->zone));
	put(b, root, "out_of_step_since", json_object_new_int64(s->out_of_step_since));
	put(b, root, "owned_records", owned);
	put(b, root, "cloudflare_keys", cf_keys);
	put(b, root, "our_zsks", our_zsks);
	for (size_t i = 0; b->ok && i < s->owned_count; i++) {
		append(b, owned, owned_json(b, &s->owned[i]));
	}
	for (size_t i = 0; b->ok && i < s->cf_key_count; i++) {
		append(b, cf_keys, cf_key_json(b, &s->cf_keys[i]));
	}
	for (size_t i = 0; b->ok && i < s->our_zsk_count; i++) {
		append(b, our_zsks, our_zsk_json(b, &s->our_zsks[i]));
	}
	return root;
}

ms_rc_t ms_zone_state_format(const ms_zone_state_t *state, char *buf, size_t cap,
                             size_t *len, ms_err_t *err)
{
	if (state->owned_count > MS_STATE_MAX_OWNED || state->cf_key_count > MS_STATE_MAX_CF_KEYS ||
	    state->our_zsk_count > MS_STATE_MAX_OUR_ZSKS) {
		return ms_err_set(err, MS_EINVAL, "zone state exceeds its caps");
	}
	builder_t b = { .ok = true };
	json_object *root = state_json(&b, state);
	const char *text = b.ok ? json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
	                                                         JSON_C_TO_STRING_NOSLASHESCAPE)
	                        : NULL;
	ms_rc_t rc = MS_OK;
	if (text == NULL) {
		rc = ms_err_set(err, MS_ENOMEM, "out of memory formatting the zone state");
	} else {
		int n = snprintf(buf, cap, "%s\n", text);
		if (n < 0 || (size_t)n >= cap) {
			rc = ms_err_set(err, MS_ETOOBIG, "zone state needs %d bytes, buffer has %zu", n, cap);
		} else if (len != NULL) {
			*len = (size_t)n;
		}
	}
	json_object_put(root);
	return rc;
}

/* ---- digest ---- */

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ull; /* FNV-1a */
	}
	return h;
}

static uint64_t mix_key(uint64_t h, const ms_dnskey_t *k)
{
	h = mix(h, &k->flags, sizeof(k->flags));
	h = mix(h, &k->protocol, sizeof(k->protocol));
	h = mix(h, &k->algorithm, sizeof(k->algorithm));
	h = mix(h, &k->pubkey_len, sizeof(k->pubkey_len));
	return mix(h, k->pubkey, k->pubkey_len < sizeof(k->pubkey) ? k->pubkey_len
	                                                            : sizeof(k->pubkey));
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return mix(h, s, strlen(s) + 1);
}

uint64_t ms_zone_state_digest(const ms_zone_state_t *s)
{
	uint64_t h = mix_str(1469598103934665603ull, s->zone);
	h = mix(h, &s->out_of_step_since, sizeof(s->out_of_step_since));
	h = mix(h, &s->owned_count, sizeof(s->owned_count));
	for (size_t i = 0; i < s->owned_count && i < MS_STATE_MAX_OWNED; i++) {
		const ms_owned_record_t *o = &s->owned[i];
		h = mix_str(h, o->id);
		h = mix(h, &o->type, sizeof(o->type));
		h = o->type == MS_RECORD_DNSKEY ? mix_key(h, &o->key) : mix_str(h, o->name);
		h = mix(h, &o->since, sizeof(o->since));
	}
	h = mix(h, &s->cf_key_count, sizeof(s->cf_key_count));
	for (size_t i = 0; i < s->cf_key_count && i < MS_STATE_MAX_CF_KEYS; i++) {
		const ms_cf_key_state_t *k = &s->cf_keys[i];
		h = mix_key(h, &k->key);
		h = mix(h, &k->first_seen, sizeof(k->first_seen));
		h = mix(h, &k->gone_since, sizeof(k->gone_since));
		h = mix(h, &k->remove_after, sizeof(k->remove_after));
		h = mix(h, &k->in_local_since, sizeof(k->in_local_since));
	}
	h = mix(h, &s->our_zsk_count, sizeof(s->our_zsk_count));
	for (size_t i = 0; i < s->our_zsk_count && i < MS_STATE_MAX_OUR_ZSKS; i++) {
		h = mix_key(h, &s->our_zsks[i].key);
		h = mix(h, &s->our_zsks[i].confirmed_since, sizeof(s->our_zsks[i].confirmed_since));
	}
	return h;
}

/* ---- parse ---- */

typedef struct {
	const char *zone;
	ms_err_t *err;
	char where[64]; /* "cloudflare_keys[2]" */
} parser_t;

static ms_rc_t fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static ms_rc_t fail(parser_t *p, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ms_err_set(p->err, MS_EPARSE, "zone state: %s%s%s", p->where,
	                  p->where[0] != '\0' ? ": " : "", what);
}

/* Every member must be one of names; all of names must be there. */
static ms_rc_t exactly_fields(parser_t *p, json_object *obj, const char *const *names)
{
	if (!json_object_is_type(obj, json_type_object)) {
		return fail(p, "entry is not a JSON object");
	}
	size_t wanted = 0;
	while (names[wanted] != NULL) {
		wanted++;
	}
	json_object_object_foreach(obj, key, val) {
		(void)val;
		bool known = false;
		for (size_t i = 0; names[i] != NULL; i++) {
			known = known || strcmp(key, names[i]) == 0;
		}
		if (!known) {
			return fail(p, "unknown field '%s'", key);
		}
	}
	for (size_t i = 0; i < wanted; i++) {
		if (!json_object_object_get_ex(obj, names[i], NULL)) {
			return fail(p, "missing field '%s'", names[i]);
		}
	}
	return MS_OK;
}

static ms_rc_t get_time(parser_t *p, json_object *obj, const char *name, int64_t *out)
{
	json_object *v = json_object_object_get(obj, name);
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		return fail(p, "'%s' is not a time (seconds since 1970, >= 0)", name);
	}
	*out = json_object_get_int64(v);
	return MS_OK;
}

static bool chars_in(const char *s, const char *extra)
{
	for (; *s != '\0'; s++) {
		bool alnum = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		             (*s >= '0' && *s <= '9');
		if (!alnum && strchr(extra, *s) == NULL) {
			return false;
		}
	}
	return true;
}

/* A string of 1..max characters drawn from letters, digits and extra. */
static ms_rc_t get_token(parser_t *p, json_object *obj, const char *name, const char *extra,
                         char *out, size_t max)
{
	json_object *v = json_object_object_get(obj, name);
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (s == NULL || s[0] == '\0' || strlen(s) > max ||
	    (size_t)json_object_get_string_len(v) != strlen(s) || !chars_in(s, extra)) {
		return fail(p, "'%s' is missing, too long or has characters it cannot have", name);
	}
	snprintf(out, max + 1, "%s", s);
	return MS_OK;
}

static ms_rc_t get_dnskey(parser_t *p, json_object *obj, ms_dnskey_t *out)
{
	json_object *v = json_object_object_get(obj, "dnskey");
	ms_err_t key_err = { 0 };
	if (!json_object_is_type(v, json_type_string) ||
	    ms_dnskey_from_text(json_object_get_string(v), out, &key_err) != MS_OK) {
		return ms_err_set(p->err, MS_EPARSE, "zone state: %s: 'dnskey' is not a DNSKEY: %s",
		                  p->where, key_err.msg[0] != '\0' ? key_err.msg : "not a string");
	}
	return MS_OK;
}

static ms_rc_t parse_owned(parser_t *p, json_object *obj, void *entry)
{
	ms_owned_record_t *o = entry;
	static const char *const dnskey_fields[] = { "id", "type", "dnskey", "since", NULL };
	static const char *const ns_fields[] = { "id", "type", "name", "since", NULL };
	json_object *type = NULL;
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "type", &type) ||
	    !json_object_is_type(type, json_type_string)) {
		return fail(p, "entry has no record type");
	}
	const char *t = json_object_get_string(type);
	bool is_dnskey = strcmp(t, "DNSKEY") == 0;
	if (!is_dnskey && strcmp(t, "NS") != 0) {
		return fail(p, "record type '%s' is neither DNSKEY nor NS", t);
	}
	o->type = is_dnskey ? MS_RECORD_DNSKEY : MS_RECORD_NS;
	ms_rc_t rc = exactly_fields(p, obj, is_dnskey ? dnskey_fields : ns_fields);
	if (rc == MS_OK) {
		rc = get_token(p, obj, "id", "_-", o->id, MS_CF_ID_MAX);
	}
	if (rc == MS_OK) {
		rc = is_dnskey ? get_dnskey(p, obj, &o->key)
		               : get_token(p, obj, "name", ".-_", o->name, MS_DNAME_MAX);
	}
	return rc == MS_OK ? get_time(p, obj, "since", &o->since) : rc;
}

static ms_rc_t parse_cf_key(parser_t *p, json_object *obj, void *entry)
{
	ms_cf_key_state_t *k = entry;
	static const char *const fields[] = { "dnskey", "first_seen", "last_seen", "gone_since",
	                                      "remove_after", "in_local_since", NULL };
	ms_rc_t rc = exactly_fields(p, obj, fields);
	rc = rc == MS_OK ? get_dnskey(p, obj, &k->key) : rc;
	rc = rc == MS_OK ? get_time(p, obj, "first_seen", &k->first_seen) : rc;
	rc = rc == MS_OK ? get_time(p, obj, "last_seen", &k->last_seen) : rc;
	rc = rc == MS_OK ? get_time(p, obj, "gone_since", &k->gone_since) : rc;
	rc = rc == MS_OK ? get_time(p, obj, "remove_after", &k->remove_after) : rc;
	return rc == MS_OK ? get_time(p, obj, "in_local_since", &k->in_local_since) : rc;
}

static ms_rc_t parse_our_zsk(parser_t *p, json_object *obj, void *entry)
{
	ms_our_zsk_state_t *z = entry;
	static const char *const fields[] = { "dnskey", "confirmed_since", NULL };
	ms_rc_t rc = exactly_fields(p, obj, fields);
	rc = rc == MS_OK ? get_dnskey(p, obj, &z->key) : rc;
	return rc == MS_OK ? get_time(p, obj, "confirmed_since", &z->confirmed_since) : rc;
}

typedef ms_rc_t (*entry_parser_t)(parser_t *p, json_object *obj, void *entry);

/* Parse the array `name` of root into entries (each `size` bytes, at most cap). */
static ms_rc_t parse_array(parser_t *p, json_object *root, const char *name, void *entries,
                           size_t size, size_t cap, size_t *count, entry_parser_t parse)
{
	json_object *arr = json_object_object_get(root, name);
	p->where[0] = '\0';
	if (!json_object_is_type(arr, json_type_array)) {
		return fail(p, "'%s' is not an array", name);
	}
	size_t n = json_object_array_length(arr);
	if (n > cap) {
		return ms_err_set(p->err, MS_ETOOBIG, "zone state: '%s' has %zu entries, at most %zu "
		                  "are allowed", name, n, cap);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(p->where, sizeof(p->where), "%s[%zu]", name, i);
		ms_rc_t rc = parse(p, json_object_array_get_idx(arr, i), (char *)entries + i * size);
		if (rc != MS_OK) {
			return rc;
		}
	}
	*count = n;
	p->where[0] = '\0';
	return MS_OK;
}

static ms_rc_t parse_header(parser_t *p, json_object *root, ms_zone_state_t *s)
{
	static const char *const fields[] = { "version", "zone", "out_of_step_since",
	                                      "owned_records", "cloudflare_keys", "our_zsks", NULL };
	json_object *version = NULL;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "version", &version) ||
	    !json_object_is_type(version, json_type_int)) {
		return fail(p, "not a zone state: no version number");
	}
	if (json_object_get_int64(version) != MS_STATE_VERSION) {
		return ms_err_set(p->err, MS_EPARSE, "zone state: version %lld is not supported "
		                  "(this build reads version %d)",
		                  (long long)json_object_get_int64(version), MS_STATE_VERSION);
	}
	ms_rc_t rc = exactly_fields(p, root, fields);
	rc = rc == MS_OK ? get_token(p, root, "zone", ".-_", s->zone, MS_DNAME_MAX) : rc;
	if (rc == MS_OK && !ms_dname_equal(s->zone, p->zone)) {
		return ms_err_set(p->err, MS_EPARSE, "zone state is for zone %s, not %s",
		                  s->zone, p->zone);
	}
	return rc == MS_OK ? get_time(p, root, "out_of_step_since", &s->out_of_step_since) : rc;
}

static ms_rc_t parse_body(parser_t *p, json_object *root, ms_zone_state_t *s)
{
	ms_rc_t rc = parse_header(p, root, s);
	rc = rc == MS_OK ? parse_array(p, root, "owned_records", s->owned, sizeof(s->owned[0]),
	                               MS_STATE_MAX_OWNED, &s->owned_count,
	                               parse_owned) : rc;
	rc = rc == MS_OK ? parse_array(p, root, "cloudflare_keys", s->cf_keys, sizeof(s->cf_keys[0]),
	                               MS_STATE_MAX_CF_KEYS, &s->cf_key_count,
	                               parse_cf_key) : rc;
	return rc == MS_OK ? parse_array(p, root, "our_zsks", s->our_zsks, sizeof(s->our_zsks[0]),
	                                 MS_STATE_MAX_OUR_ZSKS, &s->our_zsk_count,
	                                 parse_our_zsk) : rc;
}

static bool only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr(" \t\r\n", s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

static json_object *tokenize(const char *text, size_t len, ms_err_t *err)
{
	if (text == NULL || len == 0 || len > MS_STATE_TEXT_MAX || memchr(text, '\0', len) != NULL) {
		ms_err_set(err, MS_EPARSE, "zone state: empty, too large or not text");
		return NULL;
	}
	json_tokener *tok = json_tokener_new();
	if (tok == NULL) {
		ms_err_set(err, MS_ENOMEM, "zone state: out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success || root == NULL || !only_space(text + end, len - end)) {
		json_object_put(root);
		ms_err_set(err, MS_EPARSE, "zone state: not one JSON document (%s)",
		           jerr != json_tokener_success ? json_tokener_error_desc(jerr)
		                                        : "text after the end");
		return NULL;
	}
	return root;
}

ms_rc_t ms_zone_state_parse(const char *text, size_t len, const char *zone,
                            ms_zone_state_t *state, ms_err_t *err)
{
	ms_zone_state_init(state, zone);
	json_object *root = tokenize(text, len, err);
	if (root == NULL) {
		return err != NULL ? err->rc : MS_EPARSE;
	}
	parser_t p = { .zone = zone != NULL ? zone : "", .err = err };
	ms_rc_t rc = parse_body(&p, root, state);
	json_object_put(root);
	if (rc != MS_OK) {
		ms_zone_state_init(state, zone);
	}
	return rc;
}

/* ---- packed form, between passes ---- */

ms_rc_t ms_zone_state_pack(const ms_zone_state_t *state, ms_zone_state_packed_t *out,
                           ms_err_t *err)
{
	char *text = malloc(MS_STATE_TEXT_MAX);
	size_t n = state->awaited_count;
	ms_awaited_zsk_t *awaited = n > 0 ? malloc(n * sizeof(*awaited)) : NULL;
	if (text == NULL || (n > 0 && awaited == NULL)) {
		free(text);
		free(awaited);
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	size_t len = 0;
	ms_rc_t rc = ms_zone_state_format(state, text, MS_STATE_TEXT_MAX, &len, err);
	if (rc != MS_OK) {
		free(text);
		free(awaited);
		return rc;
	}
	char *fit = realloc(text, len + 1); /* give back what the text does not use */
	if (fit != NULL) {
		text = fit;
	}
	if (n > 0) {
		memcpy(awaited, state->awaited, n * sizeof(*awaited));
	}
	ms_zone_state_packed_free(out);
	*out = (ms_zone_state_packed_t){ .text = text, .len = len, .awaited = awaited,
	                                 .awaited_count = n };
	return MS_OK;
}

ms_rc_t ms_zone_state_unpack(const ms_zone_state_packed_t *packed, const char *zone,
                             ms_zone_state_t *state, ms_err_t *err)
{
	if (packed->text == NULL) {
		ms_zone_state_init(state, zone);
		return MS_OK;
	}
	ms_rc_t rc = ms_zone_state_parse(packed->text, packed->len, zone, state, err);
	if (rc == MS_OK) {
		size_t n = packed->awaited_count < MS_STATE_MAX_OUR_ZSKS ? packed->awaited_count
		                                                          : MS_STATE_MAX_OUR_ZSKS;
		if (n > 0) {
			memcpy(state->awaited, packed->awaited, n * sizeof(state->awaited[0]));
		}
		state->awaited_count = n;
	}
	return rc;
}

void ms_zone_state_packed_free(ms_zone_state_packed_t *packed)
{
	free(packed->text);
	free(packed->awaited);
	*packed = (ms_zone_state_packed_t){ 0 };
}
