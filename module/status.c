#define _GNU_SOURCE /* timegm */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json_util.h"
#include "status.h"

/* ---- building the values ---- */

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, MS_DNAME_MAX + 1, "%s", src);
}

static bool served_locally(const ms_local_view_t *local, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < local->dnskey_count; i++) {
		if (ms_dnskey_equal(&local->dnskeys[i], key)) {
			return true;
		}
	}
	return false;
}

static void build_local(const ms_local_view_t *local, ms_status_t *out)
{
	out->local_complete = local->complete;
	for (size_t i = 0; i < local->key_count && i < MS_MAX_KEYS; i++) {
		const ms_local_key_t *k = &local->keys[i];
		ms_status_local_key_t *o = &out->local_keys[out->local_key_count++];
		o->tag = ms_dnskey_tag(&k->key);
		o->algorithm = k->key.algorithm;
		o->role = k->role;
		o->imported = k->public_only;
		o->served = served_locally(local, &k->key);
		o->publish = k->publish;
		o->active = k->active;
		o->retire = k->retire;
		o->remove = k->remove;
	}
	for (size_t i = 0; i < local->ns_count && i < MS_MAX_NS; i++) {
		copy_name(out->local_ns[out->local_ns_count++], local->ns[i]);
	}
}

static void cf_key(ms_status_cf_key_t *o, const ms_dnskey_t *key, const char *state)
{
	o->tag = ms_dnskey_tag(key);
	o->algorithm = key->algorithm;
	snprintf(o->state, sizeof(o->state), "%s", state);
}

static void build_cf(const ms_cf_view_t *cf, ms_status_t *out)
{
	out->cf_complete = cf->complete;
	snprintf(out->cf_zone_id, sizeof(out->cf_zone_id), "%s", cf->zone_id);
	out->cf_dnssec = ms_cf_dnssec_status_name(cf->dnssec_status);
	out->cf_multi_signer = cf->dnssec_multi_signer;
	out->cf_multi_provider = cf->multi_provider;
	for (size_t i = 0; i < cf->zsk_count && i < MS_MAX_KEYS; i++) {
		cf_key(&out->cf_zsks[out->cf_zsk_count++], &cf->zsks[i].key, cf->zsks[i].state_text);
	}
	out->cf_has_ksk = cf->has_ksk;
	if (cf->has_ksk) {
		/* Cloudflare has one KSK: its state is that of DNSSEC for the zone. */
		cf_key(&out->cf_ksk, &cf->ksk, ms_cf_dnssec_status_name(cf->dnssec_status));
	}
	for (size_t i = 0; i < cf->name_server_count && i < MS_MAX_NS; i++) {
		copy_name(out->cf_name_servers[out->cf_name_server_count++], cf->name_servers[i]);
	}
	for (size_t i = 0; i < cf->ns_count && i < MS_MAX_RECORDS; i++) {
		copy_name(out->cf_ns[out->cf_ns_count++], cf->ns[i].name);
	}
}

static ms_status_pending_t *add_pending(ms_status_t *out, ms_pending_kind_t kind, uint16_t tag,
                                        int64_t until)
{
	if (out->pending_count >= MS_STATUS_MAX_PENDING) {
		return NULL;
	}
	ms_status_pending_t *p = &out->pending[out->pending_count++];
	p->kind = kind;
	p->tag = tag;
	p->until = until;
	return p;
}

/* Held ZSKs: knotd may sign with one from TTL_K after Cloudflare first had
 * it; not known while Cloudflare has not confirmed it. */
static void pending_holds(const ms_status_input_t *in, uint32_t ttl_k, ms_status_t *out)
{
	if (in->plan == NULL) {
		return;
	}
	for (size_t i = 0; i < in->plan->count; i++) {
		const ms_action_t *a = &in->plan->actions[i];
		if (a->kind != MS_ACT_LOCAL_HOLD_ZSK) {
			continue;
		}
		int64_t since = 0;
		ms_plan_zsk_confirmed_since(in->state, &a->key, in->now, 0, &since);
		add_pending(out, MS_PENDING_HOLD, ms_dnskey_tag(&a->key),
		            since != 0 ? since + (int64_t)ttl_k : 0);
	}
}

static void pending_removals(const ms_status_input_t *in, ms_status_t *out)
{
	for (size_t i = 0; i < in->state->cf_key_count; i++) {
		const ms_cf_key_state_t *e = &in->state->cf_keys[i];
		if (e->remove_after != 0) {
			add_pending(out, MS_PENDING_REMOVAL, ms_dnskey_tag(&e->key), e->remove_after);
		}
	}
}

static bool cf_has_ns_record(const ms_cf_view_t *cf, const char *name)
{
	for (size_t i = 0; i < cf->ns_count; i++) {
		if (ms_dname_equal(cf->ns[i].name, name)) {
			return true;
		}
	}
	return false;
}

/* Whether one of our nameservers is not yet at Cloudflare, or one of
 * Cloudflare's is not yet in knotd's apex NS. */
static bool ns_apart(const ms_status_input_t *in)
{
	const ms_local_view_t *local = in->local;
	const ms_cf_view_t *cf = in->cf;
	for (size_t i = 0; i < in->nameserver_count; i++) {
		if (!cf_has_ns_record(cf, in->nameservers[i])) {
			return true;
		}
	}
	for (size_t i = 0; in->nameserver_count == 0 && i < local->ns_count; i++) {
		if (!ms_dname_in(cf->name_servers, cf->name_server_count, local->ns[i]) &&
		    !cf_has_ns_record(cf, local->ns[i])) {
			return true;
		}
	}
	for (size_t i = 0; i < cf->name_server_count; i++) {
		if (!ms_dname_in(local->ns, local->ns_count, cf->name_servers[i])) {
			return true;
		}
	}
	return false;
}

/* Rule 8: nameservers join once every ZSK has been on both sides for
 * TTL_K; 0 while a key is not on the other side yet. */
static int64_t ns_join_time(const ms_status_input_t *in, uint32_t ttl_k)
{
	int64_t latest = 0;
	for (size_t i = 0; i < in->state->our_zsk_count; i++) {
		int64_t t = in->state->our_zsks[i].confirmed_since;
		if (t == 0) {
			return 0;
		}
		latest = t > latest ? t : latest;
	}
	for (size_t i = 0; i < in->state->cf_key_count; i++) {
		const ms_cf_key_state_t *e = &in->state->cf_keys[i];
		if (e->gone_since != 0) {
			continue;
		}
		if (e->in_local_since == 0) {
			return 0;
		}
		latest = e->in_local_since > latest ? e->in_local_since : latest;
	}
	return latest != 0 ? latest + (int64_t)ttl_k : 0;
}

static void pending_ns(const ms_status_input_t *in, uint32_t ttl_k, ms_status_t *out)
{
	if (in->local->complete && in->cf->complete && ns_apart(in)) {
		add_pending(out, MS_PENDING_NS_JOIN, 0, ns_join_time(in, ttl_k));
	}
}

void ms_status_build(const ms_status_input_t *in, ms_status_t *out)
{
	memset(out, 0, sizeof(*out));
	copy_name(out->zone, in->zone);
	out->updated = in->now;
	out->dry_run = in->dry_run;
	out->last_success = in->last_success;
	out->last_error_time = in->last_error_time;
	if (in->last_error != NULL) {
		snprintf(out->last_error, sizeof(out->last_error), "%s", in->last_error);
	}
	build_local(in->local, out);
	build_cf(in->cf, out);
	uint32_t ttl_k = ms_plan_ttl_k(in->local, in->cf);
	pending_holds(in, ttl_k, out);
	pending_removals(in, out);
	pending_ns(in, ttl_k, out);
}

bool ms_status_add_ds(ms_status_t *st, ms_ds_provider_t provider, const char *ds)
{
	if (st->ds_count >= MS_STATUS_MAX_DS || strlen(ds) > MS_STATUS_DS_MAX) {
		return false;
	}
	ms_status_ds_t *d = &st->ds[st->ds_count++];
	d->provider = provider;
	snprintf(d->ds, sizeof(d->ds), "%s", ds);
	return true;
}

const char *ms_status_key_state(const ms_status_local_key_t *k, int64_t now)
{
	if (k->remove != 0 && k->remove <= now) {
		return "removed";
	}
	if (k->retire != 0 && k->retire <= now) {
		return "retired";
	}
	if (k->active != 0 && k->active <= now) {
		return "active";
	}
	if (k->publish != 0 && k->publish <= now) {
		return "published";
	}
	return "future";
}

const char *ms_pending_kind_name(ms_pending_kind_t kind)
{
	switch (kind) {
	case MS_PENDING_HOLD:    return "hold";
	case MS_PENDING_REMOVAL: return "removal";
	case MS_PENDING_NS_JOIN: return "ns-join";
	}
	return "unknown";
}

const char *ms_ds_provider_name(ms_ds_provider_t provider)
{
	return provider == MS_DS_PROVIDER_CLOUDFLARE ? "cloudflare" : "knot";
}

static const char *role_name(ms_key_role_t role)
{
	switch (role) {
	case MS_ROLE_ZSK: return "zsk";
	case MS_ROLE_KSK: return "ksk";
	case MS_ROLE_CSK: return "csk";
	}
	return "unknown";
}

/* ---- JSON ---- */

/* A time as RFC 3339 UTC text, null when unset. */
static json_object *time_value(int64_t t)
{
	if (t == 0) {
		return NULL;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	char text[32];
	if (gmtime_r(&tt, &tm) == NULL || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		return NULL;
	}
	return json_object_new_string(text);
}

static void put(json_object *obj, const char *key, json_object *value)
{
	json_object_object_add(obj, key, value);
}

static json_object *names_value(const char (*names)[MS_DNAME_MAX + 1], size_t count)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < count; i++) {
		json_object_array_add(arr, json_object_new_string(names[i]));
	}
	return arr;
}

static json_object *local_key_value(const ms_status_local_key_t *k, int64_t now)
{
	json_object *o = json_object_new_object();
	put(o, "tag", json_object_new_int(k->tag));
	put(o, "algorithm", json_object_new_int(k->algorithm));
	put(o, "role", json_object_new_string(role_name(k->role)));
	put(o, "state", json_object_new_string(ms_status_key_state(k, now)));
	put(o, "imported", json_object_new_boolean(k->imported));
	put(o, "served", json_object_new_boolean(k->served));
	put(o, "publish", time_value(k->publish));
	put(o, "active", time_value(k->active));
	put(o, "retire", time_value(k->retire));
	put(o, "remove", time_value(k->remove));
	return o;
}

static json_object *cf_key_value(const ms_status_cf_key_t *k)
{
	json_object *o = json_object_new_object();
	put(o, "tag", json_object_new_int(k->tag));
	put(o, "algorithm", json_object_new_int(k->algorithm));
	put(o, "state", json_object_new_string(k->state));
	return o;
}

static json_object *knot_value(const ms_status_t *st)
{
	json_object *o = json_object_new_object();
	put(o, "complete", json_object_new_boolean(st->local_complete));
	json_object *keys = json_object_new_array();
	for (size_t i = 0; i < st->local_key_count; i++) {
		json_object_array_add(keys, local_key_value(&st->local_keys[i], st->updated));
	}
	put(o, "keys", keys);
	put(o, "ns", names_value(st->local_ns, st->local_ns_count));
	return o;
}

static json_object *cloudflare_value(const ms_status_t *st)
{
	json_object *o = json_object_new_object();
	put(o, "complete", json_object_new_boolean(st->cf_complete));
	put(o, "zone_id", st->cf_zone_id[0] != '\0' ? json_object_new_string(st->cf_zone_id) : NULL);
	put(o, "dnssec", json_object_new_string(st->cf_dnssec != NULL ? st->cf_dnssec : "unknown"));
	put(o, "multi_signer", json_object_new_boolean(st->cf_multi_signer));
	put(o, "multi_provider", json_object_new_boolean(st->cf_multi_provider));
	json_object *zsks = json_object_new_array();
	for (size_t i = 0; i < st->cf_zsk_count; i++) {
		json_object_array_add(zsks, cf_key_value(&st->cf_zsks[i]));
	}
	put(o, "zsks", zsks);
	put(o, "ksk", st->cf_has_ksk ? cf_key_value(&st->cf_ksk) : NULL);
	put(o, "name_servers", names_value(st->cf_name_servers, st->cf_name_server_count));
	put(o, "ns", names_value(st->cf_ns, st->cf_ns_count));
	return o;
}

static json_object *pending_value(const ms_status_t *st)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < st->pending_count; i++) {
		const ms_status_pending_t *p = &st->pending[i];
		json_object *o = json_object_new_object();
		put(o, "kind", json_object_new_string(ms_pending_kind_name(p->kind)));
		if (p->kind != MS_PENDING_NS_JOIN) {
			put(o, "tag", json_object_new_int(p->tag));
		}
		put(o, "until", time_value(p->until));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *ds_value(const ms_status_t *st)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < st->ds_count; i++) {
		json_object *o = json_object_new_object();
		put(o, "provider", json_object_new_string(ms_ds_provider_name(st->ds[i].provider)));
		put(o, "ds", json_object_new_string(st->ds[i].ds));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *cds_value(const ms_status_t *st)
{
	json_object *o = json_object_new_object();
	put(o, "case", json_object_new_string(st->cds_case != NULL ? st->cds_case : "unchecked"));
	put(o, "detail", st->cds_detail[0] != '\0' ? json_object_new_string(st->cds_detail)
	                                            : NULL);
	return o;
}

static json_object *last_error_value(const ms_status_t *st)
{
	if (st->last_error[0] == '\0') {
		return NULL;
	}
	json_object *o = json_object_new_object();
	put(o, "message", json_object_new_string(st->last_error));
	put(o, "time", time_value(st->last_error_time));
	return o;
}

ms_rc_t ms_status_format(const ms_status_t *st, char *buf, size_t cap, size_t *len,
                         ms_err_t *err)
{
	json_object *o = json_object_new_object();
	if (o == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	put(o, "version", json_object_new_int(MS_STATUS_VERSION));
	put(o, "zone", json_object_new_string(st->zone));
	put(o, "updated", time_value(st->updated));
	put(o, "dry_run", json_object_new_boolean(st->dry_run));
	put(o, "last_success", time_value(st->last_success));
	put(o, "last_error", last_error_value(st));
	put(o, "knot", knot_value(st));
	put(o, "cloudflare", cloudflare_value(st));
	put(o, "pending", pending_value(st));
	put(o, "ds", ds_value(st));
	put(o, "cds", cds_value(st));
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                                     JSON_C_TO_STRING_SPACED |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
	ms_rc_t rc = MS_OK;
	size_t n = text != NULL ? strlen(text) : 0;
	if (text == NULL) {
		rc = ms_err_set(err, MS_ENOMEM, "out of memory formatting the status");
	} else if (n + 2 > cap) {
		rc = ms_err_set(err, MS_ETOOBIG, "status text is larger than %zu bytes", cap);
	} else {
		memcpy(buf, text, n);
		buf[n++] = '\n';
		buf[n] = '\0';
		if (len != NULL) {
			*len = n;
		}
	}
	json_object_put(o);
	return rc;
}

/* ---- reading an earlier status back ---- */

static int64_t parse_time(json_object *v)
{
	const char *text = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
	                                                             : NULL;
	struct tm tm = { 0 };
	if (text == NULL) {
		return 0;
	}
	const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		return 0;
	}
	time_t t = timegm(&tm);
	return t > 0 ? (int64_t)t : 0;
}

bool ms_status_recall(const char *text, size_t len, const char *zone, int64_t *last_success,
                      int64_t *last_error_time, char *last_error, size_t cap)
{
	*last_success = 0;
	*last_error_time = 0;
	if (cap > 0) {
		last_error[0] = '\0';
	}
	const char *why = NULL;
	json_object *o = ms_json_parse(text, len, &why);
	json_object *version = ms_json_member(o, "version");
	json_object *name = ms_json_member(o, "zone");
	bool ok = o != NULL && json_object_is_type(o, json_type_object) &&
	          json_object_is_type(version, json_type_int) &&
	          json_object_get_int(version) == MS_STATUS_VERSION &&
	          json_object_is_type(name, json_type_string) &&
	          ms_dname_equal(json_object_get_string(name), zone);
	if (ok) {
		*last_success = parse_time(ms_json_member(o, "last_success"));
		json_object *e = ms_json_member(o, "last_error");
		json_object *msg = ms_json_member(e, "message");
		if (json_object_is_type(msg, json_type_string) && cap > 0) {
			snprintf(last_error, cap, "%s", json_object_get_string(msg));
			*last_error_time = parse_time(ms_json_member(e, "time"));
		}
	}
	json_object_put(o);
	return ok;
}
