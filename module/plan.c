/*
 * The planner (see plan.h and doc/planning.md). One pass is a fixed
 * sequence of small steps over a planner_t: refuse what we cannot run with,
 * decide what each side should hold, update what we remember, then emit
 * actions in the order the applier must run them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "plan.h"

#define DEFAULT_NS_TTL 86400

/* Who a Cloudflare record belongs to, from saved ids and the comment marker. */
typedef enum {
	OWNER_FOREIGN = 0, /* no marker, not in state: never touched */
	OWNER_OURS,        /* in state, marker and content agree */
	OWNER_ADOPTED,     /* marker, unknown id, holds something we want */
	OWNER_ORPHAN,      /* marker, unknown id, holds nothing we want: left alone */
	OWNER_DISOWNED,    /* in state, but marker or content changed: left alone */
} owner_t;

typedef struct {
	const ms_local_view_t *local;
	const ms_cf_view_t *cf;
	const ms_zone_state_t *saved;
	const ms_plan_settings_t *set;
	int64_t now;
	ms_plan_t *plan;
	ms_zone_state_t *state;
	bool overflow;
	bool secondary;                        /* Cloudflare is a secondary of knotd */
	ms_action_t scratch;                   /* written instead when the plan is full */
	uint8_t algorithm;                     /* the zone's */
	uint32_t ttl_k;                        /* largest DNSKEY TTL of both sides */
	bool export_wanted[MS_MAX_KEYS];       /* by local->dnskeys index: our ZSKs */
	bool ksk_export_wanted[MS_MAX_KEYS];   /* by local->dnskeys index: our KSKs */
	bool import_wanted[MS_MAX_KEYS];       /* by cf->zsks index */
	bool ksk_import_wanted;                /* Cloudflare's KSK (cf->ksk) */
	const char *wanted_ns[MS_MAX_NS];
	size_t wanted_ns_count;
	bool wanted_ns_known;
	owner_t dnskey_owner[MS_MAX_RECORDS];  /* by cf->dnskeys index */
	owner_t ns_owner[MS_MAX_RECORDS];      /* by cf->ns index */
	int dnskey_dup_of[MS_MAX_RECORDS];     /* index of the record kept, or -1 */
	int ns_dup_of[MS_MAX_RECORDS];
} planner_t;

/* Times in log reasons, as operators read them: 2026-11-28T05:43:10Z. */
typedef struct {
	char text[32];
} when_text_t;

static when_text_t when_text(int64_t t)
{
	when_text_t w = { "" };
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(w.text, sizeof(w.text), "%Y-%m-%dT%H:%M:%SZ",
	                                            &tm) == 0) {
		snprintf(w.text, sizeof(w.text), "%lld", (long long)t);
	}
	return w;
}

/* ---- small facts ---- */

static bool both_complete(const planner_t *p)
{
	return p->local->complete && p->cf->complete;
}

static uint32_t clamp_cf_ttl(uint32_t ttl)
{
	return ttl < MS_CF_TTL_MIN ? MS_CF_TTL_MIN : (ttl > MS_CF_TTL_MAX ? MS_CF_TTL_MAX : ttl);
}

/* A key that survives a trip through the strict wire parser is what it
 * claims to be; a zeroed or hand-made entry does not. */
static bool well_formed(const ms_dnskey_t *key)
{
	uint8_t wire[4 + MS_DNSKEY_PUBKEY_MAX];
	ms_dnskey_t back;
	size_t len = ms_dnskey_to_wire(key, wire, sizeof(wire));
	return len > 0 && ms_dnskey_from_wire(wire, len, &back, NULL) == MS_OK &&
	       ms_dnskey_equal(key, &back);
}

static bool in_keys(const ms_dnskey_t *keys, size_t count, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < count; i++) {
		if (ms_dnskey_equal(&keys[i], key)) {
			return true;
		}
	}
	return false;
}

static bool local_serves(const planner_t *p, const ms_dnskey_t *key)
{
	return in_keys(p->local->dnskeys, p->local->dnskey_count, key);
}

static bool local_serves_tag(const planner_t *p, uint16_t tag)
{
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		if (ms_dnskey_tag(&p->local->dnskeys[i]) == tag) {
			return true;
		}
	}
	return false;
}

static const ms_local_key_t *keydb_find(const planner_t *p, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < p->local->key_count; i++) {
		if (ms_dnskey_equal(&p->local->keys[i].key, key)) {
			return &p->local->keys[i];
		}
	}
	return NULL;
}

/* Cloudflare's KSK as /dnssec reports it. */
static bool is_cf_ksk(const planner_t *p, const ms_dnskey_t *key)
{
	return p->cf->has_ksk && ms_dnskey_equal(&p->cf->ksk, key);
}

/* Cloudflare still lists the key: a ZSK it serves, or its KSK. */
static bool cf_lists_key(const planner_t *p, const ms_dnskey_t *key)
{
	if (is_cf_ksk(p, key)) {
		return true;
	}
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		if (ms_cf_zsk_served(&p->cf->zsks[i]) && ms_dnskey_equal(&p->cf->zsks[i].key, key)) {
			return true;
		}
	}
	return false;
}

static bool cf_is_own_zsk(const planner_t *p, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		if (ms_dnskey_equal(&p->cf->zsks[i].key, key)) {
			return true;
		}
	}
	return false;
}

static const ms_cf_view_dnskey_t *cf_dnskey_record(const planner_t *p, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < p->cf->dnskey_count; i++) {
		if (ms_dnskey_equal(&p->cf->dnskeys[i].key, key)) {
			return &p->cf->dnskeys[i];
		}
	}
	return NULL;
}

/* Cloudflare has our key: a record says so, and DNS agrees when we asked. */
static bool cf_has_key(const planner_t *p, const ms_dnskey_t *key)
{
	if (cf_dnskey_record(p, key) == NULL) {
		return false;
	}
	return !p->cf->served_observed ||
	       in_keys(p->cf->served_dnskeys, p->cf->served_dnskey_count, key);
}

static bool cf_has_ns_record(const planner_t *p, const char *name)
{
	for (size_t i = 0; i < p->cf->ns_count; i++) {
		if (ms_dname_equal(p->cf->ns[i].name, name)) {
			return true;
		}
	}
	return false;
}

static bool is_cloudflare_ns(const planner_t *p, const char *name)
{
	/* Cloudflare refuses its own nameservers as user records. */
	static const char suffix[] = ".ns.cloudflare.com";
	size_t n = strlen(name), s = sizeof(suffix) - 1;
	if (n > 0 && name[n - 1] == '.') {
		n--;
	}
	if (n > s && strncasecmp(name + n - s, suffix, s) == 0) {
		return true;
	}
	return ms_dname_in(p->cf->name_servers, p->cf->name_server_count, name);
}

static bool ns_wanted(const planner_t *p, const char *name)
{
	for (size_t i = 0; i < p->wanted_ns_count; i++) {
		if (ms_dname_equal(p->wanted_ns[i], name)) {
			return true;
		}
	}
	return false;
}

static bool wanted_in(const planner_t *p, const bool *wanted, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		if (wanted[i] && ms_dnskey_equal(&p->local->dnskeys[i], key)) {
			return true;
		}
	}
	return false;
}

/* One of our ZSKs that Cloudflare should carry. */
static bool export_wanted_key(const planner_t *p, const ms_dnskey_t *key)
{
	return wanted_in(p, p->export_wanted, key);
}

/* Any key of ours that Cloudflare should carry as a DNSKEY record. */
static bool record_wanted_key(const planner_t *p, const ms_dnskey_t *key)
{
	return export_wanted_key(p, key) || wanted_in(p, p->ksk_export_wanted, key);
}

static const char *key_kind(const ms_dnskey_t *key)
{
	return ms_dnskey_is_ksk(key) ? "KSK" : "ZSK";
}

/* ---- actions ---- */

static ms_action_t *add(planner_t *p, ms_action_kind_t kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ms_action_t *add(planner_t *p, ms_action_kind_t kind, const char *fmt, ...)
{
	ms_action_t *a = &p->scratch;
	if (p->plan->count < MS_PLAN_MAX_ACTIONS) {
		a = &p->plan->actions[p->plan->count++];
	} else {
		p->overflow = true;
	}
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	int n = snprintf(a->reason, sizeof(a->reason), "zone %s: ", p->set->zone);
	if (n > 0 && (size_t)n < sizeof(a->reason)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(a->reason + n, sizeof(a->reason) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return a;
}

#define warn(p, what, ...) (add((p), MS_ACT_WARN, __VA_ARGS__)->warn = (what))

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, MS_DNAME_MAX + 1, "%s", src);
}

/* ---- refusals ---- */

/* Which setup this is: a full zone (records through the API) or a
 * secondary of knotd (records by zone transfer). The zone's type decides;
 * cloudflare-setup, when not auto, must agree with it. An unknown type (the
 * zone could not be read) takes the setting, full by default: with the view
 * incomplete nothing is created at Cloudflare either way. */
static bool refuse_zone_type(planner_t *p)
{
	ms_view_zone_type_t type = p->cf->type;
	ms_cf_setup_t want = p->set->setup;
	if (type == MS_VIEW_ZONE_UNKNOWN) {
		p->secondary = want == MS_SETUP_SECONDARY;
		return false;
	}
	if (type == MS_VIEW_ZONE_FULL && want != MS_SETUP_SECONDARY) {
		return false;
	}
	if (type == MS_VIEW_ZONE_SECONDARY && want != MS_SETUP_FULL) {
		p->secondary = true;
		return false;
	}
	if (type == MS_VIEW_ZONE_FULL || type == MS_VIEW_ZONE_SECONDARY) {
		warn(p, MS_WARN_ZONE_TYPE, "cloudflare-setup is %s but the Cloudflare zone is a %s "
		     "zone: set cloudflare-setup to %s (or auto), or change the zone at Cloudflare; "
		     "doing nothing", want == MS_SETUP_FULL ? "full" : "secondary",
		     type == MS_VIEW_ZONE_FULL ? "full" : "secondary",
		     type == MS_VIEW_ZONE_FULL ? "full" : "secondary");
		return true;
	}
	warn(p, MS_WARN_ZONE_TYPE, "the Cloudflare zone is neither a full nor a secondary zone "
	     "(%s): multi-signer needs Cloudflare as an authoritative provider; doing nothing",
	     type == MS_VIEW_ZONE_PARTIAL ? "partial" : "other type");
	return true;
}

/* The algorithm of our own keys: 0 if none is known, -1 if they disagree. */
static int own_algorithm(const ms_local_view_t *local)
{
	int alg = 0;
	for (size_t i = 0; i < local->key_count; i++) {
		const ms_local_key_t *k = &local->keys[i];
		if (k->public_only) {
			continue;
		}
		if (alg != 0 && alg != k->key.algorithm) {
			return -1;
		}
		alg = k->key.algorithm;
	}
	return alg;
}

/* Rule 1: one algorithm for both signers, or nothing at all. */
static bool refuse_algorithm(planner_t *p)
{
	int ours = own_algorithm(p->local);
	int theirs = p->cf->dnssec_algorithm != 0 ? p->cf->dnssec_algorithm : MS_ALG_ECDSAP256SHA256;
	if (ours == -1) {
		warn(p, MS_WARN_ALGORITHM, "knotd's keys use more than one algorithm (an algorithm "
		     "roll?); Cloudflare signs with algorithm %d only; doing nothing", theirs);
		return true;
	}
	if (ours == 0) {
		/* Without our keys we cannot tell our ZSKs from imports. */
		if (p->local->complete) {
			warn(p, MS_WARN_ALGORITHM, "knotd's key database has no keys of its own for "
			     "the zone (is dnssec-signing on?); doing nothing");
		}
		return true;
	}
	if (ours != theirs) {
		warn(p, MS_WARN_ALGORITHM, "knotd signs with algorithm %d and Cloudflare with "
		     "algorithm %d; RFC 8901 needs one algorithm; set the policy's algorithm to "
		     "ecdsap256sha256; doing nothing", ours, theirs);
		return true;
	}
	p->algorithm = (uint8_t)ours;
	return false;
}

/* ---- what each side should hold ---- */

/* Our ZSKs that knotd publishes: flags exactly 256 (not revoked, not a KSK),
 * our own key in keymgr (not an import), never one of Cloudflare's. */
static void choose_exports(planner_t *p)
{
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		const ms_dnskey_t *key = &p->local->dnskeys[i];
		const ms_local_key_t *k = keydb_find(p, key);
		p->export_wanted[i] = ms_dnskey_is_zsk(key) && k != NULL && !k->public_only &&
		                      k->role == MS_ROLE_ZSK && key->algorithm == p->algorithm &&
		                      !cf_is_own_zsk(p, key) && well_formed(key);
		/* Rule 6 input: our KSK in Cloudflare's DNSKEY RRset, so that both
		 * RRsets (and any CDS/CDNSKEY built from them) hold both KSKs. */
		p->ksk_export_wanted[i] = p->set->share_ksk && ms_dnskey_is_ksk(key) && k != NULL &&
		                          !k->public_only && k->role == MS_ROLE_KSK &&
		                          key->algorithm == p->algorithm && !is_cf_ksk(p, key) &&
		                          !cf_is_own_zsk(p, key) && well_formed(key);
	}
}

static void warn_unimportable(planner_t *p, const ms_dnskey_t *key, const char *why)
{
	warn(p, MS_WARN_BAD_KEY, "not importing Cloudflare's key %u (flags %u, algorithm %u): %s",
	     ms_dnskey_tag(key), key->flags, key->algorithm, why);
}

/* Cloudflare's ZSKs in its served set that we may import (rule 1: same
 * algorithm; never a KSK, a revoked or a malformed key). */
static void choose_imports(planner_t *p)
{
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		const ms_dnskey_t *key = &p->cf->zsks[i].key;
		if (!ms_cf_zsk_served(&p->cf->zsks[i])) {
			continue;
		}
		if (!well_formed(key)) {
			warn_unimportable(p, key, "it is malformed");
		} else if (!ms_dnskey_is_zsk(key)) {
			warn_unimportable(p, key, "it is not a ZSK");
		} else if (key->algorithm != p->algorithm) {
			warn_unimportable(p, key, "its algorithm differs from the zone's (rule 1)");
		} else {
			p->import_wanted[i] = true;
		}
	}
	/* Cloudflare's KSK, public only: knotd publishes it in its DNSKEY RRset
	 * but never signs with it, and without a ready timer keeps it out of
	 * CDS/CDNSKEY and out of its KSK rollover (doc/cds-cdnskey.md). */
	const ms_dnskey_t *ksk = &p->cf->ksk;
	if (!p->cf->has_ksk) {
		return;
	}
	if (!well_formed(ksk)) {
		warn_unimportable(p, ksk, "it is malformed");
	} else if (!ms_dnskey_is_ksk(ksk)) {
		warn_unimportable(p, ksk, "its DNSSEC details report it as the KSK but its flags "
		                  "are not 257");
	} else if (ksk->algorithm != p->algorithm) {
		warn_unimportable(p, ksk, "its algorithm differs from the zone's (rule 1)");
	} else {
		p->ksk_import_wanted = true;
	}
}

static void want_ns(planner_t *p, const char *name)
{
	if (!is_cloudflare_ns(p, name) && !ns_wanted(p, name) && p->wanted_ns_count < MS_MAX_NS) {
		p->wanted_ns[p->wanted_ns_count++] = name;
	}
}

/* Our nameservers: configured, or knotd's apex NS minus Cloudflare's. */
static void choose_nameservers(planner_t *p)
{
	if (p->set->nameserver_count > 0) {
		p->wanted_ns_known = true;
		for (size_t i = 0; i < p->set->nameserver_count; i++) {
			want_ns(p, p->set->nameservers[i]);
		}
		return;
	}
	/* Derived: both sides' NS lists must be whole, or Cloudflare's own NS
	 * would look like ours. */
	p->wanted_ns_known = both_complete(p);
	if (p->wanted_ns_known) {
		for (size_t i = 0; i < p->local->ns_count; i++) {
			want_ns(p, p->local->ns[i]);
		}
	}
}

uint32_t ms_plan_ttl_k(const ms_local_view_t *local, const ms_cf_view_t *cf)
{
	uint32_t ttl = local->dnskey_ttl;
	if (!cf->complete && ttl < MS_CF_TTL_MIN) {
		/* Cloudflare's TTLs unknown this pass: no record there is below 60 s. */
		ttl = MS_CF_TTL_MIN;
	}
	for (size_t i = 0; i < cf->zsk_count; i++) {
		ttl = cf->zsks[i].ttl > ttl ? cf->zsks[i].ttl : ttl;
	}
	for (size_t i = 0; i < cf->dnskey_count; i++) {
		ttl = cf->dnskeys[i].ttl > ttl ? cf->dnskeys[i].ttl : ttl;
	}
	return ttl;
}

/* Rule 10: an exported key takes the TTL of the RRset it joins, Cloudflare's
 * DNSKEY RRset; knotd's TTL when Cloudflare lists no key to tell us. */
static uint32_t export_ttl(const planner_t *p)
{
	uint32_t cf_ttl = 0;
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		if (ms_cf_zsk_served(&p->cf->zsks[i]) && p->cf->zsks[i].ttl > cf_ttl) {
			cf_ttl = p->cf->zsks[i].ttl;
		}
	}
	return clamp_cf_ttl(cf_ttl != 0 ? cf_ttl : p->local->dnskey_ttl);
}

static uint32_t ns_ttl(const planner_t *p)
{
	uint32_t ttl = p->cf->ns_ttl != 0 ? p->cf->ns_ttl :
	               p->local->ns_ttl != 0 ? p->local->ns_ttl : DEFAULT_NS_TTL;
	return clamp_cf_ttl(ttl);
}

/* Rule 5: D_prp + TTL_sig, with one check interval standing for D_prp. */
static uint32_t hold_time(const planner_t *p)
{
	if (p->set->hold_time != 0) {
		return p->set->hold_time;
	}
	return p->ttl_k + p->local->max_ttl + p->set->check_interval;
}

/* ---- ownership ---- */

/* Both proofs must agree for a record to stay ours: its id in our state and
 * our marker in its comment, with the content we created. */
static owner_t classify(const planner_t *p, bool in_state, bool same_content,
                        const char *comment, bool wanted)
{
	bool marked = strcmp(comment, p->set->owner_marker) == 0;
	if (in_state) {
		return marked && same_content ? OWNER_OURS : OWNER_DISOWNED;
	}
	if (marked) {
		return wanted ? OWNER_ADOPTED : OWNER_ORPHAN;
	}
	return OWNER_FOREIGN;
}

static bool owned(owner_t o)
{
	return o == OWNER_OURS || o == OWNER_ADOPTED;
}

static void warn_ownership(planner_t *p, owner_t o, const char *type, const char *id)
{
	if (o == OWNER_DISOWNED) {
		warn(p, MS_WARN_OWNERSHIP, "%s record %s at Cloudflare was ours, but its comment or "
		     "content has been changed: leaving it alone and forgetting it", type, id);
	} else if (o == OWNER_ORPHAN) {
		warn(p, MS_WARN_OWNERSHIP, "%s record %s at Cloudflare carries our marker but we "
		     "have no record of creating it and want nothing it holds: leaving it alone; "
		     "delete it by hand if it is stale", type, id);
	}
}

static void remember_owned(planner_t *p, const ms_owned_record_t *saved, const char *id,
                           const ms_dnskey_t *key, const char *name)
{
	if (p->state->owned_count >= MS_STATE_MAX_OWNED) {
		p->overflow = true;
		return;
	}
	ms_owned_record_t *o = &p->state->owned[p->state->owned_count++];
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", id);
	o->type = key != NULL ? MS_RECORD_DNSKEY : MS_RECORD_NS;
	if (key != NULL) {
		o->key = *key;
	} else {
		copy_name(o->name, name);
	}
	o->since = saved != NULL ? saved->since : p->now;
}

static const ms_owned_record_t *saved_owned(const planner_t *p, const char *id,
                                            ms_record_type_t type)
{
	const ms_owned_record_t *o = ms_zone_state_find_owned(p->saved, id);
	return o != NULL && o->type == type ? o : NULL;
}

static bool in_saved_state(const planner_t *p, const char *id)
{
	return ms_zone_state_find_owned(p->saved, id) != NULL;
}

static void classify_dnskey_records(planner_t *p)
{
	for (size_t i = 0; i < p->cf->dnskey_count; i++) {
		const ms_cf_view_dnskey_t *r = &p->cf->dnskeys[i];
		const ms_owned_record_t *s = saved_owned(p, r->id, MS_RECORD_DNSKEY);
		bool same = s != NULL && ms_dnskey_equal(&s->key, &r->key);
		owner_t o = classify(p, in_saved_state(p, r->id), same, r->comment,
		                     record_wanted_key(p, &r->key));
		p->dnskey_owner[i] = o;
		warn_ownership(p, o, "DNSKEY", r->id);
		if (owned(o)) {
			remember_owned(p, s, r->id, &r->key, NULL);
		}
	}
}

static void classify_ns_records(planner_t *p)
{
	for (size_t i = 0; i < p->cf->ns_count; i++) {
		const ms_cf_view_ns_t *r = &p->cf->ns[i];
		const ms_owned_record_t *s = saved_owned(p, r->id, MS_RECORD_NS);
		bool same = s != NULL && ms_dname_equal(s->name, r->name);
		owner_t o = classify(p, in_saved_state(p, r->id), same, r->comment,
		                     ns_wanted(p, r->name));
		p->ns_owner[i] = o;
		warn_ownership(p, o, "NS", r->id);
		if (owned(o)) {
			remember_owned(p, s, r->id, NULL, r->name);
		}
	}
}

static bool cf_has_record_id(const planner_t *p, const char *id)
{
	for (size_t i = 0; i < p->cf->dnskey_count; i++) {
		if (strcmp(p->cf->dnskeys[i].id, id) == 0) {
			return true;
		}
	}
	for (size_t i = 0; i < p->cf->ns_count; i++) {
		if (strcmp(p->cf->ns[i].id, id) == 0) {
			return true;
		}
	}
	return false;
}

/* Records we own that this view did not show: gone when the view is whole,
 * unknown (so still ours) when it is not. */
static void keep_unseen_owned(planner_t *p)
{
	if (p->cf->complete) {
		return;
	}
	for (size_t i = 0; i < p->saved->owned_count; i++) {
		const ms_owned_record_t *s = &p->saved->owned[i];
		if (!cf_has_record_id(p, s->id)) {
			remember_owned(p, s, s->id, s->type == MS_RECORD_DNSKEY ? &s->key : NULL, s->name);
		}
	}
}

static void classify_records(planner_t *p)
{
	if (p->secondary) {
		return; /* records come by transfer: none is ours, the saved list stays */
	}
	p->state->owned_count = 0;
	classify_dnskey_records(p);
	classify_ns_records(p);
	keep_unseen_owned(p);
}

/* ---- duplicates among our records ---- */

typedef bool (*same_content_fn)(const planner_t *p, size_t a, size_t b);

static bool same_dnskey(const planner_t *p, size_t a, size_t b)
{
	return ms_dnskey_equal(&p->cf->dnskeys[a].key, &p->cf->dnskeys[b].key);
}

static bool same_ns(const planner_t *p, size_t a, size_t b)
{
	return ms_dname_equal(p->cf->ns[a].name, p->cf->ns[b].name);
}

/* Which of two records to keep: one we created over one we adopted, then
 * the smaller id, so that every pass keeps the same one. */
static bool keep_first(const owner_t *owner, const char *id_a, const char *id_b, size_t a, size_t b)
{
	if (owner[a] != owner[b]) {
		return owner[a] == OWNER_OURS;
	}
	return strcmp(id_a, id_b) < 0;
}

static void find_duplicates(const planner_t *p, const owner_t *owner, size_t count,
                            const char *(*id_of)(const planner_t *, size_t),
                            same_content_fn same, int *dup_of)
{
	for (size_t i = 0; i < count; i++) {
		dup_of[i] = -1;
		if (!owned(owner[i])) {
			continue;
		}
		size_t best = i;
		for (size_t j = 0; j < count; j++) {
			if (j != best && owned(owner[j]) && same(p, i, j) &&
			    keep_first(owner, id_of(p, j), id_of(p, best), j, best)) {
				best = j;
			}
		}
		dup_of[i] = best == i ? -1 : (int)best;
	}
}

static const char *dnskey_id(const planner_t *p, size_t i)
{
	return p->cf->dnskeys[i].id;
}

static const char *ns_id(const planner_t *p, size_t i)
{
	return p->cf->ns[i].id;
}

static void mark_duplicates(planner_t *p)
{
	find_duplicates(p, p->dnskey_owner, p->cf->dnskey_count, dnskey_id, same_dnskey,
	                p->dnskey_dup_of);
	find_duplicates(p, p->ns_owner, p->cf->ns_count, ns_id, same_ns, p->ns_dup_of);
}

/* ---- timers ---- */

static void remember_our_zsk(planner_t *p, const ms_dnskey_t *key, int64_t since)
{
	if (p->state->our_zsk_count >= MS_STATE_MAX_OUR_ZSKS) {
		p->overflow = true;
		return;
	}
	ms_our_zsk_state_t *z = &p->state->our_zsks[p->state->our_zsk_count++];
	z->key = *key;
	z->confirmed_since = since;
}

/* Rule 3 input: since when Cloudflare has each of our ZSKs. The time stays
 * while Cloudflare keeps the key and restarts if it ever loses it. */
static void track_our_zsks(planner_t *p)
{
	p->state->our_zsk_count = 0;
	for (size_t i = 0; i < p->saved->our_zsk_count; i++) {
		const ms_our_zsk_state_t *old = &p->saved->our_zsks[i];
		bool still_ours = export_wanted_key(p, &old->key) || !p->local->complete;
		if (!still_ours) {
			continue;
		}
		if (cf_has_key(p, &old->key)) {
			remember_our_zsk(p, &old->key, old->confirmed_since);
		} else if (!p->cf->complete) {
			remember_our_zsk(p, &old->key, old->confirmed_since); /* cannot tell */
		}
	}
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		const ms_dnskey_t *key = &p->local->dnskeys[i];
		if (p->export_wanted[i] && cf_has_key(p, key) &&
		    ms_zone_state_find_our_zsk(p->state, key) == NULL) {
			remember_our_zsk(p, key, p->now);
		}
	}
}

static ms_cf_key_state_t *cf_key_entry(planner_t *p, const ms_dnskey_t *key)
{
	const ms_cf_key_state_t *found = ms_zone_state_find_cf_key(p->state, key);
	if (found != NULL) {
		return &p->state->cf_keys[found - p->state->cf_keys];
	}
	if (p->state->cf_key_count >= MS_STATE_MAX_CF_KEYS) {
		p->overflow = true;
		return NULL;
	}
	ms_cf_key_state_t *e = &p->state->cf_keys[p->state->cf_key_count++];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->first_seen = p->now;
	return e;
}

static void note_in_local(const planner_t *p, ms_cf_key_state_t *e)
{
	if (local_serves(p, &e->key)) {
		e->in_local_since = e->in_local_since != 0 ? e->in_local_since : p->now;
	} else if (p->local->complete) {
		e->in_local_since = 0;
	}
}

static void note_listed(planner_t *p, const ms_dnskey_t *key)
{
	ms_cf_key_state_t *e = cf_key_entry(p, key);
	if (e == NULL) {
		return;
	}
	e->last_seen = p->now;
	e->gone_since = 0;
	e->remove_after = 0;
	note_in_local(p, e);
}

/* Rule 5 for Cloudflare's key: the hold starts when a whole listing first
 * lacks it (not at the last sighting: after an outage that would be too
 * early), and a deadline once set never moves earlier. */
static void note_unlisted(planner_t *p, ms_cf_key_state_t *e)
{
	if (p->cf->complete) {
		e->gone_since = e->gone_since != 0 ? e->gone_since : p->now;
		int64_t due = e->gone_since + (int64_t)hold_time(p);
		e->remove_after = due > e->remove_after ? due : e->remove_after;
	}
	note_in_local(p, e);
}

static bool cf_key_forgettable(const planner_t *p, const ms_cf_key_state_t *e)
{
	return e->gone_since != 0 && both_complete(p) && keydb_find(p, &e->key) == NULL &&
	       !local_serves(p, &e->key);
}

static void track_cf_keys(planner_t *p)
{
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		if (p->import_wanted[i]) {
			note_listed(p, &p->cf->zsks[i].key);
		}
	}
	if (p->ksk_import_wanted) {
		note_listed(p, &p->cf->ksk);
	}
	size_t kept = 0;
	for (size_t i = 0; i < p->state->cf_key_count; i++) {
		ms_cf_key_state_t *e = &p->state->cf_keys[i];
		if (!cf_lists_key(p, &e->key)) {
			note_unlisted(p, e);
		}
		if (!cf_key_forgettable(p, e)) {
			p->state->cf_keys[kept++] = *e;
		}
	}
	p->state->cf_key_count = kept;
}

/* ---- warnings ---- */

static const char *role_name(ms_key_role_t role)
{
	return role == MS_ROLE_KSK ? "KSK" : role == MS_ROLE_CSK ? "CSK" : "ZSK";
}

static void warn_tag_collision(planner_t *p, const ms_local_key_t *ours, const char *theirs)
{
	warn(p, MS_WARN_TAG_COLLISION, "key tag %u is shared by our %s %s and Cloudflare's %s: "
	     "validators must try both keys for each signature, and some give up; roll our key "
	     "(knotc zone-key-rollover %s %s) to end it; meanwhile both keys stay published and "
	     "nothing is removed", ms_dnskey_tag(&ours->key), role_name(ours->role), ours->id,
	     theirs, p->set->zone, ours->role == MS_ROLE_KSK ? "ksk" : "zsk");
}

/* Rule 2: a key tag used by one of our keys and by a different Cloudflare
 * key (its ZSKs, and its KSK when /dnssec reported it). Only a warning: a
 * validator tries every key with the tag, while refusing Cloudflare's key
 * would break its answers. */
static void warn_tag_collisions(planner_t *p)
{
	for (size_t i = 0; i < p->local->key_count; i++) {
		const ms_local_key_t *ours = &p->local->keys[i];
		if (ours->public_only) {
			continue;
		}
		uint16_t tag = ms_dnskey_tag(&ours->key);
		for (size_t j = 0; j < p->cf->zsk_count; j++) {
			const ms_dnskey_t *theirs = &p->cf->zsks[j].key;
			if (ms_dnskey_tag(theirs) == tag && !ms_dnskey_equal(theirs, &ours->key)) {
				warn_tag_collision(p, ours, "ZSK");
			}
		}
		if (p->cf->has_ksk && ms_dnskey_tag(&p->cf->ksk) == tag &&
		    !ms_dnskey_equal(&p->cf->ksk, &ours->key)) {
			warn_tag_collision(p, ours, "KSK");
		}
	}
}

static void warn_unknown_signer_tag(planner_t *p, uint16_t tag, const char *source)
{
	if (!local_serves_tag(p, tag)) {
		warn(p, MS_WARN_UNKNOWN_SIGNER, "Cloudflare signs with ZSK %u (%s) which knotd does "
		     "not serve: resolvers that have knotd's DNSKEY RRset cannot validate Cloudflare's "
		     "answers", tag, source);
	}
}

/* Rule 4: Cloudflare's signing keys must be in our RRset. */
static void warn_unknown_signers(planner_t *p)
{
	if (!p->local->complete) {
		return;
	}
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		if (p->cf->zsks[i].state == MS_CF_ZSK_ACTIVE) {
			warn_unknown_signer_tag(p, ms_dnskey_tag(&p->cf->zsks[i].key), "active in its API");
		}
	}
	for (size_t i = 0; p->cf->served_observed && i < p->cf->signing_tag_count; i++) {
		warn_unknown_signer_tag(p, p->cf->signing_tags[i], "seen in its RRSIGs");
	}
}

/* Rule 3, seen afterwards: knotd signs with a ZSK that Cloudflare lacks. */
static void warn_unconfirmed_signers(planner_t *p)
{
	if (!p->cf->complete) {
		return;
	}
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		const ms_dnskey_t *key = &p->local->dnskeys[i];
		uint16_t tag = ms_dnskey_tag(key);
		bool signs = false;
		for (size_t j = 0; j < p->local->signing_tag_count; j++) {
			signs = signs || p->local->signing_tags[j] == tag;
		}
		if (signs && p->export_wanted[i] && !cf_has_key(p, key)) {
			warn(p, MS_WARN_UNCONFIRMED_SIGNER, "knotd signs with ZSK %u which Cloudflare "
			     "does not serve: resolvers that have Cloudflare's DNSKEY RRset cannot "
			     "validate knotd's answers", tag);
		}
	}
}

static void warn_csk(planner_t *p)
{
	for (size_t i = 0; i < p->local->key_count; i++) {
		const ms_local_key_t *k = &p->local->keys[i];
		if (!k->public_only && k->role == MS_ROLE_CSK) {
			warn(p, MS_WARN_CSK, "knotd signs with a CSK (%s, tag %u), which Cloudflare cannot "
			     "take as a ZSK: use separate KSK and ZSK (single-type-signing: off)",
			     k->id, ms_dnskey_tag(&k->key));
		}
	}
}

/* ---- changes ---- */

/* Setup (rule 8's first step): only what is not right yet; pending is on. */
static void plan_setup(planner_t *p)
{
	if (!p->cf->complete) {
		return;
	}
	bool on = ms_cf_dnssec_enabled(p->cf->dnssec_status);
	if (!on || !p->cf->dnssec_multi_signer) {
		ms_action_t *a = add(p, MS_ACT_CF_SET_DNSSEC, "enabling %s at Cloudflare: "
		                     "both providers must sign and carry each other's ZSK",
		                     on ? "multi-signer DNSSEC"
		                        : p->cf->dnssec_multi_signer ? "DNSSEC"
		                                                     : "DNSSEC with multi-signer");
		a->set_status_active = !on;
		a->set_multi_signer = !p->cf->dnssec_multi_signer;
	}
	if (!p->cf->multi_provider) {
		add(p, MS_ACT_CF_SET_MULTI_PROVIDER, "enabling multi-provider DNS at Cloudflare: "
		    "without it Cloudflare does not serve our apex NS records");
	}
}

static void plan_exports(planner_t *p)
{
	if (p->secondary) {
		return; /* our ZSKs travel in the zone transfer */
	}
	if (!p->cf->complete) {
		return; /* a record we did not see may exist: creating could duplicate it */
	}
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		const ms_dnskey_t *key = &p->local->dnskeys[i];
		bool ksk = p->ksk_export_wanted[i];
		if ((!p->export_wanted[i] && !ksk) || cf_dnskey_record(p, key) != NULL) {
			continue;
		}
		ms_action_t *a = add(p, MS_ACT_CF_CREATE_DNSKEY, "exporting %s %u to Cloudflare: "
		                     "knotd publishes it and Cloudflare does not serve it%s",
		                     key_kind(key), ms_dnskey_tag(key),
		                     ksk ? " (both DNSKEY RRsets carry both providers' KSKs, "
		                           "RFC 8901 rule 6)" : "");
		a->key = *key;
		a->ttl = export_ttl(p);
	}
}

static void plan_ksk_import(planner_t *p)
{
	const ms_dnskey_t *key = &p->cf->ksk;
	if (!p->local->complete || !p->ksk_import_wanted || local_serves(p, key)) {
		return;
	}
	bool in_keydb = keydb_find(p, key) != NULL;
	ms_action_t *a = add(p, MS_ACT_LOCAL_IMPORT_KEY, "importing Cloudflare's KSK %u into "
	                     "knotd, public only (knotd publishes it in its DNSKEY RRset, does not "
	                     "sign with it and leaves it out of CDS/CDNSKEY): Cloudflare reports it "
	                     "and knotd does not serve it%s", ms_dnskey_tag(key),
	                     in_keydb ? " (already in the key database: reloading keys)" : "");
	a->key = *key;
	a->key_in_keydb = in_keydb;
}

static void plan_imports(planner_t *p)
{
	if (!p->local->complete) {
		return; /* a key we did not see may be imported already */
	}
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		const ms_dnskey_t *key = &p->cf->zsks[i].key;
		if (!p->import_wanted[i] || local_serves(p, key)) {
			continue;
		}
		bool in_keydb = keydb_find(p, key) != NULL;
		ms_action_t *a = add(p, MS_ACT_LOCAL_IMPORT_KEY, "importing Cloudflare's ZSK %u into "
		                     "knotd: Cloudflare serves it and knotd does not%s",
		                     ms_dnskey_tag(key), in_keydb ? " (already in the key database: "
		                     "reloading keys)" : "");
		a->key = *key;
		a->key_in_keydb = in_keydb;
	}
	plan_ksk_import(p);
}

/* The later of latest and since + TTL_K; 0 once a key has no since yet. */
static int64_t settle_after(const planner_t *p, int64_t latest, int64_t since)
{
	if (latest == 0 || since == 0) {
		return 0;
	}
	int64_t t = since + (int64_t)p->ttl_k;
	return t > latest ? t : latest;
}

/* Rule 8: a provider's NS joins only when both ZSK sets have been in place
 * for TTL_K, so that no resolver meets a signer whose key it lacks. Returns
 * the time from which they have (1 if they always had), or 0 while that
 * time is unknown (a key not yet confirmed on the other side, DNSSEC off at
 * Cloudflare, a partial view). */
static int64_t keys_settle_time(const planner_t *p)
{
	bool dnssec_on = ms_cf_dnssec_enabled(p->cf->dnssec_status) && p->cf->dnssec_multi_signer;
	if (!both_complete(p) || !dnssec_on) {
		return 0;
	}
	int64_t latest = 1;
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		const ms_our_zsk_state_t *z =
			ms_zone_state_find_our_zsk(p->state, &p->local->dnskeys[i]);
		if (p->export_wanted[i]) {
			latest = settle_after(p, latest, z != NULL ? z->confirmed_since : 0);
		}
	}
	for (size_t i = 0; i < p->cf->zsk_count; i++) {
		const ms_cf_key_state_t *e = ms_zone_state_find_cf_key(p->state, &p->cf->zsks[i].key);
		if (p->import_wanted[i]) {
			latest = settle_after(p, latest, e != NULL ? e->in_local_since : 0);
		}
	}
	return latest;
}

static void plan_cf_ns(planner_t *p)
{
	for (size_t i = 0; i < p->wanted_ns_count; i++) {
		const char *name = p->wanted_ns[i];
		if (cf_has_ns_record(p, name)) {
			continue;
		}
		ms_action_t *a = add(p, MS_ACT_CF_CREATE_NS, "adding NS %s at Cloudflare: it is one "
		                     "of our nameservers and Cloudflare does not serve it", name);
		copy_name(a->name, name);
		a->ttl = ns_ttl(p);
	}
}

static void plan_local_ns(planner_t *p)
{
	for (size_t i = 0; i < p->cf->name_server_count; i++) {
		const char *name = p->cf->name_servers[i];
		if (ms_dname_in(p->local->ns, p->local->ns_count, name)) {
			continue;
		}
		if (p->local->ns_editable) {
			ms_action_t *a = add(p, MS_ACT_LOCAL_ADD_NS, "adding Cloudflare's NS %s to the "
			                     "apex NS: Cloudflare serves the zone and knotd does not "
			                     "list it", name);
			copy_name(a->name, name);
			/* Rule 10: the TTL of the RRset it joins (knotd would otherwise
			 * take the new record's TTL for the whole NS RRset). */
			a->ttl = p->local->ns_ttl;
		} else {
			warn(p, MS_WARN_MISSING_NS, "Cloudflare's NS %s is missing from the apex NS "
			     "and the zone comes by transfer: add it at the primary", name);
		}
	}
}

/* Would an NS record be added now if the keys had settled? */
static bool ns_join_pending(const planner_t *p)
{
	for (size_t i = 0; !p->secondary && i < p->wanted_ns_count; i++) {
		if (!cf_has_ns_record(p, p->wanted_ns[i])) {
			return true;
		}
	}
	for (size_t i = 0; p->local->ns_editable && i < p->cf->name_server_count; i++) {
		if (!ms_dname_in(p->local->ns, p->local->ns_count, p->cf->name_servers[i])) {
			return true;
		}
	}
	return false;
}

static void plan_nameservers(planner_t *p)
{
	int64_t settled = keys_settle_time(p);
	if (settled == 0 || p->now < settled) {
		/* Known time: the caller comes back then, not at a routine check
		 * up to an interval later. */
		if (settled != 0 && ns_join_pending(p)) {
			p->plan->ns_join_at = settled;
		}
		return;
	}
	if (!p->secondary) {
		plan_cf_ns(p); /* a secondary gets our NS by transfer */
	}
	plan_local_ns(p);
}

static void delete_record(planner_t *p, const char *id, const ms_dnskey_t *key,
                          const char *name, const char *why)
{
	ms_action_t *a;
	if (key != NULL) {
		a = add(p, MS_ACT_CF_DELETE_RECORD, "deleting our DNSKEY record %s (%s %u) at "
		        "Cloudflare: %s", id, key_kind(key), ms_dnskey_tag(key), why);
		a->key = *key;
	} else {
		a = add(p, MS_ACT_CF_DELETE_RECORD, "deleting our NS record %s (%s) at Cloudflare: %s",
		        id, name, why);
		copy_name(a->name, name);
	}
	snprintf(a->record_id, sizeof(a->record_id), "%s", id);
}

/* Rule 5 for our key (Knot timed its removal) and rule 11 (only on a whole
 * local view that shows the key gone); plus extra copies after a crash. */
static void plan_dnskey_deletions(planner_t *p)
{
	for (size_t i = 0; i < p->cf->dnskey_count; i++) {
		const ms_cf_view_dnskey_t *r = &p->cf->dnskeys[i];
		if (!owned(p->dnskey_owner[i])) {
			continue;
		}
		if (p->dnskey_dup_of[i] >= 0) {
			delete_record(p, r->id, &r->key, NULL, "it duplicates another record of ours");
		} else if (!local_serves(p, &r->key)) {
			delete_record(p, r->id, &r->key, NULL, "knotd no longer publishes the key");
		}
	}
}

static void plan_ns_deletions(planner_t *p)
{
	for (size_t i = 0; i < p->cf->ns_count; i++) {
		const ms_cf_view_ns_t *r = &p->cf->ns[i];
		if (!owned(p->ns_owner[i])) {
			continue;
		}
		if (p->ns_dup_of[i] >= 0) {
			delete_record(p, r->id, NULL, r->name, "it duplicates another record of ours");
		} else if (p->wanted_ns_known && !ns_wanted(p, r->name)) {
			delete_record(p, r->id, NULL, r->name, "it is no longer one of our nameservers");
		}
	}
}

static void plan_deletions(planner_t *p)
{
	if (!both_complete(p) || p->secondary) {
		return; /* rule 11: never delete on a partial observation; a secondary's
		           records leave by transfer */
	}
	plan_dnskey_deletions(p);
	plan_ns_deletions(p);
}

/* Rule 5 for Cloudflare's key: out of knotd once the hold has passed. Only
 * keys we track as Cloudflare's, and only knotd's public-only copies. */
static void plan_key_removals(planner_t *p)
{
	if (!both_complete(p)) {
		return;
	}
	for (size_t i = 0; i < p->state->cf_key_count; i++) {
		const ms_cf_key_state_t *e = &p->state->cf_keys[i];
		const ms_local_key_t *k = keydb_find(p, &e->key);
		if (e->gone_since == 0 || p->now < e->remove_after || k == NULL || !k->public_only) {
			continue;
		}
		ms_action_t *a = add(p, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY, "removing Cloudflare's %s "
		                     "%u from knotd: Cloudflare stopped serving it at %s and the hold "
		                     "time has passed (%lld s)", key_kind(&e->key), ms_dnskey_tag(&e->key),
		                     when_text(e->gone_since).text,
		                     (long long)(p->now - e->gone_since));
		a->key = e->key;
		snprintf(a->key_id, sizeof(a->key_id), "%s", k->id);
	}
}

/* ---- secondary: our ZSK must arrive by transfer in the expected time ---- */

/* Knotd NOTIFYs Cloudflare at once; a secondary that missed the NOTIFY
 * re-checks after the SOA refresh. Add one check interval for Cloudflare to
 * list the key and one for us to see it (D_prp). */
static int64_t transfer_limit(const planner_t *p)
{
	return (int64_t)p->local->soa_refresh + 2 * (int64_t)p->set->check_interval;
}

static void remember_awaited(planner_t *p, const ms_dnskey_t *key, int64_t since)
{
	if (p->state->awaited_count >= MS_STATE_MAX_OUR_ZSKS) {
		p->overflow = true;
		return;
	}
	ms_awaited_zsk_t *a = &p->state->awaited[p->state->awaited_count++];
	a->key = *key;
	a->since = since;
}

static int64_t awaited_since(const planner_t *p, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < p->saved->awaited_count; i++) {
		if (ms_dnskey_equal(&p->saved->awaited[i].key, key)) {
			return p->saved->awaited[i].since;
		}
	}
	return p->now;
}

/* Each of our published ZSKs that Cloudflare does not have (API record,
 * and served when verified by DNS) is awaited from the first pass that saw
 * it missing; past the limit, a warning names it. Partial views keep the
 * clocks as they are. */
static void track_transfer_lag(planner_t *p)
{
	if (!p->secondary || !both_complete(p)) {
		return; /* new_state keeps the saved clocks */
	}
	p->state->awaited_count = 0;
	for (size_t i = 0; i < p->local->dnskey_count; i++) {
		const ms_dnskey_t *key = &p->local->dnskeys[i];
		if (!p->export_wanted[i] || cf_has_key(p, key)) {
			continue;
		}
		int64_t since = awaited_since(p, key);
		remember_awaited(p, key, since);
		int64_t due = since + transfer_limit(p);
		if (p->now >= due) {
			warn(p, MS_WARN_TRANSFER_LAG, "Cloudflare does not serve our ZSK %u, missing "
			     "since %s, past the expected %s (SOA refresh %u s + two check intervals): "
			     "check that knotd notifies Cloudflare and lets it transfer the zone (notify, "
			     "acl) and the zone's transfer status at Cloudflare; the key does not sign "
			     "until Cloudflare has it", ms_dnskey_tag(key), when_text(since).text,
			     when_text(due).text, p->local->soa_refresh);
		}
	}
}

/* Changes that keep coming back mean the last ones did not take. */
/* ---- rule 3: a new ZSK signs only once every provider has served it ---- */

/* Slack so that a pass that comes a little late still holds in time. */
#define HOLD_SLACK 5

static bool waiting_to_sign(const planner_t *p, const ms_local_key_t *k)
{
	return k->role == MS_ROLE_ZSK && !k->public_only && k->publish != 0 &&
	       k->publish <= p->now && (k->active == 0 || k->active > p->now);
}

/* When the key may start signing: TTL_K after Cloudflare first had it;
 * never while Cloudflare has not confirmed it. */
static int64_t earliest_signing(const planner_t *p, const ms_dnskey_t *key)
{
	int64_t since = 0;
	ms_plan_zsk_confirmed_since(p->state, key, p->now, 0, &since);
	return since != 0 ? since + (int64_t)p->ttl_k : INT64_MAX;
}

static void hold_zsk(planner_t *p, const ms_local_key_t *k)
{
	int64_t lead = (int64_t)p->set->propagation_delay + (int64_t)p->local->dnskey_ttl;
	int64_t knotd_signs_at = k->publish + lead;
	int64_t may_sign_at = earliest_signing(p, &k->key);
	if (knotd_signs_at >= may_sign_at ||
	    knotd_signs_at > p->now + (int64_t)p->set->check_interval + HOLD_SLACK) {
		return; /* safe, or a later pass can still hold it */
	}
	/* A publish time in the future would unpublish the key: at most now. */
	int64_t when = may_sign_at == INT64_MAX || may_sign_at - lead > p->now
	               ? p->now : may_sign_at - lead;
	if (when < k->publish) {
		return;
	}
	/* when == publish (the key was published this second) still holds: the
	 * applier's hold makes the module come back within half the lead, before
	 * knotd would sign, instead of a check interval later. */
	ms_action_t *a = add(p, MS_ACT_LOCAL_HOLD_ZSK, "holding ZSK %u: %s; moving its publish "
	                     "time to %s so that knotd signs with it no earlier than %s",
	                     ms_dnskey_tag(&k->key),
	                     may_sign_at == INT64_MAX ? "Cloudflare has not confirmed it yet"
	                                              : "Cloudflare has not served it for the "
	                                                "largest DNSKEY TTL yet",
	                     when_text(when).text, when_text(when + lead).text);
	a->key = k->key;
	a->when = when;
	snprintf(a->key_id, sizeof(a->key_id), "%s", k->id);
}

static void plan_rollover_gate(planner_t *p)
{
	if (!p->set->hold_activation || !p->local->complete) {
		return;
	}
	for (size_t i = 0; i < p->local->key_count; i++) {
		if (waiting_to_sign(p, &p->local->keys[i])) {
			hold_zsk(p, &p->local->keys[i]);
		}
	}
}

/* Changes that mean the sides differ; holding a new ZSK back is the gate
 * doing its job, not the sides being out of step. */
static bool out_of_step(const ms_plan_t *plan)
{
	size_t holds = ms_plan_count(plan, MS_ACT_LOCAL_HOLD_ZSK);
	return plan->count > ms_plan_count(plan, MS_ACT_WARN) + holds;
}

static void track_out_of_step(planner_t *p)
{
	if (!out_of_step(p->plan)) {
		p->state->out_of_step_since = 0;
		return;
	}
	int64_t since = p->saved->out_of_step_since != 0 ? p->saved->out_of_step_since : p->now;
	p->state->out_of_step_since = since;
	if (p->now - since > (int64_t)p->set->check_interval) {
		warn(p, MS_WARN_OUT_OF_STEP, "knotd and Cloudflare have been out of step for %lld s, "
		     "longer than one check interval (%u s): earlier changes have not taken effect",
		     (long long)(p->now - since), p->set->check_interval);
	}
}

/* ---- the pass ---- */

static ms_rc_t check_inputs(const ms_local_view_t *l, const ms_cf_view_t *cf,
                            const ms_zone_state_t *saved, const ms_plan_settings_t *s,
                            ms_err_t *err)
{
	if (s == NULL || s->zone == NULL || s->owner_marker == NULL || s->owner_marker[0] == '\0' ||
	    (s->nameserver_count > 0 && s->nameservers == NULL) || s->check_interval == 0) {
		return ms_err_set(err, MS_EINVAL, "planner settings need a zone, a check interval "
		                  "and a non-empty ownership marker");
	}
	if (l->dnskey_count > MS_MAX_KEYS || l->signing_tag_count > MS_MAX_KEYS ||
	    l->ns_count > MS_MAX_NS || l->key_count > MS_MAX_KEYS ||
	    cf->name_server_count > MS_MAX_NS || cf->dnskey_count > MS_MAX_RECORDS ||
	    cf->ns_count > MS_MAX_RECORDS || cf->zsk_count > MS_MAX_KEYS ||
	    cf->served_dnskey_count > MS_MAX_KEYS || cf->signing_tag_count > MS_MAX_KEYS ||
	    s->nameserver_count > MS_MAX_NS) {
		return ms_err_set(err, MS_ETOOBIG, "a view or the nameserver list exceeds its cap");
	}
	if (saved->owned_count > MS_STATE_MAX_OWNED || saved->cf_key_count > MS_STATE_MAX_CF_KEYS ||
	    saved->our_zsk_count > MS_STATE_MAX_OUR_ZSKS) {
		return ms_err_set(err, MS_ETOOBIG, "the saved state exceeds its cap");
	}
	return MS_OK;
}

static void plan_pass(planner_t *p)
{
	if (refuse_zone_type(p) || refuse_algorithm(p)) {
		return;
	}
	p->ttl_k = ms_plan_ttl_k(p->local, p->cf);
	choose_exports(p);
	choose_imports(p);
	choose_nameservers(p);
	classify_records(p);
	mark_duplicates(p);
	track_our_zsks(p);
	track_cf_keys(p);
	warn_tag_collisions(p);
	warn_csk(p);
	warn_unknown_signers(p);
	warn_unconfirmed_signers(p);
	track_transfer_lag(p);
	plan_setup(p);
	plan_exports(p);
	plan_imports(p);
	plan_nameservers(p);
	plan_deletions(p);
	plan_key_removals(p);
	plan_rollover_gate(p);
	track_out_of_step(p);
}

ms_rc_t ms_plan(const ms_local_view_t *local, const ms_cf_view_t *cf,
                const ms_zone_state_t *saved, int64_t now,
                const ms_plan_settings_t *settings,
                ms_plan_t *plan, ms_zone_state_t *new_state, ms_err_t *err)
{
	memset(plan, 0, sizeof(*plan));
	memcpy(new_state, saved, sizeof(*new_state));
	ms_rc_t rc = check_inputs(local, cf, saved, settings, err);
	if (rc != MS_OK) {
		return rc;
	}
	planner_t p = {
		.local = local, .cf = cf, .saved = saved, .set = settings, .now = now,
		.plan = plan, .state = new_state,
	};
	plan_pass(&p);
	if (p.overflow) {
		memset(plan, 0, sizeof(*plan));
		memcpy(new_state, saved, sizeof(*new_state));
		return ms_err_set(err, MS_ETOOBIG, "the plan or the new state exceeds its cap");
	}
	return MS_OK;
}

bool ms_plan_has_changes(const ms_plan_t *plan)
{
	return plan->count > ms_plan_count(plan, MS_ACT_WARN);
}

size_t ms_plan_count(const ms_plan_t *plan, ms_action_kind_t kind)
{
	size_t n = 0;
	for (size_t i = 0; i < plan->count; i++) {
		n += plan->actions[i].kind == kind;
	}
	return n;
}

bool ms_plan_zsk_confirmed_since(const ms_zone_state_t *state, const ms_dnskey_t *key,
                                 int64_t now, uint32_t min_age, int64_t *since)
{
	const ms_our_zsk_state_t *z = ms_zone_state_find_our_zsk(state, key);
	int64_t t = z != NULL ? z->confirmed_since : 0;
	if (since != NULL) {
		*since = t;
	}
	return t != 0 && now - t >= (int64_t)min_age;
}

void ms_plan_settings_from(const ms_settings_t *s, const char *zone, const char *marker,
                           uint32_t hold_time, ms_plan_settings_t *out)
{
	*out = (ms_plan_settings_t){
		.zone = zone,
		.check_interval = s->check_interval,
		.hold_time = hold_time,
		/* The strings are only read: char * const * to const char * const *. */
		.nameservers = (const char *const *)s->nameservers,
		.nameserver_count = s->nameserver_count,
		.owner_marker = marker,
		.setup = s->setup,
		.share_ksk = true,
	};
}

bool ms_plan_owner_marker(const char *zone, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "managed by knot-multisigner; zone %s; do not edit", zone);
	return n > 0 && (size_t)n < cap;
}

const char *ms_action_kind_name(ms_action_kind_t kind)
{
	switch (kind) {
	case MS_ACT_WARN:                      return "warn";
	case MS_ACT_CF_SET_DNSSEC:             return "cf-set-dnssec";
	case MS_ACT_CF_SET_MULTI_PROVIDER:     return "cf-set-multi-provider";
	case MS_ACT_CF_CREATE_DNSKEY:          return "cf-create-dnskey";
	case MS_ACT_CF_CREATE_NS:              return "cf-create-ns";
	case MS_ACT_CF_DELETE_RECORD:          return "cf-delete-record";
	case MS_ACT_LOCAL_IMPORT_KEY:          return "local-import-key";
	case MS_ACT_LOCAL_ADD_NS:              return "local-add-ns";
	case MS_ACT_LOCAL_REMOVE_IMPORTED_KEY: return "local-remove-imported-key";
	case MS_ACT_LOCAL_HOLD_ZSK:            return "local-hold-zsk";
	}
	return "unknown";
}

const char *ms_warn_name(ms_warn_t warn)
{
	switch (warn) {
	case MS_WARN_NONE:               return "none";
	case MS_WARN_ZONE_TYPE:          return "zone-type";
	case MS_WARN_ALGORITHM:          return "algorithm";
	case MS_WARN_TAG_COLLISION:      return "tag-collision";
	case MS_WARN_UNKNOWN_SIGNER:     return "unknown-signer";
	case MS_WARN_UNCONFIRMED_SIGNER: return "unconfirmed-signer";
	case MS_WARN_OUT_OF_STEP:        return "out-of-step";
	case MS_WARN_BAD_KEY:            return "bad-key";
	case MS_WARN_OWNERSHIP:          return "ownership";
	case MS_WARN_MISSING_NS:         return "missing-ns";
	case MS_WARN_CSK:                return "csk";
	case MS_WARN_TRANSFER_LAG:       return "transfer-lag";
	}
	return "unknown";
}
