/*
 * libFuzzer targets for what keymgr prints (module/keymgr.c), one program
 * per command, chosen with -DFUZZ_KEYMGR_OUTPUT (mk/fuzz.am): `keymgr -j
 * <zone> list`, `keymgr <zone> dnskey <id>` and `keymgr <zone> import-pub`.
 * keymgr is Knot's, but its output changes between versions and goes
 * through a pipe the module reads whole: it is outside input.
 */
#include "fuzz.h"
#include "keymgr.h"

enum { FUZZ_KEYMGR_LIST, FUZZ_KEYMGR_DNSKEY, FUZZ_KEYMGR_IMPORT };

#define ZONE "example.com"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_err_t err = { 0 };
	ms_rc_t rc;
	if (FUZZ_KEYMGR_OUTPUT == FUZZ_KEYMGR_LIST) {
		static ms_keymgr_keys_t keys;
		rc = ms_keymgr_parse_list((const char *)data, size, ZONE, &keys, &err);
		if (rc == MS_OK) {
			FUZZ_CHECK(keys.count <= MS_KEYMGR_MAX_KEYS);
			for (size_t i = 0; i < keys.count; i++) {
				FUZZ_CHECK(ms_keymgr_id_valid(keys.keys[i].id));
			}
		}
	} else {
		char *s = fuzz_cstr(data, size);
		if (FUZZ_KEYMGR_OUTPUT == FUZZ_KEYMGR_DNSKEY) {
			ms_dnskey_t key;
			rc = ms_keymgr_parse_dnskey(s, ZONE, &key, &err);
			if (rc == MS_OK) {
				fuzz_check_dnskey(&key);
			}
		} else {
			char id[MS_KEYMGR_ID_LEN + 1];
			rc = ms_keymgr_parse_import(s, id, &err);
			if (rc == MS_OK) {
				FUZZ_CHECK(ms_keymgr_id_valid(id));
			}
		}
		free(s);
	}
	fuzz_check_error(rc, &err);
	return 0;
}
