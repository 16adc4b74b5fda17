/* Load-time checks of the zone's signing policy against multi-signing rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "policy_check.h"

static ms_knot_env_t safe_env(void)
{
	ms_knot_env_t env = { 0 };
	env.signing = true;
	env.algorithm = 13;
	env.dnskey_ttl = 3600;
	env.propagation_delay = 7200;
	env.cds_cdnskey_publish = MS_CDS_NONE;
	return env;
}

static ms_settings_t settings(void)
{
	ms_settings_t s = { 0 };
	s.check_interval = 60;
	return s;
}

/* The problems found; the statement of which CDS/CDNSKEY case holds (an
 * info note, always there for a signed zone) is left out and checked apart. */
static size_t check(const ms_knot_env_t *env, ms_check_note_t *notes)
{
	ms_settings_t s = settings();
	ms_check_note_t all[MS_CHECK_NOTES_MAX];
	size_t n = ms_policy_check(env, &s, all, MS_CHECK_NOTES_MAX), kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (!all[i].info) {
			notes[kept++] = all[i];
		}
	}
	return kept;
}

static void safe_policy_has_no_notes(void **state)
{
	(void)state;
	ms_check_note_t notes[MS_CHECK_NOTES_MAX];
	ms_knot_env_t env = safe_env();
	assert_int_equal(check(&env, notes), 0);
}

/* Rule 6: which case holds is said for every signed zone. */
static void cds_none_states_the_case(void **state)
{
	(void)state;
	ms_knot_env_t env = safe_env();
	ms_settings_t s = settings();
	ms_check_note_t all[MS_CHECK_NOTES_MAX];
	assert_int_equal(ms_policy_check(&env, &s, all, MS_CHECK_NOTES_MAX), 1);
	assert_true(all[0].info);
	assert_false(all[0].refuse);
	assert_non_null(strstr(all[0].text, "CDS/CDNSKEY: knotd publishes none"));
	assert_non_null(strstr(all[0].text, "DS records of both KSKs"));
	env.signing = false;   /* refused anyway: nothing to say about CDS */
	assert_int_equal(ms_policy_check(&env, &s, all, MS_CHECK_NOTES_MAX), 1);
	assert_false(all[0].info);
}

static void wrong_algorithm_or_unsigned_refuses(void **state)
{
	(void)state;
	ms_check_note_t notes[MS_CHECK_NOTES_MAX];
	ms_knot_env_t env = safe_env();
	env.algorithm = 8;
	assert_int_equal(check(&env, notes), 1);
	assert_true(notes[0].refuse);
	assert_non_null(strstr(notes[0].text, "algorithm 8"));
	assert_non_null(strstr(notes[0].text, "ecdsap256sha256"));
	env = safe_env();
	env.signing = false;
	assert_int_equal(check(&env, notes), 1);
	assert_true(notes[0].refuse);
	assert_non_null(strstr(notes[0].text, "dnssec-signing"));
}

static void cds_rollover_warns(void **state)
{
	(void)state;
	ms_check_note_t notes[MS_CHECK_NOTES_MAX];
	ms_knot_env_t env = safe_env();
	/* 'always' too: Knot 3.2.6 leaves a public-only KSK out (doc/cds-cdnskey.md). */
	const unsigned bad[] = { MS_CDS_ROLLOVER, MS_CDS_DOUBLE_DS, MS_CDS_DELETE_DNSSEC,
	                         MS_CDS_ALWAYS };
	for (size_t i = 0; i < 4; i++) {
		env.cds_cdnskey_publish = bad[i];
		assert_int_equal(check(&env, notes), 1);
		assert_false(notes[0].refuse);
		assert_non_null(strstr(notes[0].text, "cds-cdnskey-publish"));
	}
}

/* Needed: interval 60 + latency 10 + TTL_K 3600 - local TTL. */
static void short_propagation_delay_warns_with_numbers(void **state)
{
	(void)state;
	ms_check_note_t notes[MS_CHECK_NOTES_MAX];
	ms_knot_env_t env = safe_env();
	env.propagation_delay = 69;
	assert_int_equal(check(&env, notes), 1);
	assert_false(notes[0].refuse);
	assert_non_null(strstr(notes[0].text, "(69 s)"));
	assert_non_null(strstr(notes[0].text, "= 70 s"));
	env.propagation_delay = 70;
	assert_int_equal(check(&env, notes), 0);
	/* A short local DNSKEY TTL leaves Cloudflare's 3600 s to cover. */
	env.dnskey_ttl = 60;
	env.propagation_delay = 3609;
	assert_int_equal(check(&env, notes), 1);
	assert_non_null(strstr(notes[0].text, "= 3610 s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(safe_policy_has_no_notes),
		cmocka_unit_test(wrong_algorithm_or_unsigned_refuses),
		cmocka_unit_test(cds_rollover_warns),
		cmocka_unit_test(cds_none_states_the_case),
		cmocka_unit_test(short_propagation_delay_warns_with_numbers),
	};
	return cmocka_run_group_tests_name("policy_check", tests, NULL, NULL);
}
