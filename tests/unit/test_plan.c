/*
 * The planner, rule by rule (doc/planning.md names these tests), plus the
 * properties every pass must keep: the same inputs give the same plan, and
 * applying a plan and planning again converges to an empty plan.
 *
 * A small simulator (sim_apply) plays the applier: it changes both views as
 * knotd and Cloudflare would after each action and records created ids in
 * the state, as the real applier must.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

#define T0       1700000000
#define INTERVAL 60
#define ZONE     "example.com"

typedef struct {
	ms_local_view_t local;
	ms_cf_view_t cf;
	ms_zone_state_t state;
	ms_zone_state_t next;
	ms_plan_t plan;
	ms_plan_t again;
	ms_zone_state_t next_again;
	ms_plan_settings_t set;
	char marker[128];
	const char *nameservers[4];
	int64_t now;
	unsigned ids;          /* Cloudflare record ids handed out */
	bool forget_ids;       /* applier crashes before it records created ids */
	size_t apply_limit;    /* apply at most this many actions (0: all) */
} world_t;

/* ---- keys ---- */

static size_t key_len(uint8_t alg)
{
	return alg == 13 ? 64 : alg == 14 ? 96 : 132;
}

static ms_dnskey_t mk(uint16_t flags, uint8_t alg, uint8_t seed)
{
	uint8_t wire[4 + 132] = { (uint8_t)(flags >> 8), (uint8_t)flags, 3, alg };
	for (size_t i = 0; i < key_len(alg); i++) {
		wire[4 + i] = (uint8_t)(seed * 31 + i * 7 + 1);
	}
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_wire(wire, 4 + key_len(alg), &k, NULL), MS_OK);
	return k;
}

/* A different key with the same key tag: swapping two bytes of the same
 * parity keeps the RFC 4034 checksum. */
static ms_dnskey_t same_tag_as(const ms_dnskey_t *k)
{
	ms_dnskey_t c = *k;
	uint8_t t = c.pubkey[0];
	c.pubkey[0] = c.pubkey[2];
	c.pubkey[2] = t;
	assert_false(ms_dnskey_equal(&c, k));
	assert_int_equal(ms_dnskey_tag(&c), ms_dnskey_tag(k));
	return c;
}

#define KSK  mk(257, 13, 1)
#define ZSK1 mk(256, 13, 2)
#define ZSK2 mk(256, 13, 3)
#define CF1  mk(256, 13, 10)
#define CF2  mk(256, 13, 11)
#define CF3  mk(256, 13, 12)
/* A pointer to a key value, for the API's const ms_dnskey_t * arguments. */
#define KEY(k) ((ms_dnskey_t[1]){ k })

/* ---- views ---- */

static bool key_in(const ms_dnskey_t *keys, size_t n, const ms_dnskey_t *k)
{
	for (size_t i = 0; i < n; i++) {
		if (ms_dnskey_equal(&keys[i], k)) {
			return true;
		}
	}
	return false;
}

static void serve(world_t *w, ms_dnskey_t k)
{
	if (!key_in(w->local.dnskeys, w->local.dnskey_count, &k)) {
		w->local.dnskeys[w->local.dnskey_count++] = k;
	}
}

static void unserve(world_t *w, ms_dnskey_t k)
{
	for (size_t i = 0; i < w->local.dnskey_count; i++) {
		if (ms_dnskey_equal(&w->local.dnskeys[i], &k)) {
			w->local.dnskeys[i] = w->local.dnskeys[--w->local.dnskey_count];
			return;
		}
	}
}

static ms_local_key_t *keydb_add(world_t *w, ms_dnskey_t k, ms_key_role_t role,
                                 bool public_only, const char *id)
{
	ms_local_key_t *e = &w->local.keys[w->local.key_count++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->key = k;
	e->role = role;
	e->public_only = public_only;
	e->publish = T0 - 86400;
	return e;
}

static void keydb_del(world_t *w, const char *id)
{
	for (size_t i = 0; i < w->local.key_count; i++) {
		if (strcmp(w->local.keys[i].id, id) == 0) {
			w->local.keys[i] = w->local.keys[--w->local.key_count];
			return;
		}
	}
}

/* Our own key: in the key database and served. */
static void own_key(world_t *w, ms_dnskey_t k, ms_key_role_t role, const char *id)
{
	keydb_add(w, k, role, false, id);
	serve(w, k);
}

static void local_ns(world_t *w, const char *name)
{
	snprintf(w->local.ns[w->local.ns_count++], MS_DNAME_MAX + 1, "%s", name);
}

static void cf_zsk(world_t *w, ms_dnskey_t k, ms_cf_zsk_state_t state)
{
	ms_cf_zsk_t *z = &w->cf.zsks[w->cf.zsk_count++];
	memset(z, 0, sizeof(*z));
	z->key = k;
	z->state = state;
	z->ttl = 3600;
}

static ms_cf_zsk_t *cf_zsk_of(world_t *w, ms_dnskey_t k)
{
	for (size_t i = 0; i < w->cf.zsk_count; i++) {
		if (ms_dnskey_equal(&w->cf.zsks[i].key, &k)) {
			return &w->cf.zsks[i];
		}
	}
	fail_msg("no such Cloudflare ZSK");
	return NULL;
}

static ms_cf_view_dnskey_t *cf_dnskey(world_t *w, const char *id, ms_dnskey_t k,
                                      const char *comment)
{
	ms_cf_view_dnskey_t *r = &w->cf.dnskeys[w->cf.dnskey_count++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->key = k;
	r->ttl = 3600;
	snprintf(r->comment, sizeof(r->comment), "%s", comment);
	return r;
}

static ms_cf_view_ns_t *cf_ns(world_t *w, const char *id, const char *name, const char *comment)
{
	ms_cf_view_ns_t *r = &w->cf.ns[w->cf.ns_count++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->ttl = 86400;
	snprintf(r->comment, sizeof(r->comment), "%s", comment);
	return r;
}

#define REMOVE_BY_ID(arr, count, rid) do { \
	for (size_t i_ = 0; i_ < (count); i_++) { \
		if (strcmp((arr)[i_].id, (rid)) == 0) { \
			memmove(&(arr)[i_], &(arr)[i_ + 1], ((count) - i_ - 1) * sizeof((arr)[0])); \
			(count)--; \
			break; \
		} \
	} \
} while (0)

/* A zone about to join: knotd signs with KSK + ZSK1, Cloudflare has DNSSEC
 * off and its own ZSK CF1, nothing is shared yet. */
static void joining(world_t *w)
{
	memset(w, 0, sizeof(*w));
	w->now = T0;
	ms_zone_state_init(&w->state, ZONE);
	assert_true(ms_plan_owner_marker(ZONE, w->marker, sizeof(w->marker)));
	/* share_ksk off: these tests look at the ZSK exchange; ksk_* turn it on. */
	w->set = (ms_plan_settings_t){ .zone = ZONE, .check_interval = INTERVAL,
	                               .owner_marker = w->marker };
	ms_local_view_t *l = &w->local;
	l->complete = true;
	l->ns_editable = true;
	l->soa_serial = 1;
	own_key(w, KSK, MS_ROLE_KSK, "ksk1");
	own_key(w, ZSK1, MS_ROLE_ZSK, "zsk1");
	l->dnskey_ttl = 300;
	l->signing_tags[l->signing_tag_count++] = ms_dnskey_tag(KEY(ZSK1));
	local_ns(w, "ns1.example.net");
	local_ns(w, "ns2.example.net");
	l->ns_ttl = 3600;
	l->max_ttl = 3600;
	ms_cf_view_t *c = &w->cf;
	c->complete = true;
	snprintf(c->zone_id, sizeof(c->zone_id), "%s", "023e105f4ecef8ad9ca31a8372d0c353");
	c->type = MS_VIEW_ZONE_FULL;
	snprintf(c->name_servers[0], MS_DNAME_MAX + 1, "ada.ns.cloudflare.com");
	snprintf(c->name_servers[1], MS_DNAME_MAX + 1, "bob.ns.cloudflare.com");
	c->name_server_count = 2;
	c->dnssec_status = MS_CF_DNSSEC_DISABLED;
	cf_zsk(w, CF1, MS_CF_ZSK_ACTIVE);
}

static int setup(void **state)
{
	world_t *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	joining(w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* ---- planning and applying ---- */

static const ms_plan_t *plan(world_t *w)
{
	ms_err_t err = { 0 };
	assert_int_equal(ms_plan(&w->local, &w->cf, &w->state, w->now, &w->set, &w->plan,
	                         &w->next, &err), MS_OK);
	/* Determinism on every call: the same inputs give the same bytes. */
	assert_int_equal(ms_plan(&w->local, &w->cf, &w->state, w->now, &w->set, &w->again,
	                         &w->next_again, NULL), MS_OK);
	assert_memory_equal(&w->plan, &w->again, sizeof(w->plan));
	assert_memory_equal(&w->next, &w->next_again, sizeof(w->next));
	return &w->plan;
}

static void sim_dnskey_created(world_t *w, const ms_action_t *a)
{
	char id[MS_CF_ID_MAX + 1];
	snprintf(id, sizeof(id), "%032x", ++w->ids);
	cf_dnskey(w, id, a->key, w->marker)->ttl = a->ttl;
	if (!w->forget_ids) {
		assert_int_equal(ms_zone_state_own_dnskey(&w->next, id, &a->key, w->now, NULL), MS_OK);
	}
}

static void sim_ns_created(world_t *w, const ms_action_t *a)
{
	char id[MS_CF_ID_MAX + 1];
	snprintf(id, sizeof(id), "%032x", ++w->ids);
	cf_ns(w, id, a->name, w->marker)->ttl = a->ttl;
	if (!w->forget_ids) {
		assert_int_equal(ms_zone_state_own_ns(&w->next, id, a->name, w->now, NULL), MS_OK);
	}
}

static void sim_imported(world_t *w, const ms_action_t *a)
{
	if (!a->key_in_keydb) {
		char id[MS_KEY_ID_MAX + 1];
		snprintf(id, sizeof(id), "imported%u", ms_dnskey_tag(&a->key));
		keydb_add(w, a->key, ms_dnskey_is_ksk(&a->key) ? MS_ROLE_KSK : MS_ROLE_ZSK, true, id);
	}
	serve(w, a->key);
}

static void sim_one(world_t *w, const ms_action_t *a)
{
	switch (a->kind) {
	case MS_ACT_WARN:
		break;
	case MS_ACT_CF_SET_DNSSEC:
		/* Cloudflare reports pending until the parent has the DS. */
		w->cf.dnssec_status = a->set_status_active ? MS_CF_DNSSEC_PENDING : w->cf.dnssec_status;
		w->cf.dnssec_multi_signer = w->cf.dnssec_multi_signer || a->set_multi_signer;
		break;
	case MS_ACT_CF_SET_MULTI_PROVIDER:
		w->cf.multi_provider = true;
		break;
	case MS_ACT_CF_CREATE_DNSKEY:
		sim_dnskey_created(w, a);
		break;
	case MS_ACT_CF_CREATE_NS:
		sim_ns_created(w, a);
		break;
	case MS_ACT_CF_DELETE_RECORD:
		REMOVE_BY_ID(w->cf.dnskeys, w->cf.dnskey_count, a->record_id);
		REMOVE_BY_ID(w->cf.ns, w->cf.ns_count, a->record_id);
		ms_zone_state_forget_record(&w->next, a->record_id);
		break;
	case MS_ACT_LOCAL_IMPORT_KEY:
		sim_imported(w, a);
		break;
	case MS_ACT_LOCAL_ADD_NS:
		local_ns(w, a->name);
		break;
	case MS_ACT_LOCAL_REMOVE_IMPORTED_KEY:
		keydb_del(w, a->key_id);
		unserve(w, a->key);
		break;
	case MS_ACT_LOCAL_HOLD_ZSK:
		for (size_t i = 0; i < w->local.key_count; i++) {
			if (strcmp(w->local.keys[i].id, a->key_id) == 0) {
				w->local.keys[i].publish = a->when;
			}
		}
		break;
	}
}

/* Apply w->plan (up to apply_limit changes) and keep the new state. */
static void sim_apply(world_t *w)
{
	size_t changes = 0;
	for (size_t i = 0; i < w->plan.count; i++) {
		const ms_action_t *a = &w->plan.actions[i];
		if (a->kind != MS_ACT_WARN && w->apply_limit != 0 && changes++ >= w->apply_limit) {
			break; /* the applier failed here and left the rest for later */
		}
		sim_one(w, a);
	}
	w->state = w->next;
}

/* Plan, apply, advance a check interval, until a plan changes nothing.
 * Returns the number of passes that changed something. */
static int converge(world_t *w, int max_passes)
{
	for (int pass = 0; pass <= max_passes; pass++) {
		plan(w);
		if (!ms_plan_has_changes(&w->plan)) {
			w->state = w->next;
			return pass;
		}
		sim_apply(w);
		w->now += INTERVAL;
	}
	fail_msg("no convergence after %d passes", max_passes);
	return -1;
}

/* Converged and quiet: nothing to change, nothing to warn about. */
static void assert_settled(world_t *w)
{
	plan(w);
	for (size_t i = 0; i < w->plan.count; i++) {
		print_message("unexpected: %s\n", w->plan.actions[i].reason);
	}
	assert_int_equal(w->plan.count, 0);
}

static void settle(world_t *w)
{
	converge(w, 40);
	w->now += 3 * 3600; /* well past every TTL */
	converge(w, 40);
	assert_settled(w);
}

static const ms_action_t *find(const ms_plan_t *p, ms_action_kind_t kind,
                               const ms_dnskey_t *key, const char *name)
{
	for (size_t i = 0; i < p->count; i++) {
		const ms_action_t *a = &p->actions[i];
		if (a->kind == kind && (key == NULL || ms_dnskey_equal(&a->key, key)) &&
		    (name == NULL || strcmp(a->name, name) == 0)) {
			return a;
		}
	}
	return NULL;
}

static size_t warns(const ms_plan_t *p, ms_warn_t what)
{
	size_t n = 0;
	for (size_t i = 0; i < p->count; i++) {
		n += p->actions[i].kind == MS_ACT_WARN && p->actions[i].warn == what;
	}
	return n;
}

static const ms_action_t *find_warn(const ms_plan_t *p, ms_warn_t what)
{
	for (size_t i = 0; i < p->count; i++) {
		if (p->actions[i].kind == MS_ACT_WARN && p->actions[i].warn == what) {
			return &p->actions[i];
		}
	}
	return NULL;
}

static size_t deletions(const ms_plan_t *p)
{
	return ms_plan_count(p, MS_ACT_CF_DELETE_RECORD) +
	       ms_plan_count(p, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY);
}

#define W ((world_t *)*state)

/* ---- setup ---- */

static void setup_enables_what_is_off(void **state)
{
	const ms_plan_t *p = plan(W);
	const ms_action_t *a = find(p, MS_ACT_CF_SET_DNSSEC, NULL, NULL);
	assert_non_null(a);
	assert_true(a->set_status_active);
	assert_true(a->set_multi_signer);
	assert_non_null(find(p, MS_ACT_CF_SET_MULTI_PROVIDER, NULL, NULL));
	/* Setup comes before the records that need it. */
	assert_true(a < find(p, MS_ACT_CF_CREATE_DNSKEY, NULL, NULL));
}

static void setup_only_what_is_missing(void **state)
{
	W->cf.dnssec_status = MS_CF_DNSSEC_ACTIVE;
	W->cf.multi_provider = true;
	const ms_plan_t *p = plan(W);
	const ms_action_t *a = find(p, MS_ACT_CF_SET_DNSSEC, NULL, NULL);
	assert_non_null(a);
	assert_false(a->set_status_active);
	assert_true(a->set_multi_signer);
	assert_null(find(p, MS_ACT_CF_SET_MULTI_PROVIDER, NULL, NULL));
}

static void setup_pending_counts_as_on(void **state)
{
	W->cf.dnssec_status = MS_CF_DNSSEC_PENDING;
	W->cf.dnssec_multi_signer = true;
	W->cf.multi_provider = true;
	const ms_plan_t *p = plan(W);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_SET_DNSSEC), 0);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_SET_MULTI_PROVIDER), 0);
}

static void setup_waits_for_whole_cloudflare_view(void **state)
{
	W->cf.complete = false;
	const ms_plan_t *p = plan(W);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_SET_DNSSEC), 0);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY), 0);
	/* What knotd lacks can still be imported. */
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL));
}

/* ---- rule 1: one algorithm ---- */

static void assert_refused(world_t *w, ms_warn_t why)
{
	const ms_plan_t *p = plan(w);
	assert_int_equal(p->count, 1);
	assert_int_equal(p->actions[0].kind, MS_ACT_WARN);
	assert_int_equal(p->actions[0].warn, why);
	assert_memory_equal(&w->next, &w->state, sizeof(w->state));
}

static void rule1_algorithm_mismatch_refuses_everything(void **state)
{
	world_t *w = W;
	w->local.key_count = w->local.dnskey_count = 0;
	own_key(w, mk(257, 8, 1), MS_ROLE_KSK, "k");
	own_key(w, mk(256, 8, 2), MS_ROLE_ZSK, "z");
	assert_refused(w, MS_WARN_ALGORITHM);
	assert_non_null(strstr(w->plan.actions[0].reason, "algorithm 8"));
	assert_non_null(strstr(w->plan.actions[0].reason, "zone example.com: "));
}

static void rule1_algorithm_roll_refuses_everything(void **state)
{
	own_key(W, mk(256, 14, 5), MS_ROLE_ZSK, "p384");
	assert_refused(W, MS_WARN_ALGORITHM);
}

static void rule1_cloudflare_algorithm_from_view(void **state)
{
	W->cf.dnssec_algorithm = 14;
	assert_refused(W, MS_WARN_ALGORITHM);
}

static void rule1_no_own_keys_refuses(void **state)
{
	W->local.key_count = 0;
	assert_refused(W, MS_WARN_ALGORITHM);
	/* Without keymgr's answer there is nothing to say, and nothing to do. */
	W->local.complete = false;
	plan(W);
	assert_int_equal(W->plan.count, 0);
}

static void rule1_never_imports_other_algorithm(void **state)
{
	cf_zsk(W, mk(256, 14, 20), MS_CF_ZSK_PUBLISH);
	const ms_plan_t *p = plan(W);
	assert_int_equal(warns(p, MS_WARN_BAD_KEY), 1);
	assert_int_equal(ms_plan_count(p, MS_ACT_LOCAL_IMPORT_KEY), 1); /* CF1 only */
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL));
}

static void import_refuses_ksk_revoked_and_malformed(void **state)
{
	world_t *w = W;
	cf_zsk(w, mk(257, 13, 21), MS_CF_ZSK_ACTIVE);
	cf_zsk(w, mk(256 | 128, 13, 22), MS_CF_ZSK_PUBLISH);
	ms_dnskey_t bad = CF2;
	bad.pubkey_len = 20; /* not a P-256 key */
	cf_zsk(w, bad, MS_CF_ZSK_PUBLISH);
	const ms_plan_t *p = plan(w);
	assert_int_equal(warns(p, MS_WARN_BAD_KEY), 3);
	assert_int_equal(ms_plan_count(p, MS_ACT_LOCAL_IMPORT_KEY), 1);
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL));
}

/* ---- rule 2: key tag collisions ---- */

static void rule2_tag_collision_warns(void **state)
{
	world_t *w = W;
	ms_dnskey_t twin = same_tag_as(KEY(ZSK1));
	cf_zsk(w, twin, MS_CF_ZSK_PUBLISH);
	const ms_plan_t *p = plan(w);
	assert_int_equal(warns(p, MS_WARN_TAG_COLLISION), 1);
	/* A collision costs validators work; refusing the key would cost answers. */
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, &twin, NULL));
	char tag[16];
	snprintf(tag, sizeof(tag), "%u", ms_dnskey_tag(&twin));
	const char *reason = find_warn(p, MS_WARN_TAG_COLLISION)->reason;
	assert_non_null(strstr(reason, tag));
	/* It names both keys and says what to do. */
	assert_non_null(strstr(reason, "our ZSK zsk1"));
	assert_non_null(strstr(reason, "Cloudflare's ZSK"));
	assert_non_null(strstr(reason, "knotc zone-key-rollover example.com zsk"));
	/* Meanwhile nothing is removed anywhere. */
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_DELETE_RECORD), 0);
	assert_int_equal(ms_plan_count(p, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY), 0);
}

/* Cloudflare's KSK (from /dnssec) counts too; it is still imported. */
static void rule2_tag_collision_with_cloudflare_ksk(void **state)
{
	world_t *w = W;
	w->cf.has_ksk = true;
	w->cf.ksk = same_tag_as(KEY(KSK));
	const ms_plan_t *p = plan(w);
	assert_int_equal(warns(p, MS_WARN_TAG_COLLISION), 1);
	const char *reason = find_warn(p, MS_WARN_TAG_COLLISION)->reason;
	assert_non_null(strstr(reason, "our KSK ksk1"));
	assert_non_null(strstr(reason, "Cloudflare's KSK"));
	assert_non_null(strstr(reason, "knotc zone-key-rollover example.com ksk"));
	/* Its own KSK, reported back, is no collision. */
	w->cf.ksk = KSK;
	assert_int_equal(warns(plan(w), MS_WARN_TAG_COLLISION), 0);
}

/* ---- export ---- */

static void export_creates_missing_zsk(void **state)
{
	const ms_plan_t *p = plan(W);
	const ms_action_t *a = find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK1), NULL);
	assert_non_null(a);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY), 1); /* never the KSK */
	/* Rule 10: it joins Cloudflare's DNSKEY RRset, so it takes that TTL. */
	assert_int_equal(a->ttl, 3600);
	char want[128];
	snprintf(want, sizeof(want), "zone example.com: exporting ZSK %u to Cloudflare: knotd "
	         "publishes it and Cloudflare does not serve it", ms_dnskey_tag(KEY(ZSK1)));
	assert_string_equal(a->reason, want);
}

static void export_ttl_local_when_cloudflare_silent_and_clamped(void **state)
{
	world_t *w = W;
	w->cf.zsk_count = 0;
	w->local.dnskey_ttl = 30;
	assert_int_equal(find(plan(w), MS_ACT_CF_CREATE_DNSKEY, NULL, NULL)->ttl, 60);
	w->local.dnskey_ttl = 100000;
	assert_int_equal(find(plan(w), MS_ACT_CF_CREATE_DNSKEY, NULL, NULL)->ttl, 86400);
	w->local.dnskey_ttl = 600;
	assert_int_equal(find(plan(w), MS_ACT_CF_CREATE_DNSKEY, NULL, NULL)->ttl, 600);
}

static void export_present_key_is_left_alone(void **state)
{
	world_t *w = W;
	/* Someone else (an operator) already put our ZSK there, unmarked. */
	cf_dnskey(w, "f00d", ZSK1, "added by hand");
	const ms_plan_t *p = plan(w);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY), 0);
	/* Even once knotd drops the key, a record that is not ours stays. */
	unserve(w, ZSK1);
	keydb_del(w, "zsk1");
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
	p = plan(w);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_DELETE_RECORD), 0);
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK2), NULL));
}

static void export_only_our_published_zsks(void **state)
{
	world_t *w = W;
	/* An imported key (public-only), a revoked ZSK, a key keymgr does not
	 * know and a key unpublished yet: none is exported. */
	keydb_add(w, CF2, MS_ROLE_ZSK, true, "imp");
	serve(w, CF2);
	ms_dnskey_t revoked = mk(256 | 128, 13, 30);
	own_key(w, revoked, MS_ROLE_ZSK, "rev");
	serve(w, mk(256, 13, 31));
	keydb_add(w, ZSK2, MS_ROLE_ZSK, false, "future");
	const ms_plan_t *p = plan(w);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY), 1);
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK1), NULL));
	/* And never one of Cloudflare's own keys, even if keymgr forgot the flag. */
	keydb_add(w, CF1, MS_ROLE_ZSK, false, "confused");
	serve(w, CF1);
	p = plan(w);
	assert_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(CF1), NULL));
}

static void export_rollover_adds_new_then_deletes_old(void **state)
{
	world_t *w = W;
	settle(w);
	/* Knot pre-publishes ZSK2. */
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
	const ms_plan_t *p = plan(w);
	assert_int_equal(p->count, 1);
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK2), NULL));
	sim_apply(w);
	w->now += INTERVAL;
	assert_settled(w);
	/* Knot drops ZSK1 after its own retire timing (rule 5): delete ours. */
	unserve(w, ZSK1);
	keydb_del(w, "zsk1");
	p = plan(w);
	assert_int_equal(p->count, 1);
	const ms_action_t *a = find(p, MS_ACT_CF_DELETE_RECORD, KEY(ZSK1), NULL);
	assert_non_null(a);
	assert_non_null(strstr(a->reason, "knotd no longer publishes the key"));
	sim_apply(w);
	assert_settled(w);
	assert_null(ms_zone_state_find_our_zsk(&w->state, KEY(ZSK1)));
}

/* ---- rule 3 gate: hold a new ZSK until Cloudflare has served it ---- */

#define PROP 30   /* the policy's propagation-delay in these tests */

/* Settled zone, gate on; knotd has just pre-published ZSK2 (active 0). */
/* knotd pre-publishes ZSK2 (waiting to sign) with the gate on. */
static ms_local_key_t *publish_waiting_zsk2(world_t *w, int64_t published_ago)
{
	w->set.hold_activation = true;
	w->set.propagation_delay = PROP;
	ms_local_key_t *k = keydb_add(w, ZSK2, MS_ROLE_ZSK, false, "zsk2");
	serve(w, ZSK2);
	k->publish = w->now - published_ago;
	/* The settled keys are active: not waiting to sign. */
	for (size_t i = 0; i < w->local.key_count; i++) {
		if (strcmp(w->local.keys[i].id, "zsk2") != 0) {
			w->local.keys[i].active = T0 - 86400;
		}
	}
	return k;
}

static ms_local_key_t *prepublish_zsk2(world_t *w, int64_t published_ago)
{
	settle(w);
	return publish_waiting_zsk2(w, published_ago);
}

static void rule3_holds_zsk_cloudflare_has_not_confirmed(void **state)
{
	world_t *w = W;
	/* knotd would sign at publish + 30 + 300: due within one interval. */
	prepublish_zsk2(w, PROP + 300 - INTERVAL);
	w->cf.complete = false;     /* the API is down: nothing confirms the key */
	const ms_plan_t *p = plan(w);
	const ms_action_t *a = find(p, MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL);
	assert_non_null(a);
	assert_string_equal(a->key_id, "zsk2");
	assert_int_equal(a->when, w->now);  /* never in the future: that would unpublish */
	assert_non_null(strstr(a->reason, "has not confirmed it yet"));
}

/* A key published this second with a short lead: the publish time cannot
 * move yet, but the hold is still planned so that the module comes back
 * before knotd signs (not a check interval later). */
static void rule3_holds_key_published_this_second(void **state)
{
	world_t *w = W;
	ms_local_key_t *k = prepublish_zsk2(w, 0);
	w->set.propagation_delay = 1;
	w->local.dnskey_ttl = 10;
	const ms_action_t *a = find(plan(w), MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL);
	assert_non_null(a);
	assert_int_equal(a->when, k->publish);
}

static void rule3_no_hold_while_activation_is_far(void **state)
{
	world_t *w = W;
	/* knotd signs in 330 s, more than an interval away: a later pass holds. */
	prepublish_zsk2(w, 0);
	w->cf.complete = false;
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_HOLD_ZSK), 0);
}

static void rule3_releases_once_served_for_ttl_k(void **state)
{
	world_t *w = W;
	ms_local_key_t *k = prepublish_zsk2(w, PROP + 300 - 10);
	/* Exported in this pass, and held: Cloudflare has not confirmed it. */
	plan(w);
	assert_non_null(find(&w->plan, MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL));
	sim_apply(w);
	assert_int_equal(k->publish, w->now);
	/* Cloudflare lists it from the next pass on: confirmed then. */
	w->now += 5;
	plan(w);
	sim_apply(w);
	int64_t confirmed = 0;
	ms_plan_zsk_confirmed_since(&w->state, KEY(ZSK2), w->now, 0, &confirmed);
	assert_int_equal(confirmed, w->now);
	/* Activation comes near again, but TTL_K (Cloudflare's 3600 s) has not
	 * passed since the confirmation: hold again, no later than now. */
	w->now = k->publish + PROP + 300 - INTERVAL;
	const ms_plan_t *p = plan(w);
	const ms_action_t *a = find(p, MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL);
	assert_non_null(a);
	assert_int_equal(a->when, w->now);
	assert_non_null(strstr(a->reason, "largest DNSKEY TTL"));
	/* Once confirmed + TTL_K - lead has come, knotd's own timing is safe. */
	w->now = confirmed + 3600 - PROP - 300;
	k->publish = w->now;
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_HOLD_ZSK), 0);
}

static void rule3_gate_leaves_active_imported_and_off(void **state)
{
	world_t *w = W;
	ms_local_key_t *k = prepublish_zsk2(w, PROP + 300);
	w->cf.complete = false;
	k->active = w->now - 1;           /* already signing: too late to hold */
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_HOLD_ZSK), 0);
	k->active = 0;
	k->public_only = true;            /* an imported key never signs anyway */
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_HOLD_ZSK), 0);
	k->public_only = false;
	w->set.hold_activation = false;
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_HOLD_ZSK), 0);
}

static void rule11_never_deletes_a_key_knotd_still_serves(void **state)
{
	world_t *w = W;
	settle(w);
	/* keymgr no longer lists ZSK1, but DNS answers still carry it: trust
	 * what is served, keep the record. */
	keydb_del(w, "zsk1");
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
}

static void rule11_no_deletion_on_partial_views(void **state)
{
	world_t *w = W;
	settle(w);
	size_t owned = w->state.owned_count;
	/* The DNS query failed: knotd's RRset looks empty. */
	w->local.complete = false;
	w->local.dnskey_count = 0;
	w->local.ns_count = 0;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(w->next.owned_count, owned);
	/* Cloudflare's listing came back short. */
	joining(w);
	settle(w);
	w->cf.complete = false;
	w->cf.dnskey_count = 0;
	w->cf.ns_count = 0;
	w->cf.zsk_count = 0;
	w->now += 30 * 86400;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_CREATE_DNSKEY), 0);
	assert_int_equal(w->next.owned_count, owned); /* ownership survives the gap */
	assert_non_null(ms_zone_state_find_our_zsk(&w->next, KEY(ZSK1)));
}

static void foreign_records_never_touched(void **state)
{
	world_t *w = W;
	cf_dnskey(w, "aaaa", mk(256, 13, 40), "");
	cf_dnskey(w, "bbbb", mk(256, 13, 41), "managed by someone else");
	cf_ns(w, "cccc", "ns.other-provider.net", "");
	settle(w);
	assert_int_equal(w->cf.dnskey_count, 3);
	assert_int_equal(w->cf.ns_count, 3);
	assert_null(ms_zone_state_find_owned(&w->state, "aaaa"));
}

/* ---- import ---- */

static void import_served_cloudflare_zsks(void **state)
{
	world_t *w = W;
	cf_zsk(w, CF2, MS_CF_ZSK_PUBLISH);
	cf_zsk(w, CF3, MS_CF_ZSK_RETIRED);
	cf_zsk(w, mk(256, 13, 13), MS_CF_ZSK_REMOVED);
	cf_zsk(w, mk(256, 13, 14), MS_CF_ZSK_EXTERNAL);
	const ms_plan_t *p = plan(w);
	assert_int_equal(ms_plan_count(p, MS_ACT_LOCAL_IMPORT_KEY), 3);
	const ms_action_t *a = find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF2), NULL);
	assert_non_null(a);
	assert_false(a->key_in_keydb);
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL));
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF3), NULL));
	/* Tracked from first sight. */
	const ms_cf_key_state_t *e = ms_zone_state_find_cf_key(&w->next, KEY(CF2));
	assert_non_null(e);
	assert_int_equal(e->first_seen, T0);
	assert_int_equal(e->last_seen, T0);
	assert_int_equal(e->in_local_since, 0);
}

static void import_needs_whole_local_view(void **state)
{
	W->local.complete = false;
	assert_int_equal(ms_plan_count(plan(W), MS_ACT_LOCAL_IMPORT_KEY), 0);
}

static void import_reloads_when_in_keydb_but_not_served(void **state)
{
	keydb_add(W, CF1, MS_ROLE_ZSK, true, "imported-earlier");
	const ms_action_t *a = find(plan(W), MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL);
	assert_non_null(a);
	assert_true(a->key_in_keydb);
}

static uint32_t default_hold(const world_t *w)
{
	/* TTL_K (Cloudflare's 3600 > knotd's 300) + largest zone TTL + D_prp. */
	return 3600 + w->local.max_ttl + INTERVAL;
}

static void rule5_cloudflare_key_held_then_removed(void **state)
{
	world_t *w = W;
	settle(w);
	/* Cloudflare rolls: CF2 replaces CF1, which it then lists as removed. */
	cf_zsk(w, CF2, MS_CF_ZSK_ACTIVE);
	cf_zsk_of(w, CF1)->state = MS_CF_ZSK_REMOVED;
	int64_t gone = w->now;
	plan(w);
	assert_non_null(find(&w->plan, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF2), NULL));
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY), 0);
	const ms_cf_key_state_t *e = ms_zone_state_find_cf_key(&w->next, KEY(CF1));
	assert_int_equal(e->gone_since, gone);
	assert_int_equal(e->remove_after, gone + default_hold(w));
	sim_apply(w);
	w->now = gone + default_hold(w) - 1;
	plan(w);
	assert_int_equal(w->plan.count, 0);
	w->state = w->next;
	w->now = gone + default_hold(w);
	plan(w);
	assert_int_equal(w->plan.count, 1);
	const ms_action_t *a = find(&w->plan, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY, KEY(CF1), NULL);
	assert_non_null(a);
	char id[32];
	snprintf(id, sizeof(id), "imported%u", ms_dnskey_tag(KEY(CF1)));
	assert_string_equal(a->key_id, id); /* keymgr's id, for `keymgr delete` */
	sim_apply(w);
	assert_settled(w);
	assert_null(ms_zone_state_find_cf_key(&w->next, KEY(CF1))); /* done with it */
}

static void rule5_hold_time_override(void **state)
{
	world_t *w = W;
	settle(w);
	w->set.hold_time = 120;
	w->cf.zsk_count = 0; /* Cloudflare no longer lists CF1 at all */
	cf_zsk(w, CF2, MS_CF_ZSK_ACTIVE);
	int64_t gone = w->now;
	plan(w);
	assert_int_equal(ms_zone_state_find_cf_key(&w->next, KEY(CF1))->remove_after, gone + 120);
	sim_apply(w);
	w->now = gone + 120;
	assert_non_null(find(plan(w), MS_ACT_LOCAL_REMOVE_IMPORTED_KEY, KEY(CF1), NULL));
}

static void rule5_hold_starts_when_seen_gone_not_last_seen(void **state)
{
	world_t *w = W;
	settle(w);
	int64_t last_seen = w->now;
	/* A week of failed listings, then CF1 is gone. */
	w->cf.complete = false;
	w->cf.zsk_count = 0;
	w->now += 7 * 86400;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(ms_zone_state_find_cf_key(&w->next, KEY(CF1))->gone_since, 0);
	w->state = w->next;
	w->cf.complete = true;
	cf_zsk(w, CF2, MS_CF_ZSK_ACTIVE);
	plan(w);
	/* Its signatures may be fresh in caches: the hold starts now. */
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY), 0);
	const ms_cf_key_state_t *e = ms_zone_state_find_cf_key(&w->next, KEY(CF1));
	assert_int_equal(e->last_seen, last_seen);
	assert_int_equal(e->gone_since, w->now);
}

static void rule5_deadline_never_moves_earlier(void **state)
{
	world_t *w = W;
	settle(w);
	cf_zsk_of(w, CF1)->state = MS_CF_ZSK_REMOVED;
	cf_zsk(w, CF2, MS_CF_ZSK_ACTIVE);
	plan(w);
	int64_t due = ms_zone_state_find_cf_key(&w->next, KEY(CF1))->remove_after;
	sim_apply(w);
	/* The zone's largest TTL shrinks meanwhile: the promise stands. */
	w->local.max_ttl = 60;
	w->now += INTERVAL;
	plan(w);
	assert_int_equal(ms_zone_state_find_cf_key(&w->next, KEY(CF1))->remove_after, due);
}

static void rule5_reappearing_key_cancels_removal(void **state)
{
	world_t *w = W;
	settle(w);
	cf_zsk_of(w, CF1)->state = MS_CF_ZSK_REMOVED;
	plan(w);
	sim_apply(w);
	cf_zsk_of(w, CF1)->state = MS_CF_ZSK_ACTIVE;
	w->now += 30 * 86400;
	plan(w);
	assert_int_equal(w->plan.count, 0);
	const ms_cf_key_state_t *e = ms_zone_state_find_cf_key(&w->next, KEY(CF1));
	assert_int_equal(e->gone_since, 0);
	assert_int_equal(e->remove_after, 0);
}

static void rule5_only_public_only_copies_are_removed(void **state)
{
	world_t *w = W;
	settle(w);
	/* knotd holds Cloudflare's old key as a full key of its own (put there
	 * by hand): that is not our import to take back. */
	for (size_t i = 0; i < w->local.key_count; i++) {
		w->local.keys[i].public_only = false;
	}
	cf_zsk_of(w, CF1)->state = MS_CF_ZSK_REMOVED;
	cf_zsk(w, CF2, MS_CF_ZSK_ACTIVE);
	plan(w);
	sim_apply(w);
	w->now += 30 * 86400;
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY), 0);
}

static void rule5_untracked_public_key_is_never_removed(void **state)
{
	world_t *w = W;
	/* A third provider's key, imported by the operator: not Cloudflare's. */
	keydb_add(w, mk(256, 13, 50), MS_ROLE_ZSK, true, "third");
	serve(w, mk(256, 13, 50));
	settle(w);
	w->now += 365 * 86400;
	assert_settled(w);
	assert_int_equal(w->local.key_count, 4);
}

/* ---- rule 6 input: both DNSKEY RRsets hold both KSKs ---- */

#define CFKSK  mk(257, 13, 70)
#define CFKSK2 mk(257, 13, 71)
#define KSK2   mk(257, 13, 72)

static void ksk_exported_as_dnskey_257(void **state)
{
	world_t *w = W;
	w->set.share_ksk = true;
	const ms_plan_t *p = plan(w);
	const ms_action_t *a = find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(KSK), NULL);
	assert_non_null(a);
	assert_int_equal(a->key.flags, 257);
	assert_int_equal(a->ttl, 3600);
	char want[64];
	snprintf(want, sizeof(want), "exporting KSK %u to Cloudflare", ms_dnskey_tag(KEY(KSK)));
	assert_non_null(strstr(a->reason, want));
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK1), NULL));
	settle(w);
	assert_int_equal(w->cf.dnskey_count, 2);
	assert_int_equal(w->state.owned_count, 4); /* KSK, ZSK1 and two NS */
}

static void ksk_not_exported_to_a_secondary(void **state)
{
	world_t *w = W;
	w->set.share_ksk = true;
	w->cf.type = MS_VIEW_ZONE_SECONDARY;
	assert_int_equal(ms_plan_count(plan(w), MS_ACT_CF_CREATE_DNSKEY), 0);
}

static void ksk_never_exports_imports_or_cloudflares(void **state)
{
	world_t *w = W;
	w->set.share_ksk = true;
	/* A third provider's KSK imported by hand, a revoked KSK of ours, and
	 * Cloudflare's KSK that keymgr lists without the public-only flag. */
	keydb_add(w, mk(257, 13, 73), MS_ROLE_KSK, true, "third");
	serve(w, mk(257, 13, 73));
	own_key(w, mk(257 | 128, 13, 74), MS_ROLE_KSK, "revoked");
	w->cf.has_ksk = true;
	w->cf.ksk = CFKSK;
	own_key(w, CFKSK, MS_ROLE_KSK, "confused");
	const ms_plan_t *p = plan(w);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY), 2);
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(KSK), NULL));
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK1), NULL));
}

static void ksk_present_unmarked_left_alone(void **state)
{
	world_t *w = W;
	w->set.share_ksk = true;
	cf_dnskey(w, "f00d", KSK, "added by hand");
	settle(w);
	assert_null(ms_zone_state_find_owned(&w->state, "f00d"));
	/* Our KSK rolls away: the hand-made record stays. */
	own_key(w, KSK2, MS_ROLE_KSK, "ksk2");
	unserve(w, KSK);
	keydb_del(w, "ksk1");
	settle(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_string_equal(w->cf.dnskeys[0].id, "f00d");
}

/* Knotd's KSK rollover: the new KSK is offered once published; the old
 * record goes only when knotd has dropped the old KSK from its RRset. */
static void ksk_rollover_adds_new_then_deletes_old(void **state)
{
	world_t *w = W;
	w->set.share_ksk = true;
	settle(w);
	own_key(w, KSK2, MS_ROLE_KSK, "ksk2");
	const ms_plan_t *p = plan(w);
	assert_int_equal(p->count, 1);
	assert_non_null(find(p, MS_ACT_CF_CREATE_DNSKEY, KEY(KSK2), NULL));
	sim_apply(w);
	w->now += INTERVAL;
	settle(w);
	/* Both KSKs published for a long time (DS at the parent changes). */
	w->now += 30 * 86400;
	settle(w);
	/* Knot retires the old KSK but still publishes it: nothing yet. */
	keydb_del(w, "ksk1");
	keydb_add(w, KSK, MS_ROLE_KSK, false, "ksk1")->retire = w->now;
	assert_settled(w);
	unserve(w, KSK);
	keydb_del(w, "ksk1");
	p = plan(w);
	assert_int_equal(p->count, 1);
	const ms_action_t *a = find(p, MS_ACT_CF_DELETE_RECORD, KEY(KSK), NULL);
	assert_non_null(a);
	char want[64];
	snprintf(want, sizeof(want), "(KSK %u)", ms_dnskey_tag(KEY(KSK)));
	assert_non_null(strstr(a->reason, want));
	sim_apply(w);
	assert_settled(w);
	assert_int_equal(w->cf.dnskey_count, 2); /* KSK2, ZSK1 */
}

static void ksk_cloudflares_imported_public_only(void **state)
{
	world_t *w = W;
	w->cf.has_ksk = true;
	w->cf.ksk = CFKSK;
	const ms_plan_t *p = plan(w);
	const ms_action_t *a = find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CFKSK), NULL);
	assert_non_null(a);
	assert_false(a->key_in_keydb);
	assert_non_null(strstr(a->reason, "Cloudflare's KSK"));
	assert_non_null(strstr(a->reason, "public only"));
	settle(w);
	assert_true(key_in(w->local.dnskeys, w->local.dnskey_count, KEY(CFKSK)));
	assert_non_null(ms_zone_state_find_cf_key(&w->state, KEY(CFKSK)));
	/* Never handed back to Cloudflare as one of ours. */
	w->set.share_ksk = true;
	assert_null(find(plan(w), MS_ACT_CF_CREATE_DNSKEY, KEY(CFKSK), NULL));
}

static void ksk_cloudflare_rollover_held_then_removed(void **state)
{
	world_t *w = W;
	w->cf.has_ksk = true;
	w->cf.ksk = CFKSK;
	settle(w);
	w->cf.ksk = CFKSK2;
	int64_t gone = w->now;
	plan(w);
	assert_non_null(find(&w->plan, MS_ACT_LOCAL_IMPORT_KEY, KEY(CFKSK2), NULL));
	assert_int_equal(deletions(&w->plan), 0);
	sim_apply(w);
	w->now = gone + default_hold(w) - 1;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	w->state = w->next;
	w->now = gone + default_hold(w);
	plan(w);
	const ms_action_t *a = find(&w->plan, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY, KEY(CFKSK), NULL);
	assert_non_null(a);
	assert_non_null(strstr(a->reason, "removing Cloudflare's KSK"));
	assert_int_equal(deletions(&w->plan), 1);
	sim_apply(w);
	assert_settled(w);
	assert_false(key_in(w->local.dnskeys, w->local.dnskey_count, KEY(CFKSK)));
	assert_true(key_in(w->local.dnskeys, w->local.dnskey_count, KEY(CFKSK2)));
	assert_true(key_in(w->local.dnskeys, w->local.dnskey_count, KEY(KSK))); /* ours stays */
}

static void ksk_cloudflare_partial_view_removes_nothing(void **state)
{
	world_t *w = W;
	w->cf.has_ksk = true;
	w->cf.ksk = CFKSK;
	settle(w);
	w->cf.complete = false;
	w->cf.has_ksk = false; /* /dnssec failed */
	w->now += 365 * 86400;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(ms_zone_state_find_cf_key(&w->next, KEY(CFKSK))->gone_since, 0);
}

static void ksk_cloudflare_bad_ksk_not_imported(void **state)
{
	world_t *w = W;
	w->cf.has_ksk = true;
	w->cf.ksk = mk(256, 13, 75); /* reported as the KSK, flags say ZSK */
	const ms_plan_t *p = plan(w);
	assert_int_equal(warns(p, MS_WARN_BAD_KEY), 1);
	assert_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, &w->cf.ksk, NULL));
	w->cf.ksk = mk(257, 14, 76); /* another algorithm */
	p = plan(w);
	assert_int_equal(warns(p, MS_WARN_BAD_KEY), 1);
	assert_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, &w->cf.ksk, NULL));
}

/* ---- rule 3 and rule 4 ---- */

static void rule3_zsk_confirmed_since(void **state)
{
	world_t *w = W;
	int64_t since = -1;
	plan(w);
	sim_apply(w); /* exports ZSK1 */
	assert_false(ms_plan_zsk_confirmed_since(&w->state, KEY(ZSK1), w->now, 300, &since));
	assert_int_equal(since, 0);
	w->now += INTERVAL;
	int64_t seen = w->now;
	plan(w);
	w->state = w->next;
	assert_false(ms_plan_zsk_confirmed_since(&w->state, KEY(ZSK1), seen + 299, 300, &since));
	assert_int_equal(since, seen);
	assert_true(ms_plan_zsk_confirmed_since(&w->state, KEY(ZSK1), seen + 300, 300, NULL));
	/* Cloudflare lost it: the clock starts again when it is back. */
	w->cf.dnskey_count = 0;
	w->now += 600;
	plan(w);
	assert_null(ms_zone_state_find_our_zsk(&w->next, KEY(ZSK1)));
}

static void rule3_confirmation_trusts_served_rrset(void **state)
{
	world_t *w = W;
	plan(w);
	sim_apply(w);
	w->now += INTERVAL;
	/* The API has the record, but Cloudflare's nameservers do not serve it yet. */
	w->cf.served_observed = true;
	w->cf.served_dnskeys[w->cf.served_dnskey_count++] = CF1;
	plan(w);
	assert_null(ms_zone_state_find_our_zsk(&w->next, KEY(ZSK1)));
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_CREATE_DNSKEY), 0); /* no duplicate */
	w->cf.served_dnskeys[w->cf.served_dnskey_count++] = ZSK1;
	plan(w);
	assert_int_equal(ms_zone_state_find_our_zsk(&w->next, KEY(ZSK1))->confirmed_since, w->now);
}

static void rule3_warns_when_knotd_signs_with_unshared_zsk(void **state)
{
	world_t *w = W;
	w->cf.dnssec_status = MS_CF_DNSSEC_ACTIVE;
	w->cf.dnssec_multi_signer = true;
	w->cf.multi_provider = true;
	assert_int_equal(warns(plan(w), MS_WARN_UNCONFIRMED_SIGNER), 1);
	sim_apply(w);
	assert_int_equal(warns(plan(w), MS_WARN_UNCONFIRMED_SIGNER), 0);
}

static void rule4_warns_on_cloudflare_signer_we_do_not_serve(void **state)
{
	world_t *w = W;
	const ms_plan_t *p = plan(w);
	assert_int_equal(warns(p, MS_WARN_UNKNOWN_SIGNER), 1); /* CF1 is active */
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL));
	settle(w);
	/* DNS shows Cloudflare signing with a key its API never listed. */
	w->cf.served_observed = true;
	w->cf.served_dnskeys[w->cf.served_dnskey_count++] = CF1;
	w->cf.served_dnskeys[w->cf.served_dnskey_count++] = ZSK1;
	w->cf.signing_tags[w->cf.signing_tag_count++] = 4242;
	p = plan(w);
	assert_int_equal(p->count, 1);
	assert_non_null(strstr(find_warn(p, MS_WARN_UNKNOWN_SIGNER)->reason, "4242"));
}

static void out_of_step_warns_after_one_interval(void **state)
{
	world_t *w = W;
	/* Nothing we ask for takes effect. */
	for (int pass = 0; pass < 3; pass++) {
		plan(w);
		assert_int_equal(warns(&w->plan, MS_WARN_OUT_OF_STEP), pass == 2 ? 1 : 0);
		assert_int_equal(w->next.out_of_step_since, T0);
		w->state = w->next;
		w->now += INTERVAL;
	}
	settle(w);
	assert_int_equal(w->state.out_of_step_since, 0);
}

/* ---- nameservers ---- */

static void ns_derived_from_local_minus_cloudflare(void **state)
{
	world_t *w = W;
	local_ns(w, "Bob.NS.Cloudflare.com.");
	settle(w);
	assert_int_equal(w->cf.ns_count, 2);
	for (size_t i = 0; i < w->cf.ns_count; i++) {
		assert_true(strcmp(w->cf.ns[i].name, "ns1.example.net") == 0 ||
		            strcmp(w->cf.ns[i].name, "ns2.example.net") == 0);
		assert_string_equal(w->cf.ns[i].comment, w->marker);
		assert_int_equal(w->cf.ns[i].ttl, 3600); /* knotd's NS TTL: Cloudflare gave none */
		assert_non_null(ms_zone_state_find_owned(&w->state, w->cf.ns[i].id));
	}
	/* Cloudflare's assigned NS joined knotd's apex NS. */
	assert_int_equal(w->local.ns_count, 4);
}

static void ns_configured_list_wins(void **state)
{
	world_t *w = W;
	w->nameservers[0] = "ns9.example.org";
	w->nameservers[1] = "ada.ns.cloudflare.com"; /* cannot be a user record */
	w->set.nameservers = w->nameservers;
	w->set.nameserver_count = 2;
	w->cf.ns_ttl = 300;
	settle(w);
	assert_int_equal(w->cf.ns_count, 1);
	assert_string_equal(w->cf.ns[0].name, "ns9.example.org");
	assert_int_equal(w->cf.ns[0].ttl, 300);
}

static void rule8_ns_waits_until_keys_are_shared(void **state)
{
	world_t *w = W;
	int64_t start = w->now;
	for (int pass = 0; pass < 100; pass++) {
		plan(w);
		if (ms_plan_count(&w->plan, MS_ACT_CF_CREATE_NS) > 0) {
			break;
		}
		assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_ADD_NS), 0);
		sim_apply(w);
		w->now += INTERVAL;
	}
	/* Each side's ZSK in the other's RRset for TTL_K (3600) first. */
	assert_non_null(find(&w->plan, MS_ACT_CF_CREATE_NS, NULL, "ns1.example.net"));
	const ms_action_t *add_ns = find(&w->plan, MS_ACT_LOCAL_ADD_NS, NULL, "ada.ns.cloudflare.com");
	assert_non_null(add_ns);
	/* Rule 10: the apex NS RRset's TTL, not 0 (knotd would apply it to all). */
	assert_int_equal(add_ns->ttl, w->local.ns_ttl);
	assert_true(w->now - start >= 3600);
	assert_true(w->now - start <= 3600 + 3 * INTERVAL);
	assert_true(ms_plan_zsk_confirmed_since(&w->next, KEY(ZSK1), w->now, 3600, NULL));
}

/* The plan names the time the NS join waits for, so that the caller comes
 * back then: not a second sooner than the join is allowed, and no time
 * while it is not known or nothing waits for it. */
static void rule8_plan_names_the_join_time(void **state)
{
	world_t *w = W;
	int64_t join_at = 0;
	for (int pass = 0; pass < 100 && join_at == 0; pass++) {
		plan(w);
		assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_CREATE_NS), 0);
		join_at = w->plan.ns_join_at;
		sim_apply(w);
		w->now += 1;
	}
	assert_true(join_at > w->now);
	w->now = join_at - 1;
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_CREATE_NS), 0);
	assert_int_equal(w->plan.ns_join_at, join_at);
	w->now = join_at;
	plan(w);
	assert_non_null(find(&w->plan, MS_ACT_CF_CREATE_NS, NULL, "ns1.example.net"));
	assert_non_null(find(&w->plan, MS_ACT_LOCAL_ADD_NS, NULL, "ada.ns.cloudflare.com"));
	assert_int_equal(w->plan.ns_join_at, 0);
	sim_apply(w);
	converge(w, 100);
	plan(w);
	assert_int_equal(w->plan.ns_join_at, 0); /* in sync: nothing waits */
}

static void ns_transferred_zone_only_warns(void **state)
{
	world_t *w = W;
	w->local.ns_editable = false;
	converge(w, 100);
	w->now += 2 * 3600;
	converge(w, 100);
	plan(w);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_LOCAL_ADD_NS), 0);
	assert_int_equal(warns(&w->plan, MS_WARN_MISSING_NS), 2);
	assert_false(ms_plan_has_changes(&w->plan));
}

static void ns_unwanted_ours_deleted_on_whole_views(void **state)
{
	world_t *w = W;
	settle(w);
	/* ns2 leaves knotd's apex NS. */
	w->local.ns_count = 0;
	local_ns(w, "ns1.example.net");
	local_ns(w, "ada.ns.cloudflare.com");
	local_ns(w, "bob.ns.cloudflare.com");
	w->local.complete = false;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	w->local.complete = true;
	plan(w);
	assert_int_equal(w->plan.count, 1);
	const ms_action_t *a = find(&w->plan, MS_ACT_CF_DELETE_RECORD, NULL, "ns2.example.net");
	assert_non_null(a);
	assert_non_null(strstr(a->reason, "no longer one of our nameservers"));
	sim_apply(w);
	assert_settled(w);
}

/* ---- ownership ---- */

static void ownership_adopts_after_crash_before_save(void **state)
{
	world_t *w = W;
	w->forget_ids = true;
	plan(w);
	sim_apply(w);
	w->forget_ids = false;
	assert_int_equal(w->state.owned_count, 0);
	w->now += INTERVAL;
	plan(w);
	/* The marked record holds what we want: ours again, not created twice. */
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_CREATE_DNSKEY), 0);
	assert_int_equal(w->next.owned_count, 1);
	assert_string_equal(w->next.owned[0].id, w->cf.dnskeys[0].id);
	assert_int_equal(warns(&w->plan, MS_WARN_OWNERSHIP), 0);
}

static void ownership_orphan_is_left_alone(void **state)
{
	world_t *w = W;
	/* Our marker, an id we never saved, a key we do not want. */
	cf_dnskey(w, "0dd", mk(256, 13, 60), w->marker);
	cf_ns(w, "0dd2", "old.example.net", w->marker);
	converge(w, 100);
	w->now += 2 * 3600;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(warns(&w->plan, MS_WARN_OWNERSHIP), 2);
	assert_null(ms_zone_state_find_owned(&w->next, "0dd"));
}

static void ownership_needs_marker_and_id_to_agree(void **state)
{
	world_t *w = W;
	settle(w);
	ms_cf_view_dnskey_t *r = &w->cf.dnskeys[0];
	char id[MS_CF_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", r->id);
	snprintf(r->comment, sizeof(r->comment), "mine now -- the operator");
	unserve(w, ZSK1);
	keydb_del(w, "zsk1");
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(warns(&w->plan, MS_WARN_OWNERSHIP), 1);
	assert_null(ms_zone_state_find_owned(&w->next, id)); /* forgotten */
}

static void ownership_content_change_disowns(void **state)
{
	world_t *w = W;
	settle(w);
	/* Someone PATCHed our record to hold another key, keeping the comment. */
	w->cf.dnskeys[0].key = mk(256, 13, 61);
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_int_equal(warns(&w->plan, MS_WARN_OWNERSHIP), 1);
	/* ZSK1 is missing again, so it is exported again. */
	assert_non_null(find(&w->plan, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK1), NULL));
}

static void ownership_duplicates_deleted_keep_one(void **state)
{
	world_t *w = W;
	settle(w);
	char kept[MS_CF_ID_MAX + 1];
	snprintf(kept, sizeof(kept), "%s", w->cf.dnskeys[0].id);
	/* A create that timed out but happened, then was retried. */
	cf_dnskey(w, "0000000000000000000000000000000a", ZSK1, w->marker);
	cf_dnskey(w, "0000000000000000000000000000000b", ZSK1, w->marker);
	plan(w);
	assert_int_equal(w->plan.count, 2);
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_DELETE_RECORD), 2);
	for (size_t i = 0; i < w->plan.count; i++) {
		assert_string_not_equal(w->plan.actions[i].record_id, kept);
		assert_non_null(strstr(w->plan.actions[i].reason, "duplicates"));
	}
	sim_apply(w);
	assert_settled(w);
	assert_int_equal(w->cf.dnskey_count, 1);
	assert_string_equal(w->cf.dnskeys[0].id, kept);
}

static void ownership_lost_state_deletes_nothing(void **state)
{
	world_t *w = W;
	settle(w);
	ms_zone_state_init(&w->state, ZONE); /* state file was corrupt */
	unserve(w, ZSK1);
	keydb_del(w, "zsk1");
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
	cf_zsk_of(w, CF1)->state = MS_CF_ZSK_REMOVED;
	w->now += 30 * 86400;
	plan(w);
	assert_int_equal(deletions(&w->plan), 0);
	assert_non_null(find(&w->plan, MS_ACT_CF_CREATE_DNSKEY, KEY(ZSK2), NULL));
	/* The NS records hold what we want: adopted, not recreated. */
	assert_int_equal(ms_plan_count(&w->plan, MS_ACT_CF_CREATE_NS), 0);
	assert_int_equal(w->next.owned_count, 2);
}

/* ---- failure safety, determinism, convergence ---- */

static void partial_apply_never_deletes_what_is_needed(void **state)
{
	world_t *w = W;
	/* Every pass, the applier manages only one action before it fails. */
	w->apply_limit = 1;
	for (int pass = 0; pass < 300; pass++) {
		plan(w);
		for (size_t i = 0; i < w->plan.count; i++) {
			const ms_action_t *a = &w->plan.actions[i];
			assert_false(a->kind == MS_ACT_CF_DELETE_RECORD && ms_dnskey_equal(&a->key, KEY(ZSK1)));
			assert_false(a->kind == MS_ACT_LOCAL_REMOVE_IMPORTED_KEY);
		}
		if (!ms_plan_has_changes(&w->plan)) {
			break;
		}
		sim_apply(w);
		w->now += INTERVAL;
	}
	w->apply_limit = 0;
	settle(w);
}

static void same_inputs_same_plan(void **state)
{
	world_t *w = W;
	cf_dnskey(w, "0dd", mk(256, 13, 60), w->marker);
	cf_zsk(w, same_tag_as(KEY(ZSK1)), MS_CF_ZSK_PUBLISH);
	/* plan() itself plans twice and compares bytes; do it over a run too. */
	for (int pass = 0; pass < 10; pass++) {
		plan(w);
		sim_apply(w);
		w->now += INTERVAL;
	}
}

typedef void (*scenario_fn)(world_t *w);

static void sc_join(world_t *w) { (void)w; }
static void sc_join_dnssec_pending(world_t *w)
{
	w->cf.dnssec_status = MS_CF_DNSSEC_PENDING;
}
static void sc_cf_prepublish(world_t *w)
{
	cf_zsk(w, CF2, MS_CF_ZSK_PUBLISH);
}
static void sc_two_local_zsks(world_t *w)
{
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
}
static void sc_crash_before_save(world_t *w)
{
	w->forget_ids = true;
}
static void sc_configured_ns(world_t *w)
{
	w->nameservers[0] = "ns1.example.net";
	w->nameservers[1] = "ns3.example.net";
	w->set.nameservers = w->nameservers;
	w->set.nameserver_count = 2;
}
static void sc_foreign_records(world_t *w)
{
	cf_dnskey(w, "f1", ZSK1, "");
	cf_ns(w, "f2", "ns1.example.net", "");
	cf_dnskey(w, "f3", mk(256, 13, 70), "");
}
static void sc_duplicates(world_t *w)
{
	cf_dnskey(w, "d1", ZSK1, w->marker);
	cf_dnskey(w, "d2", ZSK1, w->marker);
	cf_ns(w, "d3", "ns2.example.net", w->marker);
	cf_ns(w, "d4", "NS2.example.net.", w->marker);
}
static void sc_partial_applier(world_t *w)
{
	w->apply_limit = 2;
}
static void sc_stale_state(world_t *w)
{
	/* Saved ids of records someone deleted by hand. */
	assert_int_equal(ms_zone_state_own_dnskey(&w->state, "gone1", KEY(ZSK1), T0 - 99, NULL), MS_OK);
	assert_int_equal(ms_zone_state_own_ns(&w->state, "gone2", "ns1.example.net", T0, NULL), MS_OK);
}

static const struct {
	const char *name;
	scenario_fn prepare;
} scenarios[] = {
	{ "join", sc_join },
	{ "join, DNSSEC pending", sc_join_dnssec_pending },
	{ "Cloudflare pre-publishes", sc_cf_prepublish },
	{ "two local ZSKs", sc_two_local_zsks },
	{ "applier crashes before save", sc_crash_before_save },
	{ "configured nameservers", sc_configured_ns },
	{ "foreign records", sc_foreign_records },
	{ "duplicates", sc_duplicates },
	{ "applier stops after two actions", sc_partial_applier },
	{ "stale state", sc_stale_state },
};

static void convergence_property(void **state)
{
	world_t *w = W;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		print_message("scenario: %s\n", scenarios[i].name);
		joining(w);
		scenarios[i].prepare(w);
		settle(w);
		/* And at rest it stays at rest. */
		w->now += 86400;
		assert_settled(w);
		/* One shared ZSK each way, both NS sets complete. */
		assert_true(key_in(w->local.dnskeys, w->local.dnskey_count, KEY(CF1)));
		assert_true(w->cf.multi_provider && w->cf.dnssec_multi_signer);
		assert_true(ms_plan_zsk_confirmed_since(&w->state, KEY(ZSK1), w->now, 3600, NULL));
	}
}

/* Once the keys have settled, one pass of changes is enough. */
static void convergence_in_one_pass(void **state)
{
	world_t *w = W;
	settle(w);
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
	cf_zsk(w, CF2, MS_CF_ZSK_PUBLISH);
	cf_dnskey(w, "0000000000000000000000000000000f", ZSK1, w->marker);
	assert_int_equal(converge(w, 5), 1);
	assert_settled(w);
}

/* ---- misuse ---- */

static void rejects_bad_settings_and_caps(void **state)
{
	world_t *w = W;
	ms_err_t err = { 0 };
	w->set.owner_marker = "";
	assert_int_equal(ms_plan(&w->local, &w->cf, &w->state, w->now, &w->set, &w->plan, &w->next,
	                         &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "marker"));
	w->set.owner_marker = w->marker;
	w->cf.dnskey_count = MS_MAX_RECORDS + 1;
	assert_int_equal(ms_plan(&w->local, &w->cf, &w->state, w->now, &w->set, &w->plan, &w->next,
	                         &err), MS_ETOOBIG);
	assert_int_equal(w->plan.count, 0);
	assert_memory_equal(&w->next, &w->state, sizeof(w->state));
}

static void refuses_non_full_cloudflare_zone(void **state)
{
	W->cf.type = MS_VIEW_ZONE_PARTIAL;
	assert_refused(W, MS_WARN_ZONE_TYPE);
	assert_non_null(strstr(W->plan.actions[0].reason, "partial"));
	W->cf.type = MS_VIEW_ZONE_OTHER;
	assert_refused(W, MS_WARN_ZONE_TYPE);
}

/* ---- secondary: Cloudflare gets the zone from knotd by transfer ---- */

/* Cloudflare as a secondary that has not transferred anything yet. */
static void secondary(world_t *w)
{
	w->cf.type = MS_VIEW_ZONE_SECONDARY;
	w->local.soa_refresh = 600;
}

/* A zone transfer: Cloudflare lists knotd's apex DNSKEY and NS sets as
 * read-only records (no comment, ids it chose). */
static void transfer(world_t *w)
{
	w->cf.dnskey_count = w->cf.ns_count = 0;
	for (size_t i = 0; i < w->local.dnskey_count; i++) {
		char id[MS_CF_ID_MAX + 1];
		snprintf(id, sizeof(id), "%031zx%c", i, 'd');
		cf_dnskey(w, id, w->local.dnskeys[i], "")->ttl = w->local.dnskey_ttl;
	}
	for (size_t i = 0; i < w->local.ns_count; i++) {
		char id[MS_CF_ID_MAX + 1];
		snprintf(id, sizeof(id), "%031zx%c", i, 'e');
		cf_ns(w, id, w->local.ns[i], "")->ttl = w->local.ns_ttl;
	}
}

static bool in_ns(const world_t *w, const char *name)
{
	for (size_t i = 0; i < w->local.ns_count; i++) {
		if (strcmp(w->local.ns[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static size_t cf_record_actions(const ms_plan_t *p)
{
	return ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY) + ms_plan_count(p, MS_ACT_CF_CREATE_NS) +
	       ms_plan_count(p, MS_ACT_CF_DELETE_RECORD);
}

static void secondary_setup_conflicts_refuse(void **state)
{
	world_t *w = W;
	w->set.setup = MS_SETUP_SECONDARY;    /* the zone says full */
	assert_refused(w, MS_WARN_ZONE_TYPE);
	assert_non_null(strstr(w->plan.actions[0].reason,
	                       "cloudflare-setup is secondary but the Cloudflare zone is a full"));
	secondary(w);
	w->set.setup = MS_SETUP_FULL;         /* the zone says secondary */
	assert_refused(w, MS_WARN_ZONE_TYPE);
	assert_non_null(strstr(w->plan.actions[0].reason,
	                       "cloudflare-setup is full but the Cloudflare zone is a secondary"));
	/* Agreeing, or auto: planned as a secondary. */
	w->set.setup = MS_SETUP_SECONDARY;
	plan(w);
	assert_int_equal(warns(&w->plan, MS_WARN_ZONE_TYPE), 0);
	w->set.setup = MS_SETUP_AUTO;
	plan(w);
	assert_int_equal(warns(&w->plan, MS_WARN_ZONE_TYPE), 0);
}

static void secondary_sets_up_and_imports_but_writes_no_records(void **state)
{
	world_t *w = W;
	secondary(w);
	const ms_plan_t *p = plan(w);
	const ms_action_t *a = find(p, MS_ACT_CF_SET_DNSSEC, NULL, NULL);
	assert_non_null(a);
	assert_true(a->set_status_active && a->set_multi_signer);
	assert_non_null(find(p, MS_ACT_CF_SET_MULTI_PROVIDER, NULL, NULL));
	assert_non_null(find(p, MS_ACT_LOCAL_IMPORT_KEY, KEY(CF1), NULL));
	assert_int_equal(cf_record_actions(p), 0);
	/* Unknown type (the zone could not be read) with the setting: the same. */
	w->cf.type = MS_VIEW_ZONE_UNKNOWN;
	w->cf.complete = false;
	w->set.setup = MS_SETUP_SECONDARY;
	assert_int_equal(cf_record_actions(plan(w)), 0);
}

/* The whole join by transfer: setup, import, transfer, Cloudflare's NS in
 * knotd's apex NS once the keys have settled; never a record write. */
static void secondary_converges_by_transfer(void **state)
{
	world_t *w = W;
	secondary(w);
	bool ns_added = false;
	for (int pass = 0; pass < 100; pass++) {
		plan(w);
		assert_int_equal(cf_record_actions(&w->plan), 0);
		assert_int_equal(warns(&w->plan, MS_WARN_TRANSFER_LAG), 0);
		if (find(&w->plan, MS_ACT_LOCAL_ADD_NS, NULL, "ada.ns.cloudflare.com") != NULL) {
			/* Rule 8: only once our ZSK has been at Cloudflare for TTL_K. */
			int64_t since = 0;
			assert_true(ms_plan_zsk_confirmed_since(&w->next, KEY(ZSK1), w->now, 3600,
			                                        &since));
			ns_added = true;
		}
		sim_apply(w);
		transfer(w);                 /* knotd NOTIFYs, Cloudflare pulls */
		w->now += INTERVAL;
	}
	assert_true(ns_added);
	assert_true(in_ns(w, "ada.ns.cloudflare.com") && in_ns(w, "bob.ns.cloudflare.com"));
	assert_settled(w);
	assert_int_equal(w->state.owned_count, 0);
}

static void secondary_warns_when_transfer_is_late(void **state)
{
	world_t *w = W;
	secondary(w);
	w->cf.dnssec_status = MS_CF_DNSSEC_ACTIVE;
	w->cf.dnssec_multi_signer = w->cf.multi_provider = true;
	plan(w);
	assert_int_equal(warns(&w->plan, MS_WARN_TRANSFER_LAG), 0);
	sim_apply(w);
	assert_int_equal(w->state.awaited_count, 1);
	assert_int_equal(w->state.awaited[0].since, T0);
	/* Within SOA refresh + two check intervals: quiet. */
	w->now = T0 + 600 + 2 * INTERVAL - 1;
	plan(w);
	assert_int_equal(warns(&w->plan, MS_WARN_TRANSFER_LAG), 0);
	/* A partial view keeps the clock and says nothing. */
	w->now = T0 + 600 + 2 * INTERVAL;
	w->cf.complete = false;
	plan(w);
	assert_int_equal(warns(&w->plan, MS_WARN_TRANSFER_LAG), 0);
	assert_int_equal(w->next.awaited[0].since, T0);
	w->cf.complete = true;
	const ms_action_t *a = find_warn(plan(w), MS_WARN_TRANSFER_LAG);
	assert_non_null(a);
	char tag[16];
	snprintf(tag, sizeof(tag), "ZSK %u,", ms_dnskey_tag(KEY(ZSK1)));
	assert_non_null(strstr(a->reason, tag));
	assert_non_null(strstr(a->reason, "zone example.com: "));
	/* The transfer comes: quiet, and the key counts as confirmed from now. */
	sim_apply(w);
	transfer(w);
	w->now += INTERVAL;
	plan(w);
	assert_int_equal(warns(&w->plan, MS_WARN_TRANSFER_LAG), 0);
	assert_int_equal(w->next.awaited_count, 0);
	int64_t since = 0;
	ms_plan_zsk_confirmed_since(&w->next, KEY(ZSK1), w->now, 0, &since);
	assert_int_equal(since, w->now);
}

/* DNS at Cloudflare's nameservers overrules the listing (rule 11). */
static void secondary_confirmation_trusts_served_rrset(void **state)
{
	world_t *w = W;
	secondary(w);
	transfer(w);
	w->cf.served_observed = true;        /* asked; ZSK1 is not served */
	plan(w);
	int64_t since = 0;
	assert_false(ms_plan_zsk_confirmed_since(&w->next, KEY(ZSK1), w->now, 0, &since));
	w->cf.served_dnskeys[w->cf.served_dnskey_count++] = ZSK1;
	plan(w);
	assert_true(ms_plan_zsk_confirmed_since(&w->next, KEY(ZSK1), w->now, 0, &since));
}

/* The rollover gate: a new ZSK signs only once transferred, for TTL_K. */
static void secondary_gate_holds_until_transferred(void **state)
{
	world_t *w = W;
	secondary(w);
	for (int pass = 0; pass < 80; pass++) {
		plan(w);
		sim_apply(w);
		transfer(w);
		w->now += INTERVAL;
	}
	ms_local_key_t *k = publish_waiting_zsk2(w, PROP + 300 - 10);
	/* Not transferred yet: held, and never a record write. */
	plan(w);
	assert_non_null(find(&w->plan, MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL));
	assert_int_equal(cf_record_actions(&w->plan), 0);
	sim_apply(w);
	/* Transferred: confirmed from this pass, released TTL_K later. */
	transfer(w);
	w->now += 5;
	plan(w);
	sim_apply(w);
	int64_t confirmed = 0;
	ms_plan_zsk_confirmed_since(&w->state, KEY(ZSK2), w->now, 0, &confirmed);
	assert_int_equal(confirmed, w->now);
	/* Confirmed but not yet for TTL_K (Cloudflare's 3600 s): still held. */
	w->now = confirmed + 10;
	k->publish = w->now - (PROP + 300) + 10;
	plan(w);
	assert_non_null(find(&w->plan, MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL));
	w->now = confirmed + 3600;
	k->publish = w->now - (PROP + 300) + 5;
	plan(w);
	assert_null(find(&w->plan, MS_ACT_LOCAL_HOLD_ZSK, KEY(ZSK2), NULL));
}

/* Transferred records are never ours: nothing is deleted when knotd drops
 * a key; the next transfer takes it away. */
static void secondary_never_deletes_transferred_records(void **state)
{
	world_t *w = W;
	secondary(w);
	transfer(w);
	/* Even a record carrying our marker and a saved id is left alone. */
	snprintf(w->cf.dnskeys[1].comment, sizeof(w->cf.dnskeys[1].comment), "%s", w->marker);
	assert_int_equal(ms_zone_state_own_dnskey(&w->state, w->cf.dnskeys[1].id,
	                                          &w->cf.dnskeys[1].key, T0, NULL), MS_OK);
	unserve(w, ZSK1);
	keydb_del(w, "zsk1");
	own_key(w, ZSK2, MS_ROLE_ZSK, "zsk2");
	plan(w);
	assert_int_equal(cf_record_actions(&w->plan), 0);
	assert_int_equal(w->next.owned_count, 1);
}

static void warns_about_csk(void **state)
{
	world_t *w = W;
	w->local.key_count = w->local.dnskey_count = 0;
	own_key(w, mk(257, 13, 80), MS_ROLE_CSK, "csk");
	const ms_plan_t *p = plan(w);
	assert_int_equal(warns(p, MS_WARN_CSK), 1);
	assert_int_equal(ms_plan_count(p, MS_ACT_CF_CREATE_DNSKEY), 0);
}

static void settings_from_module_settings(void **state)
{
	world_t *w = W;
	char ns1[] = "ns9.example.org";
	ms_settings_t ms = { .check_interval = 120, .nameserver_count = 1,
	                     .setup = MS_SETUP_SECONDARY };
	ms.nameservers[0] = ns1;
	ms_plan_settings_from(&ms, ZONE, w->marker, 0, &w->set);
	assert_int_equal(w->set.check_interval, 120);
	assert_int_equal(w->set.hold_time, 0);
	assert_int_equal(w->set.setup, MS_SETUP_SECONDARY);
	assert_string_equal(w->set.nameservers[0], "ns9.example.org");
	assert_string_equal(w->set.owner_marker, w->marker);
	plan(w); /* usable as is */
}

static void names_for_logs(void **state)
{
	(void)state;
	assert_string_equal(ms_action_kind_name(MS_ACT_CF_CREATE_DNSKEY), "cf-create-dnskey");
	assert_string_equal(ms_warn_name(MS_WARN_TAG_COLLISION), "tag-collision");
	char small[8];
	assert_false(ms_plan_owner_marker(ZONE, small, sizeof(small)));
	assert_true(ms_dname_equal("Example.COM.", "example.com"));
	assert_false(ms_dname_equal("example.com.", "example.co"));
	assert_false(ms_dname_equal("example.com..", "example.com"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(setup_enables_what_is_off),
		T(setup_only_what_is_missing),
		T(setup_pending_counts_as_on),
		T(setup_waits_for_whole_cloudflare_view),
		T(rule1_algorithm_mismatch_refuses_everything),
		T(rule1_algorithm_roll_refuses_everything),
		T(rule1_cloudflare_algorithm_from_view),
		T(rule1_no_own_keys_refuses),
		T(rule1_never_imports_other_algorithm),
		T(import_refuses_ksk_revoked_and_malformed),
		T(rule2_tag_collision_warns),
		T(rule2_tag_collision_with_cloudflare_ksk),
		T(export_creates_missing_zsk),
		T(export_ttl_local_when_cloudflare_silent_and_clamped),
		T(export_present_key_is_left_alone),
		T(export_only_our_published_zsks),
		T(export_rollover_adds_new_then_deletes_old),
		T(rule3_holds_zsk_cloudflare_has_not_confirmed),
		T(rule3_holds_key_published_this_second),
		T(rule3_no_hold_while_activation_is_far),
		T(rule3_releases_once_served_for_ttl_k),
		T(rule8_plan_names_the_join_time),
		T(rule3_gate_leaves_active_imported_and_off),
		T(rule11_never_deletes_a_key_knotd_still_serves),
		T(rule11_no_deletion_on_partial_views),
		T(foreign_records_never_touched),
		T(import_served_cloudflare_zsks),
		T(import_needs_whole_local_view),
		T(import_reloads_when_in_keydb_but_not_served),
		T(rule5_cloudflare_key_held_then_removed),
		T(rule5_hold_time_override),
		T(rule5_hold_starts_when_seen_gone_not_last_seen),
		T(rule5_deadline_never_moves_earlier),
		T(rule5_reappearing_key_cancels_removal),
		T(rule5_only_public_only_copies_are_removed),
		T(rule5_untracked_public_key_is_never_removed),
		T(ksk_exported_as_dnskey_257),
		T(ksk_not_exported_to_a_secondary),
		T(ksk_never_exports_imports_or_cloudflares),
		T(ksk_present_unmarked_left_alone),
		T(ksk_rollover_adds_new_then_deletes_old),
		T(ksk_cloudflares_imported_public_only),
		T(ksk_cloudflare_rollover_held_then_removed),
		T(ksk_cloudflare_partial_view_removes_nothing),
		T(ksk_cloudflare_bad_ksk_not_imported),
		T(rule3_zsk_confirmed_since),
		T(rule3_confirmation_trusts_served_rrset),
		T(rule3_warns_when_knotd_signs_with_unshared_zsk),
		T(rule4_warns_on_cloudflare_signer_we_do_not_serve),
		T(out_of_step_warns_after_one_interval),
		T(ns_derived_from_local_minus_cloudflare),
		T(ns_configured_list_wins),
		T(rule8_ns_waits_until_keys_are_shared),
		T(ns_transferred_zone_only_warns),
		T(ns_unwanted_ours_deleted_on_whole_views),
		T(ownership_adopts_after_crash_before_save),
		T(ownership_orphan_is_left_alone),
		T(ownership_needs_marker_and_id_to_agree),
		T(ownership_content_change_disowns),
		T(ownership_duplicates_deleted_keep_one),
		T(ownership_lost_state_deletes_nothing),
		T(partial_apply_never_deletes_what_is_needed),
		T(same_inputs_same_plan),
		T(convergence_property),
		T(convergence_in_one_pass),
		T(rejects_bad_settings_and_caps),
		T(refuses_non_full_cloudflare_zone),
		T(secondary_setup_conflicts_refuse),
		T(secondary_sets_up_and_imports_but_writes_no_records),
		T(secondary_converges_by_transfer),
		T(secondary_warns_when_transfer_is_late),
		T(secondary_confirmation_trusts_served_rrset),
		T(secondary_gate_holds_until_transferred),
		T(secondary_never_deletes_transferred_records),
		T(warns_about_csk),
		T(settings_from_module_settings),
		T(names_for_logs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
