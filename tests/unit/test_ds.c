/*
 * DS records for the registrar (module/ds.h). The reference vectors are
 * independent of this code: RFC 4509 section 2.3, and the example Cloudflare
 * publishes for its KSK (key tag 2371, as in its API's /dnssec `ds`).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ds.h"
#include "unit_fixtures.h"

#define CF_KSK_B64 "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
#define CF_KSK_DS  "C988EC423E3880EB8DD8A46FE06CA230EE23F35B578D64E78B29C3E1C83D245A"

static void ds_rfc4509_vector(void **state)
{
	(void)state;
	ms_dnskey_t k = fx_key(256, 5,
	        "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZ"
	        "DRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc"
	        "nOf+EPbtG9DMBmADjFDc2w/rljwvFw==");
	ms_ds_t ds;
	/* The owner name is taken in canonical (lower case) form. */
	assert_int_equal(ms_ds_from_dnskey("DSKEY.example.com.", &k, &ds, NULL), MS_OK);
	assert_int_equal(ds.key_tag, 60485);
	assert_int_equal(ds.algorithm, 5);
	assert_int_equal(ds.digest_type, 2);
	assert_string_equal(ds.digest,
	                    "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A");
}

static void ds_cloudflare_example_and_format(void **state)
{
	(void)state;
	ms_dnskey_t k = fx_key(257, 13, CF_KSK_B64);
	ms_ds_t ds;
	assert_int_equal(ms_ds_from_dnskey("example.com", &k, &ds, NULL), MS_OK);
	char text[MS_DS_TEXT_MAX];
	assert_true(ms_ds_format("example.com", &ds, text, sizeof(text)));
	assert_string_equal(text, "example.com. IN DS 2371 13 2 " CF_KSK_DS);
	assert_false(ms_ds_format("example.com", &ds, text, 20));
	/* Cloudflare's own DS matches, in either case; another does not. */
	assert_true(ms_ds_matches(&ds, 2371, 2, "c988ec423e3880eb8dd8a46fe06ca230ee23f35b578d64e78b"
	                                        "29c3e1c83d245a"));
	assert_true(ms_ds_matches(&ds, 0, 0, ""));
	assert_false(ms_ds_matches(&ds, 2371, 2, "00" CF_KSK_DS));
	assert_false(ms_ds_matches(&ds, 2372, 2, CF_KSK_DS));
	assert_false(ms_ds_matches(&ds, 2371, 1, CF_KSK_DS));
}

static void ds_refuses_non_zone_key_and_bad_name(void **state)
{
	(void)state;
	ms_dnskey_t k = fx_key(257, 13, CF_KSK_B64);
	k.flags = 1;                               /* SEP without the zone-key bit */
	ms_ds_t ds;
	ms_err_t err = { 0 };
	assert_int_equal(ms_ds_from_dnskey("example.com", &k, &ds, &err), MS_EINVAL);
	k.flags = 257;
	assert_int_equal(ms_ds_from_dnskey("bad..name", &k, &ds, &err), MS_EINVAL);
}

static void ds_report_ours_then_cloudflares(void **state)
{
	(void)state;
	static ms_local_view_t local;
	static ms_cf_view_t cf;
	fx_views_clear(&local, &cf);
	ms_dnskey_t ours = fx_key(257, 13, CF_KSK_B64);
	ours.pubkey[0] ^= 1;                       /* another key */
	ms_dnskey_t zsk = ours;
	zsk.flags = 256;
	ms_dnskey_t theirs = fx_key(257, 13, CF_KSK_B64);
	ms_dnskey_t foreign = ours;
	foreign.pubkey[1] ^= 1;                    /* served, public-only: not ours */
	fx_local_serve(&local, zsk);
	fx_local_serve(&local, ours);
	fx_local_serve(&local, theirs);            /* Cloudflare's KSK, imported */
	fx_local_serve(&local, foreign);
	fx_local_key(&local, ours, MS_ROLE_KSK, false);
	fx_local_key(&local, zsk, MS_ROLE_ZSK, false);
	fx_local_key(&local, theirs, MS_ROLE_ZSK, true);
	fx_local_key(&local, foreign, MS_ROLE_ZSK, true);
	ms_ds_t ds[MS_DS_MAX];
	/* Without Cloudflare's KSK: only ours. */
	assert_int_equal(ms_ds_report("example.com", &local, &cf, ds, MS_DS_MAX), 1);
	assert_false(ds[0].cloudflare);
	assert_int_equal(ds[0].key_tag, ms_dnskey_tag(&ours));
	cf.has_ksk = true;
	cf.ksk = theirs;
	assert_int_equal(ms_ds_report("example.com", &local, &cf, ds, MS_DS_MAX), 2);
	assert_false(ds[0].cloudflare);
	assert_true(ds[1].cloudflare);
	assert_string_equal(ds[1].digest, CF_KSK_DS);
	/* The cap holds. */
	assert_int_equal(ms_ds_report("example.com", &local, &cf, ds, 1), 1);
	assert_false(ds[0].cloudflare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ds_rfc4509_vector),
		cmocka_unit_test(ds_cloudflare_example_and_format),
		cmocka_unit_test(ds_refuses_non_zone_key_and_bad_name),
		cmocka_unit_test(ds_report_ours_then_cloudflares),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
