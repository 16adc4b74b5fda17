/* When a zone's kept key listing may be reused (keys_cache.h): the pure
 * decision with made-up stamps, fingerprints and clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys_cache.h"

#define AGE MS_KEYS_CACHE_MAX_AGE

static ms_file_stamp_t stamp(int64_t mtime_ns, uint64_t size)
{
	return (ms_file_stamp_t){ .known = true, .dev = 1, .ino = 2, .size = size,
	                          .mtime_ns = mtime_ns, .ctime_ns = mtime_ns };
}

/* A cache taken at monotonic 100, wall 1000, served fingerprint 7. */
static ms_keys_cache_t taken(const ms_file_stamp_t *before, const ms_file_stamp_t *after,
                             const ms_local_key_t *keys, size_t count)
{
	ms_keys_cache_t c = { 0 };
	/* The stamps' times (a few ns) are long settled at real time 10 s. */
	assert_true(ms_keys_cache_store(&c, keys, count, before, after, 10000000000LL, 7, 100,
	                                1000));
	return c;
}

static void empty_cache_lists(void **state)
{
	(void)state;
	ms_keys_cache_t c = { 0 };
	ms_file_stamp_t s = stamp(5, 10);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 100, 1000, AGE), MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(NULL, &s, 7, 100, 1000, AGE), MS_KEYS_RELIST);
}

static void unchanged_database_reuses_even_if_served_changed(void **state)
{
	(void)state;
	ms_file_stamp_t s = stamp(5, 10);
	ms_keys_cache_t c = taken(&s, &s, NULL, 0);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 8, 200, 1100, AGE), MS_KEYS_REUSE_DB_SAME);
	ms_keys_cache_clear(&c);
}

static void changed_database_same_served_reuses(void **state)
{
	(void)state;
	ms_file_stamp_t s = stamp(5, 10), later = stamp(6, 10), bigger = stamp(5, 12);
	ms_keys_cache_t c = taken(&s, &s, NULL, 0);
	assert_int_equal(ms_keys_cache_decide(&c, &later, 7, 200, 1100, AGE),
	                 MS_KEYS_REUSE_SERVED);
	assert_int_equal(ms_keys_cache_decide(&c, &bigger, 7, 200, 1100, AGE),
	                 MS_KEYS_REUSE_SERVED);
	/* Changed database and changed served zone: list again. */
	assert_int_equal(ms_keys_cache_decide(&c, &later, 8, 200, 1100, AGE), MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(&c, &bigger, 8, 200, 1100, AGE), MS_KEYS_RELIST);
	ms_keys_cache_clear(&c);
}

static void stamp_changed_during_read_is_not_trusted(void **state)
{
	(void)state;
	ms_file_stamp_t before = stamp(5, 10), after = stamp(6, 10);
	ms_keys_cache_t c = taken(&before, &after, NULL, 0);
	/* Neither the stamp before nor after describes the listing. */
	assert_int_equal(ms_keys_cache_decide(&c, &before, 8, 200, 1100, AGE), MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(&c, &after, 8, 200, 1100, AGE), MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(&c, &after, 7, 200, 1100, AGE),
	                 MS_KEYS_REUSE_SERVED);
	ms_keys_cache_clear(&c);
}

static void stamp_written_in_the_last_second_is_not_trusted(void **state)
{
	(void)state;
	/* A write in the same clock tick as the read would leave an equal stamp. */
	ms_file_stamp_t s = stamp(9500000000LL, 10);
	ms_keys_cache_t c = { 0 };
	assert_true(ms_keys_cache_store(&c, NULL, 0, &s, &s, 10000000000LL, 7, 100, 1000));
	assert_int_equal(ms_keys_cache_decide(&c, &s, 8, 200, 1100, AGE), MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 200, 1100, AGE), MS_KEYS_REUSE_SERVED);
	assert_true(ms_keys_cache_store(&c, NULL, 0, &s, &s, 10500000000LL, 7, 100, 1000));
	assert_int_equal(ms_keys_cache_decide(&c, &s, 8, 200, 1100, AGE), MS_KEYS_REUSE_DB_SAME);
	ms_keys_cache_clear(&c);
}

static void unknown_stamp_relies_on_served(void **state)
{
	(void)state;
	ms_file_stamp_t none = { 0 };
	ms_keys_cache_t c = taken(&none, &none, NULL, 0);
	assert_int_equal(ms_keys_cache_decide(&c, &none, 8, 200, 1100, AGE), MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(&c, &none, 7, 200, 1100, AGE),
	                 MS_KEYS_REUSE_SERVED);
	assert_int_equal(ms_keys_cache_decide(&c, NULL, 7, 200, 1100, AGE), MS_KEYS_REUSE_SERVED);
	ms_keys_cache_clear(&c);
}

static void max_age_and_clock_going_back(void **state)
{
	(void)state;
	ms_file_stamp_t s = stamp(5, 10);
	ms_keys_cache_t c = taken(&s, &s, NULL, 0);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 100 + AGE, 1000, AGE),
	                 MS_KEYS_REUSE_DB_SAME);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 100 + AGE + 0.5, 1000, AGE),
	                 MS_KEYS_RELIST);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 99, 1000, AGE), MS_KEYS_RELIST);
	ms_keys_cache_clear(&c);
}

static void a_key_timer_coming_relists(void **state)
{
	(void)state;
	ms_local_key_t keys[2];
	memset(keys, 0, sizeof(keys));
	keys[0].publish = 500;          /* past */
	keys[0].active = 900;           /* past */
	keys[1].publish = 990;          /* past: a new ZSK, published */
	keys[1].active = 1300;          /* to come: knotd will activate it */
	keys[1].remove = 5000;
	assert_int_equal(ms_keys_next_timer(keys, 2, 1000), 1300);
	assert_int_equal(ms_keys_next_timer(keys, 2, 5000), 0);
	ms_file_stamp_t s = stamp(5, 10);
	ms_keys_cache_t c = taken(&s, &s, keys, 2);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.keys[1].active, 1300);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 200, 1299, AGE), MS_KEYS_REUSE_DB_SAME);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 200, 1300, AGE), MS_KEYS_RELIST);
	ms_keys_cache_clear(&c);
	assert_false(c.valid);
	assert_null(c.keys);
}

static void served_fingerprint_sees_key_changes(void **state)
{
	(void)state;
	ms_local_view_t *v = calloc(1, sizeof(*v));
	assert_non_null(v);
	v->soa_serial = 10;
	v->dnskey_count = 2;
	v->dnskeys[0] = (ms_dnskey_t){ .flags = 257, .protocol = 3, .algorithm = 13,
	                               .pubkey_len = 2, .pubkey = { 1, 2 } };
	v->dnskeys[1] = (ms_dnskey_t){ .flags = 256, .protocol = 3, .algorithm = 13,
	                               .pubkey_len = 2, .pubkey = { 3, 4 } };
	v->signing_tag_count = 1;
	v->signing_tags[0] = 4711;
	uint64_t fp = ms_local_served_fingerprint(v);
	v->keys[0].publish = 12345; /* the listing itself is not part of it */
	assert_true(ms_local_served_fingerprint(v) == fp);
	v->signing_tags[0] = 4712;  /* another ZSK signs */
	assert_true(ms_local_served_fingerprint(v) != fp);
	v->signing_tags[0] = 4711;
	v->dnskeys[1].pubkey[1] = 5; /* other material */
	assert_true(ms_local_served_fingerprint(v) != fp);
	v->dnskeys[1].pubkey[1] = 4;
	v->dnskey_count = 3;         /* a new key published */
	v->dnskeys[2] = v->dnskeys[1];
	v->dnskeys[2].pubkey[0] = 9;
	assert_true(ms_local_served_fingerprint(v) != fp);
	v->dnskey_count = 2;
	v->soa_serial = 11;
	assert_true(ms_local_served_fingerprint(v) != fp);
	v->soa_serial = 10;
	assert_true(ms_local_served_fingerprint(v) == fp);
	free(v);
}

static void stamp_of_a_real_file(void **state)
{
	(void)state;
	char path[] = "/tmp/ms-keys-cache-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	ms_file_stamp_t a, b, missing;
	ms_file_stamp_read(path, &a);
	assert_true(a.known);
	ms_file_stamp_read(path, &b);
	assert_true(ms_file_stamp_equal(&a, &b));
	assert_int_equal(write(fd, "x", 1), 1);
	ms_file_stamp_read(path, &b);
	assert_false(ms_file_stamp_equal(&a, &b)); /* size differs at least */
	close(fd);
	unlink(path);
	ms_file_stamp_read(path, &missing);
	assert_false(missing.known);
	assert_false(ms_file_stamp_equal(&missing, &missing));
}

static void material_kept_for_the_same_key_only(void **state)
{
	(void)state;
	ms_local_key_t keys[1];
	memset(keys, 0, sizeof(keys));
	snprintf(keys[0].id, sizeof(keys[0].id), "%040d", 1);
	keys[0].role = MS_ROLE_ZSK;
	keys[0].key = (ms_dnskey_t){ .flags = 256, .protocol = 3, .algorithm = 13,
	                             .pubkey_len = 3, .pubkey = { 7, 8, 9 } };
	uint16_t tag = ms_dnskey_tag(&keys[0].key);
	ms_file_stamp_t s = stamp(5, 10);
	ms_keys_cache_t c = taken(&s, &s, keys, 1);
	const ms_dnskey_t *k = ms_keys_cache_material(&c, keys[0].id, tag, 13, MS_ROLE_ZSK);
	assert_non_null(k);
	assert_true(ms_dnskey_equal(k, &keys[0].key));
	/* Another tag (revoked: other flags), algorithm, role or id: read it again. */
	assert_null(ms_keys_cache_material(&c, keys[0].id, (uint16_t)(tag + 1), 13, MS_ROLE_ZSK));
	assert_null(ms_keys_cache_material(&c, keys[0].id, tag, 8, MS_ROLE_ZSK));
	assert_null(ms_keys_cache_material(&c, keys[0].id, tag, 13, MS_ROLE_KSK));
	assert_null(ms_keys_cache_material(&c, "0000000000000000000000000000000000000002", tag, 13,
	                                   MS_ROLE_ZSK));
	/* Our own writes: list again, but the material stays usable. */
	ms_keys_cache_invalidate(&c);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 200, 1100, AGE), MS_KEYS_RELIST);
	assert_non_null(ms_keys_cache_material(&c, keys[0].id, tag, 13, MS_ROLE_ZSK));
	ms_keys_cache_clear(&c);
	assert_null(ms_keys_cache_material(&c, keys[0].id, tag, 13, MS_ROLE_ZSK));
	assert_null(ms_keys_cache_material(NULL, keys[0].id, tag, 13, MS_ROLE_ZSK));
}

/* Keys we imported: their record is known without keymgr, and learning
 * them never makes a listing reusable. */
static void imported_keys_are_learnt(void **state)
{
	(void)state;
	ms_keys_cache_t c = { 0 };
	ms_dnskey_t zsk = { .flags = 256, .protocol = 3, .algorithm = 13, .pubkey_len = 3,
	                    .pubkey = { 1, 2, 3 } };
	ms_dnskey_t ksk = zsk;
	ksk.flags = 257;
	const char *zid = "00000000000000000000000000000000000000a1";
	const char *kid = "00000000000000000000000000000000000000a2";
	assert_true(ms_keys_cache_learn(&c, zid, &zsk));
	assert_true(ms_keys_cache_learn(&c, kid, &ksk));
	ms_file_stamp_t s = stamp(5, 10);
	assert_int_equal(ms_keys_cache_decide(&c, &s, 7, 200, 1100, AGE), MS_KEYS_RELIST);
	const ms_dnskey_t *k = ms_keys_cache_material(&c, zid, ms_dnskey_tag(&zsk), 13,
	                                              MS_ROLE_ZSK);
	assert_non_null(k);
	assert_true(ms_dnskey_equal(k, &zsk));
	assert_non_null(ms_keys_cache_material(&c, kid, ms_dnskey_tag(&ksk), 13, MS_ROLE_KSK));
	assert_null(ms_keys_cache_material(&c, kid, ms_dnskey_tag(&ksk), 13, MS_ROLE_ZSK));
	/* Bounded: a zone never has more keys than a listing may hold. */
	size_t learnt = c.count;
	while (ms_keys_cache_learn(&c, zid, &zsk)) {
		assert_true(++learnt <= 2 * MS_MAX_KEYS);
	}
	assert_int_equal(c.count, 2 * MS_MAX_KEYS);
	/* A valid listing is the truth: nothing is added to it. */
	ms_keys_cache_t v = taken(&s, &s, NULL, 0);
	assert_false(ms_keys_cache_learn(&v, zid, &zsk));
	ms_keys_cache_clear(&v);
	ms_keys_cache_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_cache_lists),
		cmocka_unit_test(unchanged_database_reuses_even_if_served_changed),
		cmocka_unit_test(changed_database_same_served_reuses),
		cmocka_unit_test(stamp_changed_during_read_is_not_trusted),
		cmocka_unit_test(stamp_written_in_the_last_second_is_not_trusted),
		cmocka_unit_test(unknown_stamp_relies_on_served),
		cmocka_unit_test(max_age_and_clock_going_back),
		cmocka_unit_test(a_key_timer_coming_relists),
		cmocka_unit_test(served_fingerprint_sees_key_changes),
		cmocka_unit_test(stamp_of_a_real_file),
		cmocka_unit_test(material_kept_for_the_same_key_only),
		cmocka_unit_test(imported_keys_are_learnt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
