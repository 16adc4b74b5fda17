/* Mapping the client's values into the planner's Cloudflare view. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "observe_cf.h"

#define KEY_B64 "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="

static void zone_types(void **state)
{
	(void)state;
	assert_int_equal(ms_observe_cf_zone_type("full"), MS_VIEW_ZONE_FULL);
	assert_int_equal(ms_observe_cf_zone_type("partial"), MS_VIEW_ZONE_PARTIAL);
	assert_int_equal(ms_observe_cf_zone_type("secondary"), MS_VIEW_ZONE_SECONDARY);
	assert_int_equal(ms_observe_cf_zone_type("internal"), MS_VIEW_ZONE_OTHER);
	assert_int_equal(ms_observe_cf_zone_type(""), MS_VIEW_ZONE_UNKNOWN);
	assert_int_equal(ms_observe_cf_zone_type(NULL), MS_VIEW_ZONE_UNKNOWN);
}

static void records_map_and_null_comment_is_empty(void **state)
{
	(void)state;
	ms_cf_record_t recs[2];
	ms_dnskey_t key;
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, KEY_B64, &key, NULL), MS_OK);
	ms_cf_record_dnskey(&recs[0], "Example.COM.", 3600, &key, "ours");
	strcpy(recs[0].id, "0123456789abcdef0123456789abcdef");
	ms_cf_record_ns(&recs[1], "example.com", 86400, "NS1.Example.net.", NULL);
	strcpy(recs[1].id, "fedcba9876543210fedcba9876543210");
	ms_cf_record_list_t both = { recs, 2 };
	ms_cf_view_t *view = calloc(1, sizeof(*view));
	assert_int_equal(ms_observe_cf_apex(view, &both, NULL), MS_OK);
	assert_int_equal(view->dnskey_count, 1);
	assert_true(ms_dnskey_equal(&view->dnskeys[0].key, &key));
	assert_string_equal(view->dnskeys[0].comment, "ours");
	assert_int_equal(view->dnskeys[0].ttl, 3600);
	assert_int_equal(view->ns_count, 1);
	assert_string_equal(view->ns[0].name, "ns1.example.net");
	assert_string_equal(view->ns[0].comment, "");
	assert_string_equal(view->ns[0].id, "fedcba9876543210fedcba9876543210");
	free(view);
}

/* More than the view holds is an error, never a silently shorter list that
 * would look like deleted records. */
static void too_many_records_is_an_error(void **state)
{
	(void)state;
	size_t n = MS_MAX_RECORDS + 1;
	ms_cf_record_t *recs = calloc(n, sizeof(*recs));
	ms_cf_record_list_t many = { recs, n };
	ms_cf_view_t *view = calloc(1, sizeof(*view));
	ms_err_t err = { 0 };
	for (size_t i = 0; i < n; i++) {
		recs[i].type = MS_CF_RR_DNSKEY;
	}
	assert_int_equal(ms_observe_cf_apex(view, &many, &err), MS_ETOOBIG);
	assert_non_null(strstr(err.msg, "apex DNSKEY records"));
	for (size_t i = 0; i < n; i++) {
		recs[i].type = MS_CF_RR_NS;
	}
	assert_int_equal(ms_observe_cf_apex(view, &many, &err), MS_ETOOBIG);
	assert_non_null(strstr(err.msg, "apex NS records"));
	for (size_t i = 0; i < n; i++) {
		recs[i].type = MS_CF_RR_OTHER; /* A, MX, TXT at the apex: not ours to count */
	}
	assert_int_equal(ms_observe_cf_apex(view, &many, &err), MS_OK);
	assert_int_equal(view->dnskey_count + view->ns_count, 0);
	ms_cf_zsk_t *zsks = calloc(MS_MAX_KEYS + 1, sizeof(*zsks));
	ms_cf_zsk_list_t zl = { zsks, MS_MAX_KEYS + 1 };
	assert_int_equal(ms_observe_cf_zsks(view, &zl, &err), MS_ETOOBIG);
	free(zsks);
	free(recs);
	free(view);
}

static void zone_fields(void **state)
{
	(void)state;
	ms_cf_zone_t zone = { .id = "0123456789abcdef0123456789abcdef", .type = "full",
	                      .name_server_count = 2 };
	strcpy(zone.name_servers[0], "ada.ns.cloudflare.com");
	strcpy(zone.name_servers[1], "bob.ns.cloudflare.com");
	ms_cf_view_t *view = calloc(1, sizeof(*view));
	ms_observe_cf_zone(view, &zone);
	assert_string_equal(view->zone_id, zone.id);
	assert_int_equal(view->type, MS_VIEW_ZONE_FULL);
	assert_int_equal(view->name_server_count, 2);
	assert_string_equal(view->name_servers[1], "bob.ns.cloudflare.com");
	free(view);
}

static ms_cf_cache_t cache_with(ms_cf_dnssec_status_t status, bool signer, bool provider)
{
	ms_cf_cache_t c = { .zone_known = true, .settings_known = true, .settings_at = 1000.0 };
	c.dnssec.status = status;
	c.dnssec.multi_signer = signer;
	c.dns_settings.multi_provider = provider;
	return c;
}

/* Settings are kept a day once the zone is set up, whether Cloudflare's
 * DNSSEC is active or still pending, not at all while the sync still sets
 * the zone up; the zone object is the caller's to drop. */
static void cache_expiry(void **state)
{
	(void)state;
	const ms_cf_dnssec_status_t on[] = { MS_CF_DNSSEC_ACTIVE, MS_CF_DNSSEC_PENDING };
	ms_cf_cache_t c;
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		c = cache_with(on[i], true, true);
		ms_cf_cache_expire(&c, 1000.0 + MS_CF_SETTINGS_RECHECK - 1);
		assert_true(c.settings_known);
		ms_cf_cache_expire(&c, 1000.0 + MS_CF_SETTINGS_RECHECK);
		assert_false(c.settings_known);
		assert_true(c.zone_known);
	}

	const ms_cf_cache_t unfinished[] = {
		cache_with(MS_CF_DNSSEC_DISABLED, true, true),
		cache_with(MS_CF_DNSSEC_ACTIVE, false, true),
		cache_with(MS_CF_DNSSEC_ACTIVE, true, false),
		cache_with(MS_CF_DNSSEC_ERROR, true, true),
	};
	for (size_t i = 0; i < sizeof(unfinished) / sizeof(unfinished[0]); i++) {
		c = unfinished[i];
		ms_cf_cache_expire(&c, 1000.0);
		assert_false(c.settings_known);
	}
	/* A clock that went backwards never extends the trust. */
	c = cache_with(MS_CF_DNSSEC_ACTIVE, true, true);
	ms_cf_cache_expire(&c, 999.0);
	assert_false(c.settings_known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zone_types),
		cmocka_unit_test(records_map_and_null_comment_is_empty),
		cmocka_unit_test(too_many_records_is_an_error),
		cmocka_unit_test(zone_fields),
		cmocka_unit_test(cache_expiry),
	};
	return cmocka_run_group_tests_name("observe_cf", tests, NULL, NULL);
}
