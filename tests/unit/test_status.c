/*
 * The status builder and its JSON: keys and NS from both views, what is
 * pending and until when (held ZSK, removal, NS join), the last success and
 * error, DS records, and the caps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define ZONE "example.com"
#define NOW  1700100000

static ms_dnskey_t key_of(uint16_t flags, uint8_t seed)
{
	uint8_t wire[4 + 64] = { (uint8_t)(flags >> 8), (uint8_t)flags, 3, 13 };
	for (size_t i = 0; i < 64; i++) {
		wire[4 + i] = (uint8_t)(seed + i * 7);
	}
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_wire(wire, sizeof(wire), &k, NULL), MS_OK);
	return k;
}

typedef struct {
	ms_local_view_t local;
	ms_cf_view_t cf;
	ms_zone_state_t state;
	ms_plan_t plan;
	ms_status_t st;
	ms_status_input_t in;
	ms_dnskey_t ksk, zsk, new_zsk, cf_zsk, cf_old, cf_ksk;
} fixture_t;

static void add_local_key(fixture_t *f, const ms_dnskey_t *key, ms_key_role_t role,
                          bool public_only, int64_t publish, int64_t active, bool served)
{
	ms_local_key_t *k = &f->local.keys[f->local.key_count++];
	k->key = *key;
	k->role = role;
	k->public_only = public_only;
	k->publish = publish;
	k->active = active;
	if (served) {
		f->local.dnskeys[f->local.dnskey_count++] = *key;
	}
}

static int setup(void **ctx)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->ksk = key_of(257, 1);
	f->zsk = key_of(256, 2);
	f->new_zsk = key_of(256, 3);
	f->cf_zsk = key_of(256, 4);
	f->cf_old = key_of(256, 5);
	f->cf_ksk = key_of(257, 6);

	f->local.complete = true;
	f->local.dnskey_ttl = 3600;
	add_local_key(f, &f->ksk, MS_ROLE_KSK, false, NOW - 86400, NOW - 86400, true);
	add_local_key(f, &f->zsk, MS_ROLE_ZSK, false, NOW - 86400, NOW - 86400, true);
	add_local_key(f, &f->new_zsk, MS_ROLE_ZSK, false, NOW - 60, NOW + 7200, true);
	add_local_key(f, &f->cf_zsk, MS_ROLE_ZSK, true, NOW - 3000, 0, true);
	snprintf(f->local.ns[f->local.ns_count++], MS_DNAME_MAX + 1, "ns1.example.net");

	f->cf.complete = true;
	snprintf(f->cf.zone_id, sizeof(f->cf.zone_id), "023e105f4ecef8ad9ca31a8372d0c353");
	f->cf.dnssec_status = MS_CF_DNSSEC_ACTIVE;
	f->cf.dnssec_multi_signer = true;
	f->cf.multi_provider = true;
	f->cf.zsks[0].key = f->cf_zsk;
	f->cf.zsks[0].ttl = 7200; /* larger than knotd's: TTL_K */
	snprintf(f->cf.zsks[0].state_text, sizeof(f->cf.zsks[0].state_text), "active");
	f->cf.zsk_count = 1;
	f->cf.has_ksk = true;
	f->cf.ksk = f->cf_ksk;
	snprintf(f->cf.name_servers[f->cf.name_server_count++], MS_DNAME_MAX + 1,
	         "ada.ns.cloudflare.com");
	snprintf(f->cf.ns[0].name, sizeof(f->cf.ns[0].name), "ns1.example.net");
	f->cf.ns_count = 1;

	ms_zone_state_init(&f->state, ZONE);
	f->state.our_zsks[0] = (ms_our_zsk_state_t){ .key = f->zsk, .confirmed_since = NOW - 80000 };
	f->state.our_zsks[1] = (ms_our_zsk_state_t){ .key = f->new_zsk, .confirmed_since = NOW - 30 };
	f->state.our_zsk_count = 2;
	f->state.cf_keys[0] = (ms_cf_key_state_t){ .key = f->cf_zsk, .first_seen = NOW - 3100,
	                                           .last_seen = NOW, .in_local_since = NOW - 3000 };
	f->state.cf_keys[1] = (ms_cf_key_state_t){ .key = f->cf_old, .first_seen = NOW - 90000,
	                                           .last_seen = NOW - 600, .gone_since = NOW - 500,
	                                           .remove_after = NOW + 9000,
	                                           .in_local_since = NOW - 89000 };
	f->state.cf_key_count = 2;

	f->plan.actions[0] = (ms_action_t){ .kind = MS_ACT_LOCAL_HOLD_ZSK, .key = f->new_zsk,
	                                     .when = NOW };
	f->plan.count = 1;

	f->in = (ms_status_input_t){
		.zone = ZONE, .now = NOW, .local = &f->local, .cf = &f->cf, .state = &f->state,
		.plan = &f->plan, .last_success = NOW - 60, .last_error_time = 0, .last_error = "",
	};
	*ctx = f;
	return 0;
}

static int teardown(void **ctx)
{
	free(*ctx);
	return 0;
}

/* Format st and parse it back. */
static json_object *as_json(const ms_status_t *st)
{
	char *buf = malloc(MS_STATUS_TEXT_MAX);
	assert_non_null(buf);
	size_t len = 0;
	assert_int_equal(ms_status_format(st, buf, MS_STATUS_TEXT_MAX, &len, NULL), MS_OK);
	assert_int_equal(len, strlen(buf));
	json_object *o = json_tokener_parse(buf);
	free(buf);
	assert_non_null(o);
	return o;
}

static json_object *at(json_object *o, const char *path)
{
	char copy[128];
	snprintf(copy, sizeof(copy), "%s", path);
	for (char *save = NULL, *part = strtok_r(copy, ".", &save); part != NULL;
	     part = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array)) {
			o = json_object_array_get_idx(o, (size_t)atoi(part));
		} else if (!json_object_object_get_ex(o, part, &o)) {
			return NULL;
		}
	}
	return o;
}

static const char *str_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v != NULL ? json_object_get_string(v) : "(absent)";
}

static int int_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	assert_non_null(v);
	return json_object_get_int(v);
}

static void test_keys_and_ns(void **ctx)
{
	fixture_t *f = *ctx;
	ms_status_build(&f->in, &f->st);
	json_object *o = as_json(&f->st);
	assert_int_equal(int_at(o, "version"), MS_STATUS_VERSION);
	assert_string_equal(str_at(o, "zone"), ZONE);
	assert_string_equal(str_at(o, "updated"), "2023-11-16T02:00:00Z");
	assert_string_equal(str_at(o, "last_success"), "2023-11-16T01:59:00Z");
	assert_null(at(o, "last_error"));

	assert_int_equal(json_object_array_length(at(o, "knot.keys")), 4);
	assert_int_equal(int_at(o, "knot.keys.0.tag"), ms_dnskey_tag(&f->ksk));
	assert_string_equal(str_at(o, "knot.keys.0.role"), "ksk");
	assert_string_equal(str_at(o, "knot.keys.0.state"), "active");
	assert_int_equal(int_at(o, "knot.keys.1.tag"), ms_dnskey_tag(&f->zsk));
	assert_string_equal(str_at(o, "knot.keys.2.state"), "published");
	assert_string_equal(str_at(o, "knot.keys.2.active"), "2023-11-16T04:00:00Z");
	assert_null(at(o, "knot.keys.2.retire"));
	assert_true(json_object_get_boolean(at(o, "knot.keys.3.imported")));
	assert_false(json_object_get_boolean(at(o, "knot.keys.1.imported")));
	assert_true(json_object_get_boolean(at(o, "knot.keys.1.served")));
	assert_string_equal(str_at(o, "knot.ns.0"), "ns1.example.net");
	assert_true(json_object_get_boolean(at(o, "knot.complete")));

	assert_string_equal(str_at(o, "cloudflare.zone_id"), "023e105f4ecef8ad9ca31a8372d0c353");
	assert_string_equal(str_at(o, "cloudflare.dnssec"), "active");
	assert_int_equal(int_at(o, "cloudflare.zsks.0.tag"), ms_dnskey_tag(&f->cf_zsk));
	assert_string_equal(str_at(o, "cloudflare.zsks.0.state"), "active");
	assert_int_equal(int_at(o, "cloudflare.ksk.tag"), ms_dnskey_tag(&f->cf_ksk));
	assert_string_equal(str_at(o, "cloudflare.ksk.state"), "active");
	assert_string_equal(str_at(o, "cloudflare.name_servers.0"), "ada.ns.cloudflare.com");
	assert_string_equal(str_at(o, "cloudflare.ns.0"), "ns1.example.net");
	assert_int_equal(json_object_array_length(at(o, "ds")), 0);
	json_object_put(o);
}

static void test_pending(void **ctx)
{
	fixture_t *f = *ctx;
	ms_status_build(&f->in, &f->st);
	assert_int_equal(f->st.pending_count, 3);
	/* Held: confirmed 30 s ago, may sign TTL_K (Cloudflare's 7200) after. */
	assert_int_equal(f->st.pending[0].kind, MS_PENDING_HOLD);
	assert_int_equal(f->st.pending[0].tag, ms_dnskey_tag(&f->new_zsk));
	assert_int_equal(f->st.pending[0].until, NOW - 30 + 7200);
	assert_int_equal(f->st.pending[1].kind, MS_PENDING_REMOVAL);
	assert_int_equal(f->st.pending[1].tag, ms_dnskey_tag(&f->cf_old));
	assert_int_equal(f->st.pending[1].until, NOW + 9000);
	/* Cloudflare's NS is not in knotd's apex yet: joins at the latest
	 * settling key (the new ZSK confirmed 30 s ago) + TTL_K. */
	assert_int_equal(f->st.pending[2].kind, MS_PENDING_NS_JOIN);
	assert_int_equal(f->st.pending[2].until, NOW - 30 + 7200);
	json_object *o = as_json(&f->st);
	assert_string_equal(str_at(o, "pending.0.kind"), "hold");
	assert_string_equal(str_at(o, "pending.1.kind"), "removal");
	assert_string_equal(str_at(o, "pending.2.kind"), "ns-join");
	assert_null(at(o, "pending.2.tag"));
	json_object_put(o);
}

static void test_unconfirmed_hold_has_no_time(void **ctx)
{
	fixture_t *f = *ctx;
	f->state.our_zsks[1].confirmed_since = 0;
	ms_status_build(&f->in, &f->st);
	assert_int_equal(f->st.pending[0].kind, MS_PENDING_HOLD);
	assert_int_equal(f->st.pending[0].until, 0);
	assert_int_equal(f->st.pending[2].until, 0); /* NS join waits too */
	json_object *o = as_json(&f->st);
	json_object *until = NULL;
	assert_true(json_object_object_get_ex(at(o, "pending.0"), "until", &until));
	assert_null(until); /* present, null */
	json_object_put(o);
}

static void test_nothing_pending_when_in_step(void **ctx)
{
	fixture_t *f = *ctx;
	snprintf(f->local.ns[f->local.ns_count++], MS_DNAME_MAX + 1, "ADA.ns.cloudflare.com.");
	f->state.cf_key_count = 1;
	f->in.plan = NULL;
	ms_status_build(&f->in, &f->st);
	assert_int_equal(f->st.pending_count, 0);
}

static void test_ns_join_needs_whole_views(void **ctx)
{
	fixture_t *f = *ctx;
	f->cf.complete = false;
	ms_status_build(&f->in, &f->st);
	for (size_t i = 0; i < f->st.pending_count; i++) {
		assert_int_not_equal(f->st.pending[i].kind, MS_PENDING_NS_JOIN);
	}
	json_object *o = as_json(&f->st);
	assert_false(json_object_get_boolean(at(o, "cloudflare.complete")));
	json_object_put(o);
}

static void test_configured_nameserver_missing_at_cf(void **ctx)
{
	fixture_t *f = *ctx;
	snprintf(f->local.ns[f->local.ns_count++], MS_DNAME_MAX + 1, "ada.ns.cloudflare.com");
	const char *ours[] = { "ns1.example.net", "ns2.example.net" };
	f->in.nameservers = ours;
	f->in.nameserver_count = 2;
	ms_status_build(&f->in, &f->st);
	assert_int_equal(f->st.pending[f->st.pending_count - 1].kind, MS_PENDING_NS_JOIN);
}

static void test_last_error_and_ds(void **ctx)
{
	fixture_t *f = *ctx;
	f->in.last_error = "Cloudflare answered HTTP 503 to GET /zones";
	f->in.last_error_time = NOW - 5;
	f->in.dry_run = true;
	ms_status_build(&f->in, &f->st);
	assert_true(ms_status_add_ds(&f->st, MS_DS_PROVIDER_KNOT,
	                             "example.com. IN DS 12345 13 2 ABCDEF"));
	assert_true(ms_status_add_ds(&f->st, MS_DS_PROVIDER_CLOUDFLARE,
	                             "example.com. IN DS 2371 13 2 0123"));
	json_object *o = as_json(&f->st);
	assert_string_equal(str_at(o, "last_error.message"),
	                    "Cloudflare answered HTTP 503 to GET /zones");
	assert_string_equal(str_at(o, "last_error.time"), "2023-11-16T01:59:55Z");
	assert_true(json_object_get_boolean(at(o, "dry_run")));
	assert_string_equal(str_at(o, "ds.0.provider"), "knot");
	assert_string_equal(str_at(o, "ds.1.provider"), "cloudflare");
	assert_string_equal(str_at(o, "ds.1.ds"), "example.com. IN DS 2371 13 2 0123");
	json_object_put(o);
}

static void test_caps(void **ctx)
{
	fixture_t *f = *ctx;
	ms_status_build(&f->in, &f->st);
	char small[64];
	ms_err_t err = { 0 };
	assert_int_equal(ms_status_format(&f->st, small, sizeof(small), NULL, &err), MS_ETOOBIG);
	assert_non_null(strstr(err.msg, "larger than"));
	char big[MS_STATUS_DS_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(ms_status_add_ds(&f->st, MS_DS_PROVIDER_KNOT, big));
	for (size_t i = 0; i < MS_STATUS_MAX_DS; i++) {
		assert_true(ms_status_add_ds(&f->st, MS_DS_PROVIDER_KNOT, "x. IN DS 1 13 2 00"));
	}
	assert_false(ms_status_add_ds(&f->st, MS_DS_PROVIDER_KNOT, "x. IN DS 1 13 2 00"));
	/* Every cap filled still fits the text buffer. */
	f->st.pending_count = MS_STATUS_MAX_PENDING;
	f->st.cf_ns_count = MS_MAX_RECORDS;
	f->st.local_ns_count = MS_MAX_NS;
	for (size_t i = 0; i < MS_MAX_RECORDS; i++) {
		memset(f->st.cf_ns[i], 'n', MS_DNAME_MAX);
		f->st.cf_ns[i][MS_DNAME_MAX] = '\0';
	}
	char *buf = malloc(MS_STATUS_TEXT_MAX);
	assert_int_equal(ms_status_format(&f->st, buf, MS_STATUS_TEXT_MAX, NULL, NULL), MS_OK);
	free(buf);
}

static void test_recall_round_trip(void **ctx)
{
	fixture_t *f = *ctx;
	f->in.last_error = "Cloudflare error 10001: Service unavailable (HTTP 503)";
	f->in.last_error_time = NOW - 5;
	ms_status_build(&f->in, &f->st);
	char *buf = malloc(MS_STATUS_TEXT_MAX);
	size_t len = 0;
	assert_int_equal(ms_status_format(&f->st, buf, MS_STATUS_TEXT_MAX, &len, NULL), MS_OK);
	int64_t ok = 0, err_time = 0;
	char msg[MS_ERR_MSG_MAX];
	assert_true(ms_status_recall(buf, len, "EXAMPLE.com.", &ok, &err_time, msg, sizeof(msg)));
	assert_int_equal(ok, NOW - 60);
	assert_int_equal(err_time, NOW - 5);
	assert_string_equal(msg, "Cloudflare error 10001: Service unavailable (HTTP 503)");
	/* Another zone's file, or something else: nothing recalled. */
	assert_false(ms_status_recall(buf, len, "example.net", &ok, &err_time, msg, sizeof(msg)));
	assert_int_equal(ok, 0);
	assert_int_equal(err_time, 0);
	assert_string_equal(msg, "");
	free(buf);
	const char *bad[] = {
		"", "not json", "[]", "{\"version\": 2, \"zone\": \"example.com\"}",
		"{\"version\": \"1\", \"zone\": \"example.com\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(ms_status_recall(bad[i], strlen(bad[i]), ZONE, &ok, &err_time, msg,
		                              sizeof(msg)));
	}
	/* Fields that are missing or malformed count as unset. */
	const char *odd = "{\"version\": 1, \"zone\": \"example.com\", \"last_success\": "
	                  "\"yesterday\", \"last_error\": {\"message\": \"x\"}}";
	assert_true(ms_status_recall(odd, strlen(odd), ZONE, &ok, &err_time, msg, sizeof(msg)));
	assert_int_equal(ok, 0);
	assert_int_equal(err_time, 0);
	assert_string_equal(msg, "x");
}

static void test_key_states(void **ctx)
{
	(void)ctx;
	ms_status_local_key_t k = { .publish = 100, .active = 200, .retire = 300, .remove = 400 };
	assert_string_equal(ms_status_key_state(&k, 50), "future");
	assert_string_equal(ms_status_key_state(&k, 100), "published");
	assert_string_equal(ms_status_key_state(&k, 250), "active");
	assert_string_equal(ms_status_key_state(&k, 300), "retired");
	assert_string_equal(ms_status_key_state(&k, 400), "removed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys_and_ns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unconfirmed_hold_has_no_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_pending_when_in_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ns_join_needs_whole_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configured_nameserver_missing_at_cf, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_last_error_and_ds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recall_round_trip, setup, teardown),
		cmocka_unit_test(test_key_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
