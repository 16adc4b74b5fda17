/*
 * The per-zone state: its text form round-trips, the parser refuses every
 * kind of damage with a message that names it, the applier's helpers keep
 * ids straight, and the state file is replaced atomically with mode 0600.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_file.h"
#include "zone_state.h"

#define ZONE "example.com"
#define P256 "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="

static ms_dnskey_t key_of(uint16_t flags, uint8_t seed, size_t len, uint8_t alg)
{
	uint8_t wire[4 + MS_DNSKEY_PUBKEY_MAX] = { (uint8_t)(flags >> 8), (uint8_t)flags, 3, alg };
	for (size_t i = 0; i < len; i++) {
		wire[4 + i] = (uint8_t)(seed + i * 3);
	}
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_wire(wire, 4 + len, &k, NULL), MS_OK);
	return k;
}

static void sample(ms_zone_state_t *s)
{
	ms_zone_state_init(s, ZONE);
	ms_dnskey_t ours = key_of(256, 1, 64, 13);
	assert_int_equal(ms_zone_state_own_dnskey(s, "372e67954025e0ba6aaa6d586b9e0b59", &ours,
	                                          1700000000, NULL), MS_OK);
	assert_int_equal(ms_zone_state_own_ns(s, "372e67954025e0ba6aaa6d586b9e0b5a",
	                                      "ns1.example.net", 1700000060, NULL), MS_OK);
	ms_cf_key_state_t *k = &s->cf_keys[s->cf_key_count++];
	k->key = key_of(256, 2, 64, 13);
	k->first_seen = 1700000000;
	k->last_seen = 1700003600;
	k->gone_since = 1700007200;
	k->remove_after = 1700014460;
	k->in_local_since = 1700000060;
	s->our_zsks[s->our_zsk_count].key = ours;
	s->our_zsks[s->our_zsk_count++].confirmed_since = 1700000060;
	s->out_of_step_since = 1700000120;
}

static char text[MS_STATE_TEXT_MAX];

static size_t format(const ms_zone_state_t *s)
{
	size_t len = 0;
	ms_err_t err = { 0 };
	assert_int_equal(ms_zone_state_format(s, text, sizeof(text), &len, &err), MS_OK);
	assert_int_equal(len, strlen(text));
	return len;
}

static void roundtrip(void **state)
{
	(void)state;
	static ms_zone_state_t a, b;
	sample(&a);
	size_t len = format(&a);
	assert_int_equal(ms_zone_state_parse(text, len, "EXAMPLE.com.", &b, NULL), MS_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Formatting is stable: the same state gives the same text. */
	static char first[sizeof(text)];
	memcpy(first, text, len + 1);
	format(&b);
	assert_string_equal(first, text);
}

/* The state file is rewritten only when its digest changes: every field
 * it keeps counts, last_seen (a timestamp nothing decides on) does not. */
static void digest_covers_all_but_last_seen(void **state)
{
	(void)state;
	static ms_zone_state_t a, b;
	sample(&a);
	uint64_t d = ms_zone_state_digest(&a);
	b = a;
	b.cf_keys[0].last_seen += 600;
	assert_true(ms_zone_state_digest(&b) == d);
	b.awaited_count = 1; /* memory only, not in the file */
	assert_true(ms_zone_state_digest(&b) == d);
#define CHANGED(stmt) do { b = a; stmt; assert_true(ms_zone_state_digest(&b) != d); } while (0)
	CHANGED(b.out_of_step_since = 0);
	CHANGED(b.owned[0].since++);
	CHANGED(b.owned[0].id[0] = 'x');
	CHANGED(b.owned[0].key.pubkey[3] ^= 1);
	CHANGED(b.owned[1].name[0] = 'm');
	CHANGED(b.owned_count--);
	CHANGED(b.cf_keys[0].first_seen++);
	CHANGED(b.cf_keys[0].gone_since = 0);
	CHANGED(b.cf_keys[0].remove_after++);
	CHANGED(b.cf_keys[0].in_local_since++);
	CHANGED(b.cf_keys[0].key.flags = 257);
	CHANGED(b.cf_key_count = 0);
	CHANGED(b.our_zsks[0].confirmed_since++);
	CHANGED(b.our_zsk_count = 0);
	CHANGED(b.zone[0] = 'f');
#undef CHANGED
}

/* Between passes the state is kept packed: small, and back unchanged,
 * the memory-only awaited keys included. */
static void packed_between_passes(void **state)
{
	(void)state;
	static ms_zone_state_t a, b;
	sample(&a);
	a.awaited[0].key = key_of(256, 9, 64, 13);
	a.awaited[0].since = 1700000300;
	a.awaited_count = 1;
	ms_zone_state_packed_t p = { 0 };
	assert_int_equal(ms_zone_state_unpack(&p, ZONE, &b, NULL), MS_OK); /* nothing packed */
	static ms_zone_state_t empty;
	ms_zone_state_init(&empty, ZONE);
	assert_memory_equal(&b, &empty, sizeof(b));
	assert_int_equal(ms_zone_state_pack(&a, &p, NULL), MS_OK);
	size_t len = format(&a);
	assert_int_equal(p.len, len);
	assert_string_equal(p.text, text);
	assert_true(p.len < 2048); /* vs sizeof(ms_zone_state_t), ~140 KiB */
	assert_int_equal(ms_zone_state_unpack(&p, ZONE, &b, NULL), MS_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Packing again replaces; a state that cannot be formatted leaves it. */
	b.awaited_count = 0;
	assert_int_equal(ms_zone_state_pack(&b, &p, NULL), MS_OK);
	assert_int_equal(p.awaited_count, 0);
	b.owned_count = MS_STATE_MAX_OWNED + 1;
	ms_err_t err = { 0 };
	assert_int_not_equal(ms_zone_state_pack(&b, &p, &err), MS_OK);
	assert_int_equal(p.len, len);
	assert_int_equal(ms_zone_state_unpack(&p, ZONE, &b, NULL), MS_OK);
	assert_int_equal(b.owned_count, a.owned_count);
	assert_int_equal(b.awaited_count, 0);
	ms_zone_state_packed_free(&p);
	assert_null(p.text);
	ms_zone_state_packed_free(&p);
}

static void empty_state_text(void **state)
{
	(void)state;
	static ms_zone_state_t s, back;
	ms_zone_state_init(&s, ZONE);
	size_t len = format(&s);
	/* One member a line, for people reading the file; json-c 0.18 (Debian
	 * 13) writes an empty array as "[]" where 0.16 (Debian 12) breaks it
	 * over two lines, so blanks are compared apart from the rest. */
	assert_non_null(strstr(text, "{\n  \"version\":1,\n  \"zone\":"));
	static char squeezed[sizeof(text)];
	size_t n = 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p != ' ' && *p != '\n') {
			squeezed[n++] = *p;
		}
	}
	squeezed[n] = '\0';
	assert_string_equal(squeezed, "{\"version\":1,\"zone\":\"example.com\","
	                    "\"out_of_step_since\":0,\"owned_records\":[],"
	                    "\"cloudflare_keys\":[],\"our_zsks\":[]}");
	assert_int_equal(text[len - 1], '\n');
	assert_int_equal(ms_zone_state_parse(text, len, ZONE, &back, NULL), MS_OK);
	assert_memory_equal(&s, &back, sizeof(s));
}

static void text_holds_public_data_only(void **state)
{
	(void)state;
	static ms_zone_state_t s;
	ms_zone_state_init(&s, ZONE);
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, P256, &k, NULL), MS_OK);
	assert_int_equal(ms_zone_state_own_dnskey(&s, "abc", &k, 1, NULL), MS_OK);
	format(&s);
	/* The key as a zone file has it, which an operator can check with dig. */
	assert_non_null(strstr(text, "\"dnskey\":\"256 3 13 " P256 "\""));
	assert_null(strstr(text, "priv"));
}

/* Fill every cap with the largest keys: the text must fit MS_STATE_TEXT_MAX. */
static void largest_state_fits(void **state)
{
	(void)state;
	static ms_zone_state_t s, back;
	ms_zone_state_init(&s, "a-very-long-label-to-make-the-zone-name-long.example.com");
	for (size_t i = 0; i < MS_STATE_MAX_OWNED; i++) {
		char id[MS_CF_ID_MAX + 1];
		snprintf(id, sizeof(id), "%064zu", i);
		ms_dnskey_t k = key_of(256, (uint8_t)i, MS_DNSKEY_PUBKEY_MAX, 8);
		assert_int_equal(ms_zone_state_own_dnskey(&s, id, &k, INT64_MAX, NULL), MS_OK);
	}
	ms_dnskey_t k = key_of(256, 9, 1, 8);
	assert_int_equal(ms_zone_state_own_dnskey(&s, "one-more", &k, 1, NULL), MS_ETOOBIG);
	for (size_t i = 0; i < MS_STATE_MAX_CF_KEYS; i++) {
		s.cf_keys[s.cf_key_count].key = key_of(256, (uint8_t)i, MS_DNSKEY_PUBKEY_MAX, 8);
		s.cf_keys[s.cf_key_count++].first_seen = INT64_MAX;
	}
	for (size_t i = 0; i < MS_STATE_MAX_OUR_ZSKS; i++) {
		s.our_zsks[s.our_zsk_count++].key = key_of(256, (uint8_t)i, MS_DNSKEY_PUBKEY_MAX, 8);
	}
	size_t len = format(&s);
	assert_true(len < MS_STATE_TEXT_MAX);
	assert_int_equal(ms_zone_state_parse(text, len, s.zone, &back, NULL), MS_OK);
	assert_memory_equal(&s, &back, sizeof(s));
	char small[64];
	assert_int_equal(ms_zone_state_format(&s, small, sizeof(small), NULL, NULL), MS_ETOOBIG);
}

/* Each damaged text is refused with rc and a message containing want, and
 * leaves an empty state for the zone. */
static void refused(const char *bad, ms_rc_t rc, const char *want)
{
	static ms_zone_state_t s;
	ms_err_t err = { 0 };
	sample(&s);
	assert_int_equal(ms_zone_state_parse(bad, strlen(bad), ZONE, &s, &err), rc);
	if (strstr(err.msg, want) == NULL) {
		fail_msg("message '%s' lacks '%s' for: %s", err.msg, want, bad);
	}
	assert_string_equal(s.zone, ZONE);
	assert_int_equal(s.owned_count + s.cf_key_count + s.our_zsk_count, 0);
	assert_int_equal(s.out_of_step_since, 0);
}

#define HEAD "{\"version\":1,\"zone\":\"example.com\",\"out_of_step_since\":0,"
#define EMPTY_LISTS "\"owned_records\":[],\"cloudflare_keys\":[],\"our_zsks\":[]"
#define KEYTEXT "256 3 13 " P256

static void refuses_damage(void **state)
{
	(void)state;
	refused("", MS_EPARSE, "empty");
	refused("not json", MS_EPARSE, "not one JSON document");
	refused(HEAD EMPTY_LISTS "} trailing", MS_EPARSE, "not one JSON document");
	refused(HEAD EMPTY_LISTS "} {}", MS_EPARSE, "not one JSON document");
	refused(HEAD EMPTY_LISTS ",}", MS_EPARSE, "not one JSON document"); /* strict JSON */
	refused("[1,2]", MS_EPARSE, "no version");
	refused("{\"zone\":\"example.com\"}", MS_EPARSE, "no version");
	refused("{\"version\":2," EMPTY_LISTS "}", MS_EPARSE, "version 2 is not supported");
	refused("{\"version\":\"1\"}", MS_EPARSE, "no version");
	refused(HEAD EMPTY_LISTS ",\"extra\":1}", MS_EPARSE, "unknown field 'extra'");
	refused(HEAD "\"owned_records\":[],\"cloudflare_keys\":[]}", MS_EPARSE,
	        "missing field 'our_zsks'");
	refused("{\"version\":1,\"zone\":\"example.org\",\"out_of_step_since\":0," EMPTY_LISTS "}",
	        MS_EPARSE, "for zone example.org, not example.com");
	refused("{\"version\":1,\"zone\":\"example.com\",\"out_of_step_since\":-5," EMPTY_LISTS "}",
	        MS_EPARSE, "'out_of_step_since' is not a time");
	refused(HEAD "\"owned_records\":{},\"cloudflare_keys\":[],\"our_zsks\":[]}", MS_EPARSE,
	        "'owned_records' is not an array");
	refused(HEAD "\"owned_records\":[{\"id\":\"a\",\"type\":\"TXT\",\"since\":0}],"
	        "\"cloudflare_keys\":[],\"our_zsks\":[]}", MS_EPARSE, "owned_records[0]: record "
	        "type 'TXT'");
	refused(HEAD "\"owned_records\":[{\"id\":\"a b\",\"type\":\"NS\",\"name\":\"x\",\"since\":0}],"
	        "\"cloudflare_keys\":[],\"our_zsks\":[]}", MS_EPARSE, "'id' is missing");
	refused(HEAD "\"owned_records\":[{\"id\":\"a\",\"type\":\"NS\",\"name\":\"x\"}],"
	        "\"cloudflare_keys\":[],\"our_zsks\":[]}", MS_EPARSE, "missing field 'since'");
	refused(HEAD "\"owned_records\":[{\"id\":\"a\",\"type\":\"DNSKEY\",\"dnskey\":\"256 3 13 AAAA\","
	        "\"since\":0}],\"cloudflare_keys\":[],\"our_zsks\":[]}", MS_EPARSE,
	        "owned_records[0]: 'dnskey' is not a DNSKEY: DNSKEY public key has 3 bytes");
	refused(HEAD "\"owned_records\":[],\"cloudflare_keys\":[{\"dnskey\":\"" KEYTEXT "\","
	        "\"first_seen\":1,\"last_seen\":1,\"gone_since\":0,\"remove_after\":0}],"
	        "\"our_zsks\":[]}", MS_EPARSE, "cloudflare_keys[0]: missing field 'in_local_since'");
	refused(HEAD "\"owned_records\":[],\"cloudflare_keys\":[],\"our_zsks\":[{\"dnskey\":\""
	        KEYTEXT "\",\"confirmed_since\":1.5}]}", MS_EPARSE,
	        "our_zsks[0]: 'confirmed_since' is not a time");
	refused(HEAD "\"owned_records\":[],\"cloudflare_keys\":[],\"our_zsks\":[{\"dnskey\":\""
	        KEYTEXT "\",\"confirmed_since\":\"1\"}]}", MS_EPARSE, "is not a time");
	/* Too many entries: a cap, not a truncation. */
	char many[8192] = HEAD "\"owned_records\":[],\"cloudflare_keys\":[],\"our_zsks\":[";
	for (int i = 0; i <= MS_STATE_MAX_OUR_ZSKS; i++) {
		strcat(many, i > 0 ? ",{}" : "{}");
	}
	strcat(many, "]}");
	refused(many, MS_ETOOBIG, "'our_zsks' has 17 entries");
}

static void refuses_nul_and_bad_utf8(void **state)
{
	(void)state;
	static ms_zone_state_t s;
	const char nul[] = "{\"version\":1}\0";
	assert_int_equal(ms_zone_state_parse(nul, sizeof(nul), ZONE, &s, NULL), MS_EPARSE);
	const char *bad = "{\"version\":1,\"zone\":\"\xff\"}";
	assert_int_equal(ms_zone_state_parse(bad, strlen(bad), ZONE, &s, NULL), MS_EPARSE);
	assert_int_equal(ms_zone_state_parse(NULL, 0, ZONE, &s, NULL), MS_EPARSE);
}

static void applier_helpers(void **state)
{
	(void)state;
	static ms_zone_state_t s;
	ms_zone_state_init(&s, ZONE);
	ms_dnskey_t k = key_of(256, 5, 64, 13);
	assert_int_equal(ms_zone_state_own_ns(&s, "r1", "ns1.example.net", 10, NULL), MS_OK);
	assert_int_equal(ms_zone_state_own_dnskey(&s, "r2", &k, 20, NULL), MS_OK);
	/* The same id again updates, never duplicates. */
	assert_int_equal(ms_zone_state_own_ns(&s, "r1", "ns2.example.net", 30, NULL), MS_OK);
	assert_int_equal(s.owned_count, 2);
	const ms_owned_record_t *o = ms_zone_state_find_owned(&s, "r1");
	assert_string_equal(o->name, "ns2.example.net");
	assert_int_equal(o->since, 30);
	assert_int_equal(ms_zone_state_find_owned(&s, "r2")->type, MS_RECORD_DNSKEY);
	ms_err_t err = { 0 };
	assert_int_equal(ms_zone_state_own_ns(&s, "", "x", 1, &err), MS_EINVAL);
	assert_int_equal(ms_zone_state_own_dnskey(&s, NULL, &k, 1, &err), MS_EINVAL);
	ms_zone_state_forget_record(&s, "r1");
	ms_zone_state_forget_record(&s, "unknown");
	assert_int_equal(s.owned_count, 1);
	assert_null(ms_zone_state_find_owned(&s, "r1"));
	assert_string_equal(s.owned[0].id, "r2");
}

/* ---- the state file ---- */

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ms-state-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	return rmdir(dir);
}

static size_t entries_in_dir(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

static void file_write_read_replace(void **state)
{
	(void)state;
	char path[128], buf[64];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/example.com.json", dir);
	mode_t old = umask(0);
	assert_int_equal(ms_state_file_write(path, "first", 5, NULL), MS_OK);
	umask(old);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ms_state_file_write(path, "second\n", 7, NULL), MS_OK);
	assert_int_equal(ms_state_file_read(path, buf, sizeof(buf), &len, NULL), MS_OK);
	assert_string_equal(buf, "second\n");
	assert_int_equal(len, 7);
	assert_int_equal(entries_in_dir(), 1); /* no temporary file left */
	/* Exactly full is too big: the buffer needs its NUL. */
	ms_err_t err = { 0 };
	assert_int_equal(ms_state_file_read(path, buf, 7, &len, &err), MS_ETOOBIG);
	assert_non_null(strstr(err.msg, "larger than 6 bytes"));
	assert_int_equal(ms_state_file_read(path, buf, 8, &len, NULL), MS_OK);
	/* Without fsync (the status file): the same atomic replacement. */
	assert_int_equal(ms_state_file_replace(path, "third", 5, 0644, NULL), MS_OK);
	assert_int_equal(ms_state_file_read(path, buf, sizeof(buf), &len, NULL), MS_OK);
	assert_string_equal(buf, "third");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(entries_in_dir(), 1);
}

static void file_errors(void **state)
{
	(void)state;
	char path[128], buf[16];
	ms_err_t err = { 0 };
	snprintf(path, sizeof(path), "%s/absent.json", dir);
	assert_int_equal(ms_state_file_read(path, buf, sizeof(buf), NULL, &err), MS_ENOTFOUND);
	snprintf(path, sizeof(path), "%s/no-such-dir/x.json", dir);
	assert_int_equal(ms_state_file_write(path, "x", 1, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "no-such-dir"));
	assert_int_equal(ms_state_file_write("", "x", 1, &err), MS_EINVAL);
	/* A directory where the file should be: rename fails, nothing is left. */
	snprintf(path, sizeof(path), "%s/taken", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	char inner[160];
	snprintf(inner, sizeof(inner), "%s/keep", path);
	assert_int_equal(ms_state_file_write(inner, "x", 1, NULL), MS_OK);
	assert_int_equal(ms_state_file_write(path, "x", 1, &err), MS_EIO);
	assert_int_equal(entries_in_dir(), 1);
	unlink(inner);
	rmdir(path);
}

/* The way the glue uses both halves: save, load, plan on. */
static void file_and_state_together(void **state)
{
	(void)state;
	static ms_zone_state_t a, b;
	char path[128];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/example.com.json", dir);
	sample(&a);
	size_t n = format(&a);
	assert_int_equal(ms_state_file_write(path, text, n, NULL), MS_OK);
	assert_int_equal(ms_state_file_read(path, text, sizeof(text), &len, NULL), MS_OK);
	assert_int_equal(ms_zone_state_parse(text, len, ZONE, &b, NULL), MS_OK);
	assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(digest_covers_all_but_last_seen),
		cmocka_unit_test(packed_between_passes),
		cmocka_unit_test(empty_state_text),
		cmocka_unit_test(text_holds_public_data_only),
		cmocka_unit_test(largest_state_fits),
		cmocka_unit_test(refuses_damage),
		cmocka_unit_test(refuses_nul_and_bad_utf8),
		cmocka_unit_test(applier_helpers),
		cmocka_unit_test_setup_teardown(file_write_read_replace, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(file_errors, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(file_and_state_together, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
