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

static size_t check(const ms_knot_env_t *env, ms_check_note_t *notes)
{
	ms_settings_t s = settings();
	return ms_policy_check(env, &s, notes, MS_CHECK_NOTES_MAX);
}

static void safe_policy_has_no_notes(void **state)
{
	(void)state;
	ms_check_note_t notes[MS_CHECK_NOTES_MAX];
	ms_knot_env_t env = safe_env();
	assert_int_equal(check(&env, notes), 0);
	env.cds_cdnskey_publish = MS_CDS_ALWAYS;
	assert_int_equal(check(&env, notes), 0);
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
	const unsigned bad[] = { MS_CDS_ROLLOVER, MS_CDS_DOUBLE_DS, MS_CDS_DELETE_DNSSEC };
	for (size_t i = 0; i < 3; i++) {
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
		cmocka_unit_test(short_propagation_delay_warns_with_numbers),
	};
	return cmocka_run_group_tests_name("policy_check", tests, NULL, NULL);
}
