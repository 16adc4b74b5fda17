/* ms_apply() over recording fakes: order, stop-on-failure per side, dry-run,
 * ownership bookkeeping, one zone-keys-load for any number of key edits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"

#define KEY_B64 "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="

typedef struct {
	char calls[32][64];
	size_t count;
	const char *fail;   /* call name that fails */
	ms_rc_t fail_rc;
	int created;
	size_t ns_names;    /* names of the last add_ns call */
	size_t batched;     /* records of the last create_many call */
	ms_cf_rrtype_t batch_types[8];
} fake_t;

static ms_rc_t record(fake_t *f, const char *what, ms_err_t *err)
{
	snprintf(f->calls[f->count++], sizeof(f->calls[0]), "%s", what);
	if (f->fail != NULL && strcmp(f->fail, what) == 0) {
		return ms_err_set(err, f->fail_rc, "%s failed", what);
	}
	return MS_OK;
}

static ms_rc_t f_dnssec(void *ctx, bool a, bool m, ms_err_t *err)
{
	(void)a; (void)m;
	return record(ctx, "set_dnssec", err);
}

static ms_rc_t f_multi(void *ctx, ms_err_t *err)
{
	return record(ctx, "set_multi_provider", err);
}

static ms_rc_t f_create(void *ctx, const ms_cf_record_t *rec, char *id, ms_err_t *err)
{
	fake_t *f = ctx;
	snprintf(id, MS_CF_ID_MAX + 1, "%032d", ++f->created);
	return record(f, rec->type == MS_CF_RR_DNSKEY ? "create_dnskey" : "create_ns", err);
}

static ms_rc_t f_create_many(void *ctx, const ms_cf_record_t *recs, size_t n,
                             char (*ids)[MS_CF_ID_MAX + 1], ms_err_t *err)
{
	fake_t *f = ctx;
	f->batched = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], MS_CF_ID_MAX + 1, "%032d", ++f->created);
		f->batch_types[i < 8 ? i : 7] = recs[i].type;
	}
	return record(f, "create_many", err);
}

static ms_rc_t f_delete(void *ctx, const char *id, ms_err_t *err)
{
	(void)id;
	return record(ctx, "delete", err);
}

static ms_rc_t f_import(void *ctx, const ms_dnskey_t *k, ms_err_t *err)
{
	(void)k;
	return record(ctx, "import", err);
}

static ms_rc_t f_remove(void *ctx, const char *id, ms_err_t *err)
{
	(void)id;
	return record(ctx, "remove", err);
}

static ms_rc_t f_add_ns(void *ctx, const char *const *names, size_t count, uint32_t ttl,
                        ms_err_t *err)
{
	(void)names; (void)ttl;
	((fake_t *)ctx)->ns_names = count;
	return record(ctx, "add_ns", err);
}

static ms_rc_t f_hold(void *ctx, const char *id, int64_t when, ms_err_t *err)
{
	(void)id; (void)when;
	return record(ctx, "hold", err);
}

static ms_rc_t f_reload(void *ctx, ms_err_t *err)
{
	return record(ctx, "reload_keys", err);
}

static int logged;
static void count_log(void *o, int p, const char *fmt, va_list ap)
{
	(void)o; (void)p; (void)fmt; (void)ap;
	logged++;
}

static void setup_env(fake_t *f, ms_cf_writer_t *cf, ms_local_editor_t *local, ms_zone_t *zone,
                      ms_zone_state_t *state)
{
	memset(f, 0, sizeof(*f));
	*cf = (ms_cf_writer_t){ f, f_dnssec, f_multi, f_create, f_delete, NULL };
	*local = (ms_local_editor_t){ f, f_import, f_remove, f_add_ns, f_hold, f_reload };
	memset(zone, 0, sizeof(*zone));
	zone->name = (char *)"example.com";
	zone->hooks.log = count_log;
	ms_zone_state_init(state, "example.com");
	logged = 0;
}

static void add(ms_plan_t *p, ms_action_kind_t kind)
{
	ms_action_t *a = &p->actions[p->count++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	ms_dnskey_from_b64(256, 3, 13, KEY_B64, &a->key, NULL);
	snprintf(a->record_id, sizeof(a->record_id), "%032d", 7);
	snprintf(a->key_id, sizeof(a->key_id), "%040d", 9);
	snprintf(a->name, sizeof(a->name), "ns1.example.net");
	a->ttl = 3600;
	snprintf(a->reason, sizeof(a->reason), "zone example.com: action %d", kind);
}

static ms_plan_t *full_plan(void)
{
	static ms_plan_t p;
	memset(&p, 0, sizeof(p));
	add(&p, MS_ACT_WARN);
	add(&p, MS_ACT_CF_SET_DNSSEC);
	add(&p, MS_ACT_CF_SET_MULTI_PROVIDER);
	add(&p, MS_ACT_CF_CREATE_DNSKEY);
	add(&p, MS_ACT_LOCAL_IMPORT_KEY);
	add(&p, MS_ACT_CF_CREATE_NS);
	add(&p, MS_ACT_LOCAL_ADD_NS);
	add(&p, MS_ACT_CF_DELETE_RECORD);
	add(&p, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY);
	return &p;
}

static void runs_in_plan_order_then_reloads_keys_once(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	ms_apply_result_t r;
	ms_apply(&zone, full_plan(), "marker", &cf, &local, &st, 1000, false, &r);
	const char *want[] = { "set_dnssec", "set_multi_provider", "create_dnskey", "import",
	                       "create_ns", "add_ns", "delete", "remove", "reload_keys" };
	assert_int_equal(f.count, 9);
	for (size_t i = 0; i < 9; i++) {
		assert_string_equal(f.calls[i], want[i]);
	}
	assert_int_equal(r.changes, 8);
	assert_int_equal(r.failures, 0);
	/* Both created records are ours in the state at once. */
	assert_int_equal(st.owned_count, 2);
}

static void cloudflare_failure_stops_only_cloudflare(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	f.fail = "create_dnskey";
	f.fail_rc = MS_ETIMEOUT;
	ms_apply_result_t r;
	ms_apply(&zone, full_plan(), "marker", &cf, &local, &st, 1000, false, &r);
	for (size_t i = 0; i < f.count; i++) {
		/* After the failed create, no Cloudflare write, above all no delete. */
		assert_string_not_equal(f.calls[i], "create_ns");
		assert_string_not_equal(f.calls[i], "delete");
	}
	assert_string_equal(f.calls[f.count - 1], "reload_keys");
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.first_error.rc, MS_ETIMEOUT);
	assert_int_equal(st.owned_count, 0);
}

static void local_failure_stops_only_local(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	f.fail = "import";
	f.fail_rc = MS_EIO;
	ms_apply_result_t r;
	ms_apply(&zone, full_plan(), "marker", &cf, &local, &st, 1000, false, &r);
	bool deleted = false;
	for (size_t i = 0; i < f.count; i++) {
		assert_string_not_equal(f.calls[i], "add_ns");
		assert_string_not_equal(f.calls[i], "remove");
		deleted |= strcmp(f.calls[i], "delete") == 0;
	}
	assert_true(deleted);
	assert_int_equal(r.failures, 1);
}

static void dry_run_calls_nothing(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	ms_apply_result_t r;
	ms_apply(&zone, full_plan(), "marker", &cf, &local, &st, 1000, true, &r);
	assert_int_equal(f.count, 0);
	assert_int_equal(r.changes, 8);
	assert_int_equal(logged, 8);
	assert_int_equal(st.owned_count, 0);
}

static void delete_of_missing_record_counts_as_done(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	ms_dnskey_t key;
	ms_dnskey_from_b64(256, 3, 13, KEY_B64, &key, NULL);
	char id[40];
	snprintf(id, sizeof(id), "%032d", 7);
	assert_int_equal(ms_zone_state_own_dnskey(&st, id, &key, 1, NULL), MS_OK);
	f.fail = "delete";
	f.fail_rc = MS_ENOTFOUND;
	ms_plan_t p = { 0 };
	add(&p, MS_ACT_CF_DELETE_RECORD);
	ms_apply_result_t r;
	ms_apply(&zone, &p, "marker", &cf, &local, &st, 1000, false, &r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.changes, 1);
	assert_null(ms_zone_state_find_owned(&st, id));
}

/* NS additions in a row: one call (one knotd transaction), each logged and
 * counted once it is done; all or none. */
static void ns_additions_go_together(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	ms_plan_t p = { 0 };
	add(&p, MS_ACT_LOCAL_ADD_NS);
	add(&p, MS_ACT_LOCAL_ADD_NS);
	add(&p, MS_ACT_LOCAL_ADD_NS);
	p.actions[2].ttl = 60; /* another TTL: another call */
	add(&p, MS_ACT_LOCAL_REMOVE_IMPORTED_KEY);
	ms_apply_result_t r;
	ms_apply(&zone, &p, "marker", &cf, &local, &st, 1000, false, &r);
	const char *want[] = { "add_ns", "add_ns", "remove", "reload_keys" };
	assert_int_equal(f.count, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(f.calls[i], want[i]);
	}
	assert_int_equal(f.ns_names, 1);
	assert_int_equal(r.changes, 4);
	assert_int_equal(logged, 4);

	setup_env(&f, &cf, &local, &zone, &st);
	p.actions[2].ttl = 3600;
	f.fail = "add_ns";
	f.fail_rc = MS_EIO;
	ms_apply(&zone, &p, "marker", &cf, &local, &st, 1000, false, &r);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.ns_names, 3);
	assert_int_equal(r.changes, 0);
	assert_int_equal(r.failures, 1);
}

/* Record creations in a row: one request when the writer can batch, each
 * record ours at once; one request per record when it cannot; none ours
 * when the batch fails. */
static void creations_go_together(void **state)
{
	(void)state;
	fake_t f; ms_cf_writer_t cf; ms_local_editor_t local; ms_zone_t zone; ms_zone_state_t st;
	setup_env(&f, &cf, &local, &zone, &st);
	cf.create_many = f_create_many;
	ms_plan_t p = { 0 };
	add(&p, MS_ACT_CF_SET_DNSSEC);
	add(&p, MS_ACT_CF_CREATE_DNSKEY);
	add(&p, MS_ACT_CF_CREATE_NS);
	add(&p, MS_ACT_LOCAL_IMPORT_KEY);
	add(&p, MS_ACT_CF_CREATE_NS);      /* after a local action: a request of its own */
	snprintf(p.actions[2].name, sizeof(p.actions[2].name), "ns2.example.net");
	ms_apply_result_t r;
	ms_apply(&zone, &p, "marker", &cf, &local, &st, 1000, false, &r);
	const char *want[] = { "set_dnssec", "create_many", "import", "create_ns", "reload_keys" };
	assert_int_equal(f.count, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(f.calls[i], want[i]);
	}
	assert_int_equal(f.batched, 2);
	assert_int_equal(f.batch_types[0], MS_CF_RR_DNSKEY);
	assert_int_equal(f.batch_types[1], MS_CF_RR_NS);
	assert_int_equal(r.changes, 5);
	assert_int_equal(logged, 5);
	assert_int_equal(st.owned_count, 3);

	/* Without create_many: one request each, as before. */
	setup_env(&f, &cf, &local, &zone, &st);
	ms_apply(&zone, &p, "marker", &cf, &local, &st, 1000, false, &r);
	assert_string_equal(f.calls[1], "create_dnskey");
	assert_string_equal(f.calls[2], "create_ns");
	assert_int_equal(st.owned_count, 3);

	/* A failed batch: nothing ours, the rest of Cloudflare's side waits. */
	setup_env(&f, &cf, &local, &zone, &st);
	cf.create_many = f_create_many;
	f.fail = "create_many";
	f.fail_rc = MS_EIO;
	ms_apply(&zone, &p, "marker", &cf, &local, &st, 1000, false, &r);
	assert_int_equal(st.owned_count, 0);
	assert_int_equal(r.failures, 1);
	for (size_t i = 0; i < f.count; i++) {
		assert_string_not_equal(f.calls[i], "create_ns");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_in_plan_order_then_reloads_keys_once),
		cmocka_unit_test(cloudflare_failure_stops_only_cloudflare),
		cmocka_unit_test(local_failure_stops_only_local),
		cmocka_unit_test(dry_run_calls_nothing),
		cmocka_unit_test(delete_of_missing_record_counts_as_done),
		cmocka_unit_test(ns_additions_go_together),
		cmocka_unit_test(creations_go_together),
	};
	return cmocka_run_group_tests_name("apply", tests, NULL, NULL);
}
