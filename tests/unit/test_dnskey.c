#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base64.h"
#include "dnskey.h"

/* Cloudflare's example ZSK from the reference; tags computed independently
 * with dnspython's dns.dnssec.key_id(). */
#define CF_KEY "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="
#define ROOT_KSK "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU="

static void key_tags(void **state)
{
	(void)state;
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, CF_KEY, &k, NULL), MS_OK);
	assert_int_equal(ms_dnskey_tag(&k), 16952);
	assert_true(ms_dnskey_is_zsk(&k));
	assert_int_equal(ms_dnskey_from_b64(257, 3, 13, CF_KEY, &k, NULL), MS_OK);
	assert_int_equal(ms_dnskey_tag(&k), 16953);
	assert_true(ms_dnskey_is_ksk(&k));
	assert_int_equal(ms_dnskey_from_text("257 3 8 " ROOT_KSK, &k, NULL), MS_OK);
	assert_int_equal(ms_dnskey_tag(&k), 20326);
}

static void text_wire_roundtrip(void **state)
{
	(void)state;
	ms_dnskey_t a, b;
	/* Zone files and Cloudflare's content may split the key. */
	assert_int_equal(ms_dnskey_from_text("256 3 13 oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7x "
	                                     "Zfz470CoRyZJ6gV6vml07IC3d8xqhA==", &a, NULL), MS_OK);
	uint8_t wire[600];
	size_t len = ms_dnskey_to_wire(&a, wire, sizeof(wire));
	assert_int_equal(len, 4 + 64);
	assert_int_equal(ms_dnskey_from_wire(wire, len, &b, NULL), MS_OK);
	assert_true(ms_dnskey_equal(&a, &b));
	char b64[MS_DNSKEY_B64_MAX];
	assert_true(ms_dnskey_pubkey_b64(&b, b64, sizeof(b64)));
	assert_string_equal(b64, CF_KEY);
	assert_int_equal(ms_dnskey_to_wire(&a, wire, 10), 0);
	b.flags = 257;
	assert_false(ms_dnskey_equal(&a, &b));
}

static void refuses_what_it_is_not(void **state)
{
	(void)state;
	ms_dnskey_t k;
	ms_err_t err = { 0 };
	/* P-256 needs 64 bytes: 48 is a P-384 half, not a guessable key. */
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                                    &k, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "needs 64"));
	assert_int_equal(ms_dnskey_from_b64(256, 2, 13, CF_KEY, &k, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "protocol"));
	assert_int_equal(ms_dnskey_from_b64(0, 3, 13, CF_KEY, &k, &err), MS_EPARSE);
	assert_int_equal(ms_dnskey_from_b64(256, 3, 256, CF_KEY, &k, &err), MS_EPARSE);
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, "not*base64", &k, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "base64"));
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, NULL, &k, &err), MS_EPARSE);
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, "", &k, &err), MS_EPARSE);
	assert_int_equal(ms_dnskey_from_text("256 3", &k, &err), MS_EPARSE);
	assert_int_equal(ms_dnskey_from_text("70000 3 13 " CF_KEY, &k, &err), MS_EPARSE);
	assert_int_equal(ms_dnskey_from_text(NULL, &k, &err), MS_EPARSE);
	const uint8_t short_wire[] = { 1, 0, 3 };
	assert_int_equal(ms_dnskey_from_wire(short_wire, sizeof(short_wire), &k, &err), MS_EPARSE);
}

static void base64_strict(void **state)
{
	(void)state;
	uint8_t out[16];
	size_t len;
	char enc[32];
	assert_true(ms_b64_decode("Zm9vYmFy", out, sizeof(out), &len));
	assert_int_equal(len, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_true(ms_b64_decode("Zm9v YmE=", out, sizeof(out), &len));
	assert_int_equal(len, 5);
	assert_true(ms_b64_decode("Zg==", out, sizeof(out), &len));
	assert_int_equal(len, 1);
	assert_false(ms_b64_decode("Zg=", out, sizeof(out), &len));     /* short padding */
	assert_false(ms_b64_decode("Zh==", out, sizeof(out), &len));    /* non-zero tail bits */
	assert_false(ms_b64_decode("Zg==Zg==", out, sizeof(out), &len)); /* data after pad */
	assert_false(ms_b64_decode("Zm9vYmFy", out, 5, &len));           /* over cap */
	assert_false(ms_b64_decode("Zm9-", out, sizeof(out), &len));      /* URL alphabet */
	assert_true(ms_b64_encode((const uint8_t *)"foob", 4, enc, sizeof(enc)));
	assert_string_equal(enc, "Zm9vYg==");
	assert_false(ms_b64_encode((const uint8_t *)"foob", 4, enc, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_tags),
		cmocka_unit_test(text_wire_roundtrip),
		cmocka_unit_test(refuses_what_it_is_not),
		cmocka_unit_test(base64_strict),
	};
	return cmocka_run_group_tests_name("dnskey", tests, NULL, NULL);
}
