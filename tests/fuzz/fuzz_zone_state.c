/*
 * libFuzzer target for the saved per-zone state file (module/zone_state.c):
 * the file's text, as read back after a restart (it may have been cut by a
 * full disk, edited by hand or written by another version). An accepted
 * file must format back to text that parses to the same state; a refused
 * one must leave an empty state for the zone.
 */
#include "fuzz.h"
#include "zone_state.h"

#define ZONE "example.com."

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ms_zone_state_t state, back; /* large: not on the stack */
	static char text[MS_STATE_TEXT_MAX], again[MS_STATE_TEXT_MAX];
	ms_err_t err = { 0 };
	ms_rc_t rc = ms_zone_state_parse((const char *)data, size, ZONE, &state, &err);
	fuzz_check_error(rc, &err);
	if (rc != MS_OK) {
		FUZZ_CHECK(state.owned_count == 0 && state.cf_key_count == 0 &&
		           state.our_zsk_count == 0 && state.out_of_step_since == 0);
		return 0;
	}
	FUZZ_CHECK(state.owned_count <= MS_STATE_MAX_OWNED);
	FUZZ_CHECK(state.cf_key_count <= MS_STATE_MAX_CF_KEYS);
	FUZZ_CHECK(state.our_zsk_count <= MS_STATE_MAX_OUR_ZSKS);
	for (size_t i = 0; i < state.cf_key_count; i++) {
		fuzz_check_dnskey(&state.cf_keys[i].key);
	}
	size_t len = 0, len2 = 0;
	FUZZ_CHECK(ms_zone_state_format(&state, text, sizeof(text), &len, &err) == MS_OK);
	FUZZ_CHECK(ms_zone_state_parse(text, len, ZONE, &back, &err) == MS_OK);
	FUZZ_CHECK(ms_zone_state_format(&back, again, sizeof(again), &len2, &err) == MS_OK);
	FUZZ_CHECK(len == len2 && memcmp(text, again, len) == 0);
	return 0;
}
