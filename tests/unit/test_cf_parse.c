/* Parsing of every Cloudflare response shape the client reads, and of every
 * error shape: recorded bodies from tests/data/cf plus small hand-made ones. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_parse.h"
#include "json_util.h"

#define CF_KEY "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="
#define OK_ENV(result) "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":" result "}"

static char *load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cf/%s", TEST_DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fail_msg("cannot open %s", path);
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* ---- success shapes -------------------------------------------------------- */

static void token_verify(void **state)
{
	(void)state;
	char *body = load("token_verify.json");
	ms_cf_token_t t;
	assert_int_equal(ms_cf_parse_token(body, 200, &t, NULL), MS_OK);
	assert_int_equal(t.status, MS_CF_TOKEN_ACTIVE);
	assert_string_equal(t.id, "6b6863fd48e9019e7f301db221984ea2");
	assert_string_equal(t.expires_on, "");
	free(body);

	assert_int_equal(ms_cf_parse_token(OK_ENV("{\"id\":\"abc\",\"status\":\"expired\","
	                                          "\"expires_on\":\"2026-01-01T05:20:00Z\"}"),
	                                   200, &t, NULL), MS_OK);
	assert_int_equal(t.status, MS_CF_TOKEN_EXPIRED);
	assert_string_equal(t.expires_on, "2026-01-01T05:20:00Z");
	assert_int_equal(ms_cf_parse_token(OK_ENV("{\"id\":\"abc\",\"status\":\"suspended\"}"),
	                                   200, &t, NULL), MS_OK);
	assert_int_equal(t.status, MS_CF_TOKEN_UNKNOWN);
}

static void zone_object(void **state)
{
	(void)state;
	char *body = load("zone.json");
	ms_cf_zone_t z;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_zone(body, 200, &z, &err), MS_OK);
	assert_string_equal(z.name, "example.com");
	assert_string_equal(z.status, "active");
	assert_string_equal(z.type, "full");
	assert_false(z.paused);
	assert_int_equal(z.name_server_count, 2);
	assert_string_equal(z.name_servers[0], "ada.ns.cloudflare.com");
	assert_string_equal(z.name_servers[1], "bob.ns.cloudflare.com");
	assert_int_equal(strlen(z.id), 32);
	free(body);

	/* A list answer: each item is a zone; names are normalised. */
	body = load("zones_by_name.json");
	ms_cf_envelope_t env;
	assert_int_equal(ms_cf_envelope_parse(body, strlen(body), 200, &env, NULL), MS_OK);
	assert_true(env.info.present);
	assert_int_equal(env.info.total_count, 1);
	assert_int_equal(json_object_array_length(env.result), 1);
	assert_int_equal(ms_cf_zone_from_json(json_object_array_get_idx(env.result, 0), "zone 1",
	                                      &z, NULL), MS_OK);
	/* The look-up by name: exactly that name, else a clear refusal. */
	assert_int_equal(ms_cf_zone_pick_from_json(env.result, "example.com", &z, NULL), MS_OK);
	assert_string_equal(z.name, "example.com");
	ms_err_t err2 = { 0 };
	assert_int_equal(ms_cf_zone_pick_from_json(env.result, "example.org", &z, &err2),
	                 MS_ENOTFOUND);
	assert_non_null(strstr(err2.msg, "no zone named example.org"));
	assert_int_equal(ms_cf_zone_pick_from_json(env.root, "example.com", &z, &err2), MS_EPARSE);
	assert_int_equal(ms_cf_zone_pick_from_json(NULL, "example.com", &z, &err2), MS_EPARSE);
	ms_cf_envelope_free(&env);
	free(body);

	assert_int_equal(ms_cf_parse_zone(OK_ENV("{\"id\":\"0123\",\"name\":\"Example.COM.\","
	                                         "\"status\":\"pending\",\"name_servers\":"
	                                         "[\"ADA.ns.cloudflare.com.\"],\"extra\":{\"x\":[1]}}"),
	                                  200, &z, NULL), MS_OK);
	assert_string_equal(z.name, "example.com");
	assert_string_equal(z.name_servers[0], "ada.ns.cloudflare.com");
	assert_string_equal(z.type, "");
}

static void zone_broken(void **state)
{
	(void)state;
	ms_cf_zone_t z;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_zone(OK_ENV("{\"name\":\"example.com\",\"status\":\"active\"}"),
	                                  200, &z, &err), MS_EPARSE);
	assert_string_equal(err.msg, "zone: field 'id' is missing");
	assert_int_equal(ms_cf_parse_zone(OK_ENV("{\"id\":\"../../x\",\"name\":\"a.b\",\"status\":"
	                                         "\"active\"}"), 200, &z, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "'id' is not an id"));
	assert_int_equal(ms_cf_parse_zone(OK_ENV("{\"id\":\"ab\",\"name\":7,\"status\":\"active\"}"),
	                                  200, &z, &err), MS_EPARSE);
	assert_string_equal(err.msg, "zone: field 'name' is a number, not a string");
	assert_int_equal(ms_cf_parse_zone(OK_ENV("{\"id\":\"ab\",\"name\":\"a.b\",\"status\":\"x\","
	                                         "\"name_servers\":\"ada\"}"), 200, &z, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "'name_servers' is a string, not an array"));
	assert_int_equal(ms_cf_parse_zone(OK_ENV("{\"id\":\"ab\",\"name\":\"a.b\",\"status\":\"x\","
	                                         "\"name_servers\":[\"ada\", 3]}"), 200, &z, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "name_servers[1]"));
	assert_int_equal(ms_cf_parse_zone(OK_ENV("[]"), 200, &z, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "result is an array, not an object"));
	assert_int_equal(ms_cf_parse_zone(OK_ENV("null"), 200, &z, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "has no result"));
}

static void dnssec_disabled_has_null_ds(void **state)
{
	(void)state;
	char *body = load("dnssec_disabled.json");
	ms_cf_dnssec_t d;
	assert_int_equal(ms_cf_parse_dnssec(body, 200, &d, NULL), MS_OK);
	assert_int_equal(d.status, MS_CF_DNSSEC_DISABLED);
	assert_false(ms_cf_dnssec_enabled(d.status));
	assert_false(d.multi_signer);
	assert_false(d.has_ksk);
	assert_int_equal(d.algorithm, 0);
	assert_int_equal(d.key_tag, 0);
	assert_string_equal(d.ds, "");
	free(body);
}

static void dnssec_pending_with_ksk(void **state)
{
	(void)state;
	char *body = load("dnssec_patch_active.json");
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_dnssec(body, 200, &d, &err), MS_OK);
	assert_int_equal(d.status, MS_CF_DNSSEC_PENDING);
	assert_true(ms_cf_dnssec_enabled(d.status));
	assert_true(d.multi_signer);
	assert_true(d.has_ksk);
	assert_true(ms_dnskey_is_ksk(&d.ksk));
	assert_int_equal(d.ksk.algorithm, 13);
	assert_int_equal(d.algorithm, 13);      /* "13", a string in the API */
	assert_int_equal(d.digest_type, 2);     /* "2" */
	assert_int_equal(d.key_tag, 480);       /* dnspython agrees */
	assert_int_equal(ms_dnskey_tag(&d.ksk), 480);
	assert_non_null(strstr(d.ds, "IN DS 480 13 2"));
	free(body);

	/* Unknown statuses are kept as text, not guessed into enabled. */
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"frozen\"}"), 200, &d, NULL), MS_OK);
	assert_int_equal(d.status, MS_CF_DNSSEC_UNKNOWN);
	assert_string_equal(d.status_text, "frozen");
	assert_false(ms_cf_dnssec_enabled(d.status));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"pending-disabled\"}"), 200, &d,
	                                    NULL), MS_OK);
	assert_int_equal(d.status, MS_CF_DNSSEC_PENDING_DISABLED);
}

static void dnssec_bad_key_material(void **state)
{
	(void)state;
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	/* key_tag must be the key's (16953 is CF_KEY's as a KSK). */
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":13,"
	                                           "\"flags\":257,\"key_tag\":16953,\"public_key\":\""
	                                           CF_KEY "\"}"), 200, &d, &err), MS_OK);
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"13\","
	                                           "\"flags\":257,\"key_tag\":2371,\"public_key\":\""
	                                           CF_KEY "\"}"), 200, &d, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "key_tag 2371 does not belong"));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"13\","
	                                           "\"flags\":257,\"public_key\":\"AAAA\"}"), 200, &d,
	                                    &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "needs 64"));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"13\","
	                                           "\"flags\":257,\"public_key\":\"**not base64**\"}"),
	                                    200, &d, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "base64"));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"thirteen\","
	                                           "\"flags\":257,\"public_key\":\"" CF_KEY "\"}"),
	                                    200, &d, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "'algorithm' is a string but not a number"));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"13\","
	                                           "\"public_key\":\"" CF_KEY "\"}"), 200, &d, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "'flags' is missing"));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"13\","
	                                           "\"flags\":70000,\"public_key\":\"" CF_KEY "\"}"),
	                                    200, &d, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "'flags' is 70000"));
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"dnssec_multi_signer\":true}"), 200, &d, &err),
	                 MS_EPARSE);
	assert_string_equal(err.msg, "DNSSEC: field 'status' is missing");
}

static void dnssec_wrong_types(void **state)
{
	(void)state;
	/* The simulator's wrong_types fault: booleans and numbers as strings. The
	 * envelope's success is the first thing to break. */
	char *body = load("wrong_types_dnssec.json");
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_dnssec(body, 200, &d, &err), MS_EPARSE);
	assert_string_equal(err.msg, "response envelope: field 'success' is a string, not a boolean");
	free(body);
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\","
	                                           "\"dnssec_multi_signer\":\"true\"}"), 200, &d,
	                                    &err), MS_EPARSE);
	assert_string_equal(err.msg, "DNSSEC: field 'dnssec_multi_signer' is a string, not a boolean");
	assert_int_equal(ms_cf_parse_dnssec(OK_ENV("{\"status\":\"active\",\"algorithm\":\"13\","
	                                           "\"flags\":\"257\",\"public_key\":\"" CF_KEY "\"}"),
	                                    200, &d, &err), MS_EPARSE);
	assert_string_equal(err.msg, "DNSSEC: field 'flags' is a string, not a number");
}

static void dns_settings(void **state)
{
	(void)state;
	char *body = load("dns_settings.json");
	ms_cf_dns_settings_t s;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_dns_settings(body, 200, &s, NULL), MS_OK);
	assert_false(s.multi_provider);
	assert_int_equal(s.ns_ttl, 86400);
	free(body);
	assert_int_equal(ms_cf_parse_dns_settings(OK_ENV("{\"multi_provider\":true}"), 200, &s, NULL),
	                 MS_OK);
	assert_true(s.multi_provider);
	assert_int_equal(s.ns_ttl, 0);
	/* Older zones: use_apex_ns. */
	assert_int_equal(ms_cf_parse_dns_settings(OK_ENV("{\"use_apex_ns\":true}"), 200, &s, NULL),
	                 MS_OK);
	assert_true(s.multi_provider);
	assert_int_equal(ms_cf_parse_dns_settings(OK_ENV("{\"ns_ttl\":60}"), 200, &s, &err), MS_EPARSE);
	assert_string_equal(err.msg, "DNS settings: field 'multi_provider' is missing");
	assert_int_equal(ms_cf_parse_dns_settings(OK_ENV("{\"multi_provider\":1}"), 200, &s, &err),
	                 MS_EPARSE);
	assert_string_equal(err.msg, "DNS settings: field 'multi_provider' is a number, not a boolean");
}

/* ---- records ----------------------------------------------------------------- */

static void dnskey_records(void **state)
{
	(void)state;
	char *body = load("records_dnskey.json");
	ms_cf_record_list_t list = { 0 };
	ms_cf_result_info_t info;
	assert_int_equal(ms_cf_parse_record_page(body, 200, &list, &info, NULL), MS_OK);
	assert_int_equal(list.count, 1);
	const ms_cf_record_t *r = &list.items[0];
	assert_int_equal(r->type, MS_CF_RR_DNSKEY);
	assert_string_equal(r->name, "example.com");
	assert_int_equal(r->ttl, 3600);
	assert_true(r->has_comment);
	assert_string_equal(r->comment, "knot-multisigner");
	assert_int_equal(r->tag_count, 0);
	assert_true(ms_dnskey_is_zsk(&r->dnskey));
	assert_int_equal(ms_dnskey_tag(&r->dnskey), 16952);
	assert_true(info.present);
	assert_int_equal(info.total_count, 1);
	assert_int_equal(info.per_page, 100);
	ms_cf_record_list_free(&list);
	free(body);

	body = load("record_create_dnskey.json");
	ms_cf_envelope_t env;
	assert_int_equal(ms_cf_envelope_parse(body, strlen(body), 200, &env, NULL), MS_OK);
	ms_cf_record_t rec;
	assert_int_equal(ms_cf_record_from_json(env.result, "created", &rec, NULL), MS_OK);
	assert_int_equal(ms_dnskey_tag(&rec.dnskey), 16952);
	assert_false(env.info.present);
	ms_cf_envelope_free(&env);
	free(body);
}

#define REC(extra) OK_ENV("[{\"id\":\"r1\",\"name\":\"example.com\",\"ttl\":3600" extra "}]")

static ms_rc_t one_record(const char *body, ms_cf_record_t *out, ms_err_t *err)
{
	ms_cf_record_list_t list = { 0 };
	ms_cf_result_info_t info;
	ms_rc_t rc = ms_cf_parse_record_page(body, 200, &list, &info, err);
	if (rc == MS_OK) {
		assert_int_equal(list.count, 1);
		*out = list.items[0];
	}
	ms_cf_record_list_free(&list);
	return rc;
}

static void dnskey_record_variants(void **state)
{
	(void)state;
	ms_cf_record_t r;
	ms_err_t err = { 0 };
	/* content only (data missing) is fine; so is a null comment. */
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"comment\":null,"
	                                "\"content\":\"257 3 13 " CF_KEY "\""), &r, &err), MS_OK);
	assert_true(ms_dnskey_is_ksk(&r.dnskey));
	assert_false(r.has_comment);
	/* data only, numbers as 256.0 (the schema says "number"). */
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"data\":{\"flags\":256.0,"
	                                "\"protocol\":3,\"algorithm\":13,\"public_key\":\"" CF_KEY "\"}"),
	                            &r, &err), MS_OK);
	assert_true(ms_dnskey_is_zsk(&r.dnskey));
	/* data and content disagree: refused rather than picking one. */
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"content\":\"257 3 13 " CF_KEY "\","
	                                "\"data\":{\"flags\":256,\"protocol\":3,\"algorithm\":13,"
	                                "\"public_key\":\"" CF_KEY "\"}"), &r, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "'data' and 'content' are different keys"));
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\""), &r, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "neither 'data' nor 'content'"));
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"data\":{\"flags\":256,\"protocol\":2,"
	                                "\"algorithm\":13,\"public_key\":\"" CF_KEY "\"}"), &r, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "protocol 2 is not 3"));
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"data\":{\"flags\":\"256\",\"protocol\":3,"
	                                "\"algorithm\":13,\"public_key\":\"" CF_KEY "\"}"), &r, &err),
	                 MS_EPARSE);
	assert_string_equal(err.msg, "DNS records, record 1 data: field 'flags' is a string, not a number");
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"data\":{\"flags\":256.5,\"protocol\":3,"
	                                "\"algorithm\":13,\"public_key\":\"" CF_KEY "\"}"), &r, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "not a whole number"));
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"data\":{\"flags\":256,\"protocol\":3,"
	                                "\"algorithm\":13,\"public_key\":\"AAAA\"}"), &r, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "needs 64"));
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"data\":{\"flags\":256,\"protocol\":3,"
	                                "\"algorithm\":13}"), &r, &err), MS_EPARSE);
	assert_string_equal(err.msg, "DNS records, record 1 data: field 'public_key' is missing");
	assert_int_equal(one_record(REC(",\"type\":\"DNSKEY\",\"content\":\"256 3 13 %%%\""), &r, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "content"));
}

static void ns_and_other_records(void **state)
{
	(void)state;
	ms_cf_record_t r;
	ms_err_t err = { 0 };
	assert_int_equal(one_record(REC(",\"type\":\"NS\",\"name\":\"Example.COM.\","
	                                "\"content\":\"NS1.Example.NET.\",\"comment\":\"ours\","
	                                "\"tags\":[\"owner:knot\",\"x:y\"]"), &r, &err), MS_OK);
	assert_int_equal(r.type, MS_CF_RR_NS);
	assert_string_equal(r.name, "example.com");
	assert_string_equal(r.ns_host, "ns1.example.net");
	assert_int_equal(r.tag_count, 2);
	assert_string_equal(r.tags[0], "owner:knot");
	assert_int_equal(one_record(REC(",\"type\":\"NS\""), &r, &err), MS_EPARSE);
	assert_string_equal(err.msg, "DNS records, record 1: field 'content' is missing");
	assert_int_equal(one_record(REC(",\"type\":\"TXT\",\"content\":\"hello\""), &r, &err), MS_OK);
	assert_int_equal(r.type, MS_CF_RR_OTHER);
	assert_string_equal(r.type_text, "TXT");
	assert_int_equal(one_record(REC(",\"type\":\"NS\",\"content\":\"a.b\",\"tags\":[1]"), &r, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "tags[0]"));
	assert_int_equal(one_record(REC(",\"type\":\"NS\",\"content\":\"a.b\",\"comment\":5"), &r, &err),
	                 MS_EPARSE);
	assert_non_null(strstr(err.msg, "'comment' is a number"));
	assert_int_equal(one_record(OK_ENV("[{\"id\":\"r1\",\"name\":\"a.b\",\"type\":\"NS\","
	                                   "\"content\":\"x.y\",\"ttl\":\"3600\"}]"), &r, &err),
	                 MS_EPARSE);
	assert_string_equal(err.msg, "DNS records, record 1: field 'ttl' is a string, not a number");
	assert_int_equal(one_record(OK_ENV("[{\"id\":\"r1\",\"name\":\"a.b\",\"type\":\"NS\","
	                                   "\"content\":\"x.y\",\"ttl\":0}]"), &r, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "'ttl' is 0"));
	assert_int_equal(one_record(OK_ENV("[{\"name\":\"a.b\",\"type\":\"NS\",\"content\":\"x.y\","
	                                   "\"ttl\":1}]"), &r, &err), MS_EPARSE);
	assert_string_equal(err.msg, "DNS records, record 1: field 'id' is missing");
	assert_int_equal(one_record(OK_ENV("[{\"id\":\"a/b\",\"name\":\"a.b\",\"type\":\"NS\","
	                                   "\"content\":\"x.y\",\"ttl\":1}]"), &r, &err), MS_EPARSE);
	assert_int_equal(one_record(OK_ENV("[\"r1\"]"), &r, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "result is a string, not an object"));
	/* Over-long comments are refused, not cut (ownership marks live there). */
	char body[2048];
	char comment[MS_CF_COMMENT_MAX + 2];
	memset(comment, 'c', sizeof(comment) - 1);
	comment[sizeof(comment) - 1] = '\0';
	snprintf(body, sizeof(body), REC(",\"type\":\"NS\",\"content\":\"a.b\",\"comment\":\"%s\""),
	         comment);
	assert_int_equal(one_record(body, &r, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "longer than 500"));
}

static void record_pages(void **state)
{
	(void)state;
	ms_cf_record_list_t list = { 0 };
	ms_cf_result_info_t info;
	const char *pages[] = { "records_ns_page1.json", "records_ns_page2.json",
	                        "records_ns_page3.json" };
	const size_t counts[] = { 2, 3, 3 };
	for (size_t i = 0; i < 3; i++) {
		char *body = load(pages[i]);
		assert_int_equal(ms_cf_parse_record_page(body, 200, &list, &info, NULL), MS_OK);
		assert_int_equal(list.count, counts[i]);
		assert_int_equal(info.page, (long)i + 1);
		assert_int_equal(info.per_page, 2);
		assert_int_equal(info.total_count, 3);
		assert_int_equal(info.total_pages, 2);
		free(body);
	}
	assert_string_equal(list.items[0].ns_host, "ns0.example.net");
	assert_string_equal(list.items[2].ns_host, "ns2.example.net");
	ms_cf_record_list_free(&list);

	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_record_page("{\"success\":true,\"errors\":[],\"result\":[],"
	                                         "\"result_info\":{\"total_count\":\"3\"}}",
	                                         200, &list, &info, &err), MS_EPARSE);
	assert_string_equal(err.msg, "result_info: field 'total_count' is a string, not a number");
	assert_int_equal(ms_cf_parse_record_page(OK_ENV("{}"), 200, &list, &info, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "result is an object, not an array"));
	ms_cf_record_list_free(&list);
}

/* ---- Cloudflare's ZSKs ------------------------------------------------------- */

static void zsk_reference_example(void **state)
{
	(void)state;
	char *body = load("zsk_list_reference.json");
	ms_cf_zsk_list_t l;
	assert_int_equal(ms_cf_parse_zsks(body, 200, &l, NULL), MS_OK);
	assert_int_equal(l.count, 1);
	assert_int_equal(l.items[0].state, MS_CF_ZSK_ACTIVE);
	assert_true(ms_cf_zsk_served(&l.items[0]));
	assert_string_equal(l.items[0].name, "zsk_default");
	assert_int_equal(l.items[0].ttl, 3600);
	assert_int_equal(ms_dnskey_tag(&l.items[0].key), 16952);
	/* SigningKey.privkey is not copied anywhere into the value. */
	assert_null(memmem(l.items, sizeof(*l.items), "U3ZlbidzIHZlcnkg", 16));
	ms_cf_zsk_list_free(&l);
	free(body);
}

static void zsk_rollover_and_tags(void **state)
{
	(void)state;
	char *body = load("zsk_list_rollover.json");
	ms_cf_zsk_list_t l;
	assert_int_equal(ms_cf_parse_zsks(body, 200, &l, NULL), MS_OK);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.items[0].state, MS_CF_ZSK_ACTIVE);
	assert_int_equal(l.items[1].state, MS_CF_ZSK_PUBLISH);
	assert_true(ms_cf_zsk_served(&l.items[1]));
	assert_int_equal(ms_dnskey_tag(&l.items[0].key), 27092);
	assert_int_equal(ms_dnskey_tag(&l.items[1].key), 28168);
	ms_cf_zsk_list_free(&l);
	free(body);

	const char *tags[] = { "retired", "removed", "revoked", "external", "mystery" };
	const bool served[] = { true, false, false, false, false };
	for (size_t i = 0; i < 5; i++) {
		char b[1024];
		snprintf(b, sizeof(b), OK_ENV("[{\"DNSKEY\":{\"Algorithm\":13,\"Flags\":256,"
		                              "\"Protocol\":3,\"PublicKey\":\"" CF_KEY "\"},"
		                              "\"Tag\":\"%s\"}]"), tags[i]);
		assert_int_equal(ms_cf_parse_zsks(b, 200, &l, NULL), MS_OK);
		assert_int_equal(ms_cf_zsk_served(&l.items[0]), served[i]);
		assert_int_equal(l.items[0].ttl, 0); /* no Hdr */
		ms_cf_zsk_list_free(&l);
	}
	assert_int_equal(ms_cf_parse_zsks(OK_ENV("[]"), 200, &l, NULL), MS_OK);
	assert_int_equal(l.count, 0);
}

static void zsk_broken(void **state)
{
	(void)state;
	ms_cf_zsk_list_t l;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_parse_zsks(OK_ENV("[{\"DNSKEY\":{\"Algorithm\":13,\"Flags\":256,"
	                                         "\"Protocol\":3},\"Tag\":\"active\"}]"), 200, &l, &err),
	                 MS_EPARSE);
	assert_string_equal(err.msg, "Cloudflare ZSK 1 DNSKEY: field 'PublicKey' is missing");
	assert_null(l.items);
	assert_int_equal(ms_cf_parse_zsks(OK_ENV("[{\"DNSKEY\":{\"Algorithm\":8,\"Flags\":256,"
	                                         "\"Protocol\":3,\"PublicKey\":\"" CF_KEY "\"}}]"),
	                                  200, &l, &err), MS_EPARSE);
	assert_string_equal(err.msg, "Cloudflare ZSK 1: field 'Tag' is missing");
	assert_int_equal(ms_cf_parse_zsks(OK_ENV("[{\"DNSKEY\":{\"Algorithm\":13,\"Flags\":256,"
	                                         "\"Protocol\":3,\"PublicKey\":\"AAAA\"},"
	                                         "\"Tag\":\"active\"}]"), 200, &l, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "Cloudflare ZSK 1 DNSKEY: DNSKEY public key has 3 bytes"));
	assert_int_equal(ms_cf_parse_zsks(OK_ENV("[{\"DNSKEY\":{\"Algorithm\":\"13\",\"Flags\":256,"
	                                         "\"Protocol\":3,\"PublicKey\":\"" CF_KEY "\"},"
	                                         "\"Tag\":\"active\"}]"), 200, &l, &err), MS_EPARSE);
	assert_string_equal(err.msg, "Cloudflare ZSK 1 DNSKEY: field 'Algorithm' is a string, not a number");
	assert_int_equal(ms_cf_parse_zsks(OK_ENV("{\"DNSKEY\":{}}"), 200, &l, &err), MS_EPARSE);
}

static void batch_and_delete(void **state)
{
	(void)state;
	char *body = load("batch.json");
	ms_cf_envelope_t env;
	ms_cf_record_list_t created;
	assert_int_equal(ms_cf_envelope_parse(body, strlen(body), 200, &env, NULL), MS_OK);
	assert_int_equal(ms_cf_batch_from_json(env.result, &created, NULL), MS_OK);
	assert_int_equal(created.count, 1);
	assert_string_equal(created.items[0].ns_host, "ns9.example.net");
	ms_cf_record_list_free(&created);
	ms_cf_envelope_free(&env);
	free(body);

	body = load("record_delete.json");
	char id[MS_CF_ID_MAX + 1];
	assert_int_equal(ms_cf_envelope_parse(body, strlen(body), 200, &env, NULL), MS_OK);
	assert_int_equal(ms_cf_deleted_from_json(env.result, id, NULL), MS_OK);
	assert_int_equal(strlen(id), 32);
	ms_cf_envelope_free(&env);
	free(body);
}

/* ---- error shapes ------------------------------------------------------------ */

static void api_errors_from_recorded_bodies(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		long status;
		int codes[3];
		size_t ncodes;
		const char *text;
	} cases[] = {
		{ "invalid_token.json", 403, { 9109 }, 1,
		  "Cloudflare error 9109: Invalid access token (HTTP 403): check the API credential" },
		{ "token_verify_invalid.json", 401, { 1000 }, 1, "Cloudflare error 1000: Invalid API Token" },
		{ "bad_header.json", 400, { 6003, 6111 }, 2,
		  "Cloudflare error 6003: Invalid request headers [6111: Invalid format for Authorization header]" },
		{ "no_permission.json", 403, { 10000 }, 1, "lacks a permission" },
		{ "bad_zone_id.json", 400, { 7003 }, 1, "check zone-id" },
		{ "record_identical.json", 400, { 81058 }, 1, "An identical record already exists." },
		{ "record_not_found.json", 404, { 81044 }, 1, "Record does not exist. (HTTP 404)" },
		{ "validation_chain.json", 400, { 1004, 9030 }, 2, "DNS Validation Error [9030: DNSKEY records" },
		{ "rate_limited.json", 429, { 971 }, 1, "rate limit was hit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = load(cases[i].file);
		ms_err_t err = { 0 };
		ms_cf_dnssec_t d;
		assert_int_equal(ms_cf_parse_dnssec(body, cases[i].status, &d, &err), MS_EAPI);
		assert_int_equal(err.rc, MS_EAPI);
		assert_int_equal(err.http_status, cases[i].status);
		assert_int_equal(err.api_code_count, cases[i].ncodes);
		for (size_t j = 0; j < cases[i].ncodes; j++) {
			assert_int_equal(err.api_codes[j], cases[i].codes[j]);
		}
		if (strstr(err.msg, cases[i].text) == NULL) {
			fail_msg("%s: '%s' not in '%s'", cases[i].file, cases[i].text, err.msg);
		}
		free(body);
	}
}

static void api_errors_hand_made(void **state)
{
	(void)state;
	static const struct { int code; long status; const char *msg; } cases[] = {
		{ 81057, 400, "The record already exists." },
		{ 9207, 400, "Request body is invalid." },
		{ 9000, 400, "DNS name is invalid." },
		{ 7000, 404, "No route for that URI" },
		{ 1004, 400, "DNS Validation Error" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[512];
		snprintf(body, sizeof(body), "{\"success\":false,\"errors\":[{\"code\":%d,\"message\":"
		         "\"%s\",\"documentation_url\":\"https://x\",\"source\":{\"pointer\":\"/a\"}}],"
		         "\"messages\":[],\"result\":null}", cases[i].code, cases[i].msg);
		ms_err_t err = { 0 };
		ms_cf_token_t t;
		assert_int_equal(ms_cf_parse_token(body, cases[i].status, &t, &err), MS_EAPI);
		assert_int_equal(err.api_code_count, 1);
		assert_int_equal(err.api_codes[0], cases[i].code);
		char want[256];
		snprintf(want, sizeof(want), "Cloudflare error %d: %s (HTTP %ld)", cases[i].code,
		         cases[i].msg, cases[i].status);
		assert_non_null(strstr(err.msg, want));
	}

	/* More codes than fit: the first ones are kept. */
	ms_err_t err = { 0 };
	ms_cf_token_t t;
	assert_int_equal(ms_cf_parse_token("{\"success\":false,\"errors\":[{\"code\":1,\"message\":"
	                                   "\"a\"},{\"code\":2},{\"code\":3},{\"code\":4},{\"code\":5}],"
	                                   "\"result\":null}", 400, &t, &err), MS_EAPI);
	assert_int_equal(err.api_code_count, MS_ERR_CODES_MAX);
	assert_int_equal(err.api_codes[3], 4);
	assert_non_null(strstr(err.msg, ", and more"));
	/* No error entries at all. */
	assert_int_equal(ms_cf_parse_token("{\"success\":false,\"errors\":[],\"result\":null}", 500,
	                                   &t, &err), MS_EAPI);
	assert_int_equal(err.api_code_count, 0);
	assert_non_null(strstr(err.msg, "without an error code (HTTP 500)"));
	/* Control characters and length in a server message are cleaned. */
	char body[1024];
	char longmsg[400];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"success\":false,\"errors\":[{\"code\":9,\"message\":"
	         "\"line1\\nline2\\u001b[31m%s\"}],\"result\":null}", longmsg);
	assert_int_equal(ms_cf_parse_token(body, 400, &t, &err), MS_EAPI);
	assert_null(strchr(err.msg, '\n'));
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "line1?line2?[31m"));
	assert_non_null(strstr(err.msg, "...")); /* cut at 100 characters */
}

static void http_errors_without_envelope(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	ms_cf_zone_t z;
	char *html = load("html_502.html");
	assert_int_equal(ms_cf_parse_zone(html, 502, &z, &err), MS_EHTTP);
	assert_int_equal(err.http_status, 502);
	assert_int_equal(err.api_code_count, 0);
	assert_string_equal(err.msg, "HTTP 502 from the API, with a body that is HTML, not an API "
	                    "response: Cloudflare is failing: will retry");
	free(html);
	/* The body is never quoted, whatever it holds. */
	assert_int_equal(ms_cf_parse_zone("<html>token=SECRET123</html>", 403, &z, &err), MS_EHTTP);
	assert_null(strstr(err.msg, "SECRET123"));
	assert_non_null(strstr(err.msg, "check the API credential"));

	static const struct { const char *body; long status; ms_rc_t rc; const char *what; } cases[] = {
		{ "{\"success\":true,\"result\":{\"id\":", 200, MS_EPARSE, "truncated JSON" },
		{ "{\"success\":true,\"result\":{\"id\":", 500, MS_EHTTP, "truncated JSON" },
		{ "", 200, MS_EPARSE, "empty" },
		{ "  \r\n", 503, MS_EHTTP, "empty" },
		{ "Service Unavailable", 503, MS_EHTTP, "not JSON" },
		{ "{\"success\":true,\"result\":{}} trailing", 200, MS_EPARSE, "not JSON" },
		{ "[1,2]", 200, MS_EPARSE, "JSON without an envelope" },
		{ "{\"result\":{}}", 404, MS_EHTTP, "JSON without an envelope" },
		{ "{\"result\":{}}", 200, MS_EPARSE, "field 'success' is missing" },
		{ OK_ENV("{}"), 500, MS_EHTTP, "although its body says success" },
		{ OK_ENV("{}"), 302, MS_EHTTP, "HTTP 302" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms_cf_envelope_t env;
		assert_int_equal(ms_cf_envelope_parse(cases[i].body, strlen(cases[i].body),
		                                      cases[i].status, &env, &err), cases[i].rc);
		assert_null(env.root);
		if (strstr(err.msg, cases[i].what) == NULL) {
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].what, err.msg);
		}
		assert_int_equal(err.http_status, cases[i].status);
	}
	/* A NUL inside the body is not JSON either. */
	ms_cf_envelope_t env;
	assert_int_equal(ms_cf_envelope_parse("{\"a\":\0}", 7, 200, &env, &err), MS_EPARSE);
}

static void json_helpers(void **state)
{
	(void)state;
	const char *why;
	const char *doc = "{\"n\":9007199254740993,\"big\":1e300,\"s\":\"12\",\"neg\":-1}";
	json_object *o = ms_json_parse(doc, strlen(doc), &why);
	assert_non_null(o);
	int64_t v;
	ms_err_t err = { 0 };
	assert_int_equal(ms_json_get_int(o, "n", true, 0, INT64_MAX, &v, NULL, "t", &err), MS_OK);
	assert_int_equal(ms_json_get_int(o, "big", true, 0, INT64_MAX, &v, NULL, "t", &err), MS_EPARSE);
	assert_int_equal(ms_json_get_int(o, "neg", true, 0, 10, &v, NULL, "t", &err), MS_EPARSE);
	assert_int_equal(ms_json_get_int_or_digits(o, "s", true, 0, 100, &v, NULL, "t", &err), MS_OK);
	assert_int_equal(v, 12);
	bool present = true;
	assert_int_equal(ms_json_get_int(o, "absent", false, 0, 1, &v, &present, "t", &err), MS_OK);
	assert_false(present);
	char small[2];
	assert_int_equal(ms_json_get_string(o, "s", true, small, sizeof(small), NULL, "t", &err),
	                 MS_EPARSE);
	assert_string_equal(err.msg, "t: field 's' is longer than 1 characters");
	json_object_put(o);
	assert_null(ms_json_parse("   ", 3, &why));
	assert_string_equal(why, "empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_verify),
		cmocka_unit_test(zone_object),
		cmocka_unit_test(zone_broken),
		cmocka_unit_test(dnssec_disabled_has_null_ds),
		cmocka_unit_test(dnssec_pending_with_ksk),
		cmocka_unit_test(dnssec_bad_key_material),
		cmocka_unit_test(dnssec_wrong_types),
		cmocka_unit_test(dns_settings),
		cmocka_unit_test(dnskey_records),
		cmocka_unit_test(dnskey_record_variants),
		cmocka_unit_test(ns_and_other_records),
		cmocka_unit_test(record_pages),
		cmocka_unit_test(zsk_reference_example),
		cmocka_unit_test(zsk_rollover_and_tags),
		cmocka_unit_test(zsk_broken),
		cmocka_unit_test(batch_and_delete),
		cmocka_unit_test(api_errors_from_recorded_bodies),
		cmocka_unit_test(api_errors_hand_made),
		cmocka_unit_test(http_errors_without_envelope),
		cmocka_unit_test(json_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
