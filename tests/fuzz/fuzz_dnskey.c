/*
 * libFuzzer targets for DNSKEY key material (module/dnskey.c, base64.c), one
 * program per form, chosen with -DFUZZ_DNSKEY_FORM (mk/fuzz.am):
 * - TEXT: presentation rdata "flags protocol algorithm base64", as in zone
 *   files, keymgr's output and Cloudflare's record `content`;
 * - WIRE: wire rdata, as knotd's DNS answers carry it;
 * - B64:  a bare base64 public key, as Cloudflare's `public_key` fields.
 * An accepted key must survive the trip back (wire, base64) unchanged.
 */
#include "base64.h"
#include "fuzz.h"

enum { FUZZ_DNSKEY_TEXT, FUZZ_DNSKEY_WIRE, FUZZ_DNSKEY_B64 };

/* base64 of the key, then decoded again: the same bytes. */
static void check_b64_trip(const ms_dnskey_t *key)
{
	char b64[MS_DNSKEY_B64_MAX];
	FUZZ_CHECK(ms_dnskey_pubkey_b64(key, b64, sizeof(b64)));
	ms_dnskey_t back;
	ms_err_t err = { 0 };
	FUZZ_CHECK(ms_dnskey_from_b64(key->flags, key->protocol, key->algorithm, b64, &back,
	                              &err) == MS_OK);
	FUZZ_CHECK(ms_dnskey_equal(key, &back));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_dnskey_t key;
	ms_err_t err = { 0 };
	ms_rc_t rc;
	if (FUZZ_DNSKEY_FORM == FUZZ_DNSKEY_WIRE) {
		rc = ms_dnskey_from_wire(data, size, &key, &err);
	} else {
		char *s = fuzz_cstr(data, size);
		if (FUZZ_DNSKEY_FORM == FUZZ_DNSKEY_TEXT) {
			rc = ms_dnskey_from_text(s, &key, &err);
		} else {
			rc = ms_dnskey_from_b64(MS_DNSKEY_FLAG_ZONE, MS_DNSKEY_PROTOCOL,
			                        MS_ALG_ECDSAP256SHA256, s, &key, &err);
			/* The decoder alone, with a cap the input may overrun. */
			uint8_t out[64];
			size_t len = 0;
			if (ms_b64_decode(s, out, sizeof(out), &len)) {
				FUZZ_CHECK(len <= sizeof(out));
			}
		}
		free(s);
	}
	fuzz_check_error(rc, &err);
	if (rc == MS_OK) {
		fuzz_check_dnskey(&key);
		check_b64_trip(&key);
		(void)ms_dnskey_tag(&key);
	}
	return 0;
}
