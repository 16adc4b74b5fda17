/* Request bodies: what the client sends, and what it refuses to send. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cf_request.h"

#define CF_KEY "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="

static ms_dnskey_t zsk(void)
{
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, CF_KEY, &k, NULL), MS_OK);
	return k;
}

static void dnskey_body(void **state)
{
	(void)state;
	ms_cf_record_t rec;
	ms_dnskey_t k = zsk();
	ms_cf_record_dnskey(&rec, "Example.COM.", 3600, &k, "knot-multisigner: ours");
	char *body = NULL;
	assert_int_equal(ms_cf_body_record(&rec, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"type\":\"DNSKEY\",\"name\":\"example.com\",\"ttl\":3600,"
	                    "\"data\":{\"flags\":256,\"protocol\":3,\"algorithm\":13,"
	                    "\"public_key\":\"" CF_KEY "\"},\"comment\":\"knot-multisigner: ours\"}");
	free(body);
}

static void ns_body(void **state)
{
	(void)state;
	ms_cf_record_t rec;
	ms_cf_record_ns(&rec, "example.com", 86400, "NS1.Example.net.", NULL);
	rec.tag_count = 1;
	strcpy(rec.tags[0], "owner:knot-multisigner");
	char *body = NULL;
	assert_int_equal(ms_cf_body_record(&rec, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"type\":\"NS\",\"name\":\"example.com\",\"ttl\":86400,"
	                    "\"content\":\"ns1.example.net\",\"tags\":[\"owner:knot-multisigner\"]}");
	free(body);
	/* Quotes and backslashes in a comment are escaped, not passed through. */
	ms_cf_record_ns(&rec, "example.com", 1, "a.b", "say \"hi\" \\o/");
	assert_int_equal(ms_cf_body_record(&rec, &body, NULL), MS_OK);
	assert_non_null(strstr(body, "\"comment\":\"say \\\"hi\\\" \\\\o/\""));
	free(body);
}

static void record_refusals(void **state)
{
	(void)state;
	ms_cf_record_t rec;
	ms_dnskey_t k = zsk();
	char *body = (char *)1;
	ms_err_t err = { 0 };
	ms_cf_record_dnskey(&rec, "example.com", 30, &k, NULL);
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	assert_null(body);
	assert_non_null(strstr(err.msg, "TTL 30"));
	ms_cf_record_dnskey(&rec, "example.com", 86401, &k, NULL);
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	ms_cf_record_dnskey(&rec, "example.com", 60, &k, "two\nlines");
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	assert_string_equal(err.msg, "comment contains a control character");
	ms_cf_record_dnskey(&rec, "", 60, &k, NULL);
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	ms_dnskey_t empty = { 0 };
	ms_cf_record_dnskey(&rec, "example.com", 60, &empty, NULL);
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	ms_cf_record_ns(&rec, "example.com", 60, "", NULL);
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	ms_cf_record_ns(&rec, "example.com", 60, "a.b", NULL);
	rec.type = MS_CF_RR_OTHER;
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	ms_cf_record_ns(&rec, "example.com", 60, "a.b", NULL);
	rec.tag_count = 1;
	strcpy(rec.tags[0], "bad name:x");
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
	strcpy(rec.tags[0], "novalue");
	assert_int_equal(ms_cf_body_record(&rec, &body, &err), MS_EINVAL);
}

static void dnssec_and_settings_bodies(void **state)
{
	(void)state;
	char *body = NULL;
	ms_err_t err = { 0 };
	ms_cf_dnssec_patch_t p = { .status = MS_CF_DNSSEC_ACTIVE, .multi_signer = MS_CF_SET_TRUE };
	assert_int_equal(ms_cf_body_dnssec_patch(&p, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"status\":\"active\",\"dnssec_multi_signer\":true}");
	free(body);
	p = (ms_cf_dnssec_patch_t){ .multi_signer = MS_CF_SET_FALSE };
	assert_int_equal(ms_cf_body_dnssec_patch(&p, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"dnssec_multi_signer\":false}");
	free(body);
	p = (ms_cf_dnssec_patch_t){ .status = MS_CF_DNSSEC_DISABLED };
	assert_int_equal(ms_cf_body_dnssec_patch(&p, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"status\":\"disabled\"}");
	free(body);
	p = (ms_cf_dnssec_patch_t){ 0 };
	assert_int_equal(ms_cf_body_dnssec_patch(&p, &body, &err), MS_EINVAL);
	p = (ms_cf_dnssec_patch_t){ .status = MS_CF_DNSSEC_PENDING };
	assert_int_equal(ms_cf_body_dnssec_patch(&p, &body, &err), MS_EINVAL);
	assert_int_equal(ms_cf_body_dns_settings_patch(true, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"multi_provider\":true}");
	free(body);
}

static void batch_body(void **state)
{
	(void)state;
	ms_cf_record_t posts[2];
	ms_dnskey_t k = zsk();
	ms_cf_record_dnskey(&posts[0], "example.com", 3600, &k, NULL);
	ms_cf_record_ns(&posts[1], "example.com", 86400, "ns1.example.net", NULL);
	const char *dels[] = { "0123456789abcdef0123456789abcdef" };
	ms_cf_batch_t b = { .delete_ids = dels, .delete_count = 1, .posts = posts, .post_count = 2 };
	char *body = NULL;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_body_batch(&b, &body, NULL), MS_OK);
	assert_string_equal(body, "{\"deletes\":[{\"id\":\"0123456789abcdef0123456789abcdef\"}],"
	                    "\"posts\":[{\"type\":\"DNSKEY\",\"name\":\"example.com\",\"ttl\":3600,"
	                    "\"data\":{\"flags\":256,\"protocol\":3,\"algorithm\":13,\"public_key\":\""
	                    CF_KEY "\"}},{\"type\":\"NS\",\"name\":\"example.com\",\"ttl\":86400,"
	                    "\"content\":\"ns1.example.net\"}]}");
	free(body);

	ms_cf_batch_t none = { 0 };
	assert_int_equal(ms_cf_body_batch(&none, &body, &err), MS_EINVAL);
	const char *bad[] = { "../zones" };
	ms_cf_batch_t unsafe = { .delete_ids = bad, .delete_count = 1 };
	assert_int_equal(ms_cf_body_batch(&unsafe, &body, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "batch delete 1"));
	const char **many = calloc(MS_CF_BATCH_MAX + 1, sizeof(*many));
	for (size_t i = 0; i <= MS_CF_BATCH_MAX; i++) {
		many[i] = dels[0];
	}
	ms_cf_batch_t big = { .delete_ids = many, .delete_count = MS_CF_BATCH_MAX + 1 };
	assert_int_equal(ms_cf_body_batch(&big, &body, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "201 operations"));
	big.delete_count = MS_CF_BATCH_MAX;
	assert_int_equal(ms_cf_body_batch(&big, &body, &err), MS_OK);
	free(body);
	free(many);
	posts[1].ttl = 5;
	assert_int_equal(ms_cf_body_batch(&b, &body, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "batch post 2: TTL 5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dnskey_body),
		cmocka_unit_test(ns_body),
		cmocka_unit_test(record_refusals),
		cmocka_unit_test(dnssec_and_settings_bodies),
		cmocka_unit_test(batch_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
