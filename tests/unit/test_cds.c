/*
 * The served CDS/CDNSKEY classification (module/cds.h): none at both and
 * the same union at both are fine, anything else is a mismatch whose
 * sentence names each side's key tags and the fix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cds.h"
#include "unit_fixtures.h"

#define OURS 11111
#define CF   2371

static ms_cds_set_t set_of(const uint16_t *cds, size_t n, const uint16_t *cdnskey, size_t m)
{
	ms_cds_set_t s;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++) {
		assert_true(ms_cds_add_tag(s.cds, &s.cds_count, cds[i]));
	}
	for (size_t i = 0; i < m; i++) {
		assert_true(ms_cds_add_tag(s.cdnskey, &s.cdnskey_count, cdnskey[i]));
	}
	return s;
}

static const uint16_t both[] = { OURS, CF };
static const uint16_t both_reversed[] = { CF, OURS };
static const uint16_t ours_only[] = { OURS };

static void cds_none_at_both_is_fine(void **state)
{
	(void)state;
	ms_cds_set_t none = set_of(NULL, 0, NULL, 0);
	char text[MS_CDS_TEXT_MAX];
	assert_int_equal(ms_cds_classify(&none, &none, true, both, 2, text,
	                                 sizeof(text)), MS_CDS_SERVED_NONE);
	assert_non_null(strstr(text, "neither"));
	/* Cloudflare's servers disagreeing among themselves is never fine. */
	assert_int_equal(ms_cds_classify(&none, &none, false, both, 2, NULL, 0),
	                 MS_CDS_SERVED_MISMATCH);
}

static void cds_same_union_is_fine(void **state)
{
	(void)state;
	ms_cds_set_t a = set_of(both, 2, both, 2);
	ms_cds_set_t b = set_of(both_reversed, 2, both_reversed, 2);
	char text[MS_CDS_TEXT_MAX];
	assert_int_equal(ms_cds_classify(&a, &b, true, both, 2, text,
	                                 sizeof(text)), MS_CDS_SERVED_UNION);
	assert_non_null(strstr(text, "2371 11111"));
	/* Without Cloudflare's KSK known, the union cannot be confirmed. */
	assert_int_equal(ms_cds_classify(&a, &b, true, ours_only, 1, NULL, 0),
	                 MS_CDS_SERVED_MISMATCH);
}

static void cds_one_side_only_is_a_mismatch(void **state)
{
	(void)state;
	ms_cds_set_t ours = set_of(ours_only, 1, ours_only, 1);
	ms_cds_set_t none = set_of(NULL, 0, NULL, 0);
	char text[MS_CDS_TEXT_MAX];
	assert_int_equal(ms_cds_classify(&ours, &none, true, both, 2, text,
	                                 sizeof(text)), MS_CDS_SERVED_MISMATCH);
	assert_non_null(strstr(text, "knotd publishes CDS 11111, CDNSKEY 11111; "
	                             "Cloudflare's nameservers CDS none, CDNSKEY none"));
	assert_true(strlen(text) < 400); /* knotd cuts longer log lines */
	assert_non_null(strstr(text, "cds-cdnskey-publish: none"));
	assert_non_null(strstr(text, "RFC 8078"));
	/* And the other way round. */
	assert_int_equal(ms_cds_classify(&none, &ours, true, both, 2, NULL, 0),
	                 MS_CDS_SERVED_MISMATCH);
}

static void cds_same_but_not_the_union_is_a_mismatch(void **state)
{
	(void)state;
	/* Both publish our KSK only: identical, but a parent would drop Cloudflare's DS. */
	ms_cds_set_t ours = set_of(ours_only, 1, ours_only, 1);
	assert_int_equal(ms_cds_classify(&ours, &ours, true, both, 2, NULL, 0),
	                 MS_CDS_SERVED_MISMATCH);
	/* CDS with both, CDNSKEY with one: not the same union. */
	ms_cds_set_t half = set_of(both, 2, ours_only, 1);
	assert_int_equal(ms_cds_classify(&half, &half, true, both, 2, NULL, 0),
	                 MS_CDS_SERVED_MISMATCH);
	/* Different sets with the union inside each. */
	const uint16_t three[] = { OURS, CF, 4242 };
	ms_cds_set_t a = set_of(both, 2, both, 2);
	ms_cds_set_t b = set_of(three, 3, three, 3);
	assert_int_equal(ms_cds_classify(&a, &b, true, both, 2, NULL, 0),
	                 MS_CDS_SERVED_MISMATCH);
}

static void cds_set_helpers(void **state)
{
	(void)state;
	ms_cds_set_t a = set_of(both, 2, both, 2);
	ms_cds_set_t b = set_of(both_reversed, 2, both_reversed, 2);
	assert_true(ms_cds_set_equal(&a, &b));
	ms_cds_set_t c = set_of(both, 2, ours_only, 1);
	assert_false(ms_cds_set_equal(&a, &c));
	/* Duplicates are kept once; the cap holds. */
	ms_cds_set_t d = set_of(ours_only, 1, NULL, 0);
	assert_true(ms_cds_add_tag(d.cds, &d.cds_count, OURS));
	assert_int_equal(d.cds_count, 1);
	for (uint16_t t = 1; d.cds_count < MS_CDS_MAX_TAGS; t++) {
		assert_true(ms_cds_add_tag(d.cds, &d.cds_count, t));
	}
	assert_false(ms_cds_add_tag(d.cds, &d.cds_count, 65000));
	assert_true(ms_cds_add_tag(d.cds, &d.cds_count, OURS)); /* there already */
	assert_int_equal(d.cds_count, MS_CDS_MAX_TAGS);
	assert_string_equal(ms_cds_case_name(MS_CDS_SERVED_NONE), "none");
	assert_string_equal(ms_cds_case_name(MS_CDS_SERVED_UNION), "union");
	assert_string_equal(ms_cds_case_name(MS_CDS_SERVED_MISMATCH), "mismatch");
	assert_string_equal(ms_cds_case_name(MS_CDS_SERVED_UNCHECKED), "unchecked");
}

/* Two KSKs (real P-256 keys), one per provider; views cleared. */
static ms_local_view_t local;
static ms_cf_view_t cf;

static void two_ksks(ms_dnskey_t *ours, ms_dnskey_t *theirs)
{
	fx_views_clear(&local, &cf);
	*ours = fx_key(257, 13, "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
	                        "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==");
	*theirs = fx_key(257, 13, "oJMRESz5E4gYzS/q6XDrvU1qMPYIjCWzJaOau8XNEZeqCYKD5ar0IRd8"
	                          "KqXXFJkqmVfRvMGPmM1x8fGAa2XhSA==");
}

static void cds_ksk_tags_of_both_providers(void **state)
{
	(void)state;
	ms_dnskey_t ksk, other;
	two_ksks(&ksk, &other);
	/* Ours, served: counted. Imported (public-only): not ours. ZSK: not a KSK. */
	fx_local_key(&local, ksk, MS_ROLE_KSK, false);
	fx_local_key(&local, other, MS_ROLE_KSK, true);
	fx_local_serve(&local, ksk);
	fx_local_serve(&local, other);
	uint16_t tags[4];
	assert_int_equal(ms_cds_ksk_tags(&local, &cf, tags, 4), 1);
	assert_int_equal(tags[0], ms_dnskey_tag(&ksk));
	/* Not served (not published yet): not counted. */
	local.dnskey_count = 0;
	assert_int_equal(ms_cds_ksk_tags(&local, &cf, tags, 4), 0);
	local.dnskey_count = 2;
	cf.has_ksk = true;
	cf.ksk = other;
	assert_int_equal(ms_cds_ksk_tags(&local, &cf, tags, 4), 2);
	assert_int_equal(tags[1], ms_dnskey_tag(&other));
	assert_int_equal(ms_cds_ksk_tags(&local, &cf, tags, 1), 1);
}

static void cds_ksks_shared_names_what_each_side_lacks(void **state)
{
	(void)state;
	ms_dnskey_t ours, theirs;
	two_ksks(&ours, &theirs);
	uint16_t t_ours = ms_dnskey_tag(&ours), t_theirs = ms_dnskey_tag(&theirs);
	uint16_t tags[2] = { t_ours, t_theirs };
	char text[MS_CDS_TEXT_MAX], want[256];
	/* Each side has its own KSK only (the API view: Cloudflare's KSK). */
	fx_local_serve(&local, ours);
	cf.has_ksk = true;
	cf.ksk = theirs;
	assert_false(ms_cds_ksks_shared(&local, &cf, tags, 2, text, sizeof(text)));
	snprintf(want, sizeof(want), "knotd lacks %u, Cloudflare lacks %u", t_theirs, t_ours);
	assert_non_null(strstr(text, want));
	/* Our KSK as an API record at Cloudflare, theirs imported into knotd. */
	cf.dnskeys[cf.dnskey_count++].key = ours;
	fx_local_serve(&local, theirs);
	assert_true(ms_cds_ksks_shared(&local, &cf, tags, 2, text, sizeof(text)));
	assert_non_null(strstr(text, "both DNSKEY RRsets hold the KSKs"));
	/* What DNS showed wins over the API when observed. */
	cf.served_observed = true;
	cf.served_dnskeys[cf.served_dnskey_count++] = theirs;
	assert_false(ms_cds_ksks_shared(&local, &cf, tags, 2, text, sizeof(text)));
	snprintf(want, sizeof(want), "knotd lacks none, Cloudflare lacks %u", t_ours);
	assert_non_null(strstr(text, want));
	cf.served_dnskeys[cf.served_dnskey_count++] = ours;
	assert_true(ms_cds_ksks_shared(&local, &cf, tags, 2, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cds_none_at_both_is_fine),
		cmocka_unit_test(cds_same_union_is_fine),
		cmocka_unit_test(cds_one_side_only_is_a_mismatch),
		cmocka_unit_test(cds_same_but_not_the_union_is_a_mismatch),
		cmocka_unit_test(cds_set_helpers),
		cmocka_unit_test(cds_ksk_tags_of_both_providers),
		cmocka_unit_test(cds_ksks_shared_names_what_each_side_lacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
