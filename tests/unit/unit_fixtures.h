/*
 * Fixture builders shared by the unit tests: keys from base64, local and
 * Cloudflare views, a flag set from another thread after a delay. Include
 * after <cmocka.h>. Header-only (static inline), so that a test uses what
 * it needs without unused-function warnings.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "dnskey.h"
#include "views.h"

/* A DNSKEY (protocol 3) from its base64 public key; the test fails when
 * it does not parse. */
static inline ms_dnskey_t fx_key(uint16_t flags, long alg, const char *b64)
{
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_b64(flags, 3, alg, b64, &k, NULL), MS_OK);
	return k;
}

/* Empty views (large: the caller keeps them static). */
static inline void fx_views_clear(ms_local_view_t *local, ms_cf_view_t *cf)
{
	memset(local, 0, sizeof(*local));
	memset(cf, 0, sizeof(*cf));
}

/* Append key to the local key database (what keymgr lists). */
static inline void fx_local_key(ms_local_view_t *local, ms_dnskey_t key, ms_key_role_t role,
                                bool public_only)
{
	assert_true(local->key_count < MS_MAX_KEYS);
	ms_local_key_t *k = &local->keys[local->key_count++];
	k->key = key;
	k->role = role;
	k->public_only = public_only;
}

/* Append key to the DNSKEY RRset knotd serves. */
static inline void fx_local_serve(ms_local_view_t *local, ms_dnskey_t key)
{
	assert_true(local->dnskey_count < MS_MAX_KEYS);
	local->dnskeys[local->dnskey_count++] = key;
}

/* Seconds on the monotonic clock. */
static inline double fx_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* *flag becomes true after_ms milliseconds after fx_flag_later_start(),
 * set by another thread; fx_flag_later_join() waits for that thread. */
typedef struct {
	atomic_bool *flag;
	int after_ms;
	pthread_t thread;
} fx_flag_later_t;

static inline void *fx_flag_later_run(void *arg)
{
	fx_flag_later_t *l = arg;
	struct timespec ts = { l->after_ms / 1000, (long)(l->after_ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(l->flag, true);
	return NULL;
}

static inline void fx_flag_later_start(fx_flag_later_t *l, atomic_bool *flag, int after_ms)
{
	l->flag = flag;
	l->after_ms = after_ms;
	assert_int_equal(pthread_create(&l->thread, NULL, fx_flag_later_run, l), 0);
}

static inline void fx_flag_later_join(fx_flag_later_t *l)
{
	pthread_join(l->thread, NULL);
}
