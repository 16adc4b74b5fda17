#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keymgr.h"
#include "keys_cache.h"
#include "local_dns.h"
#include "observe_local.h"

/* Used for the hold time when the policy does not say (zone-max-ttl unset):
 * longer than needed is safe, shorter is not. */
#define UNKNOWN_MAX_TTL 86400

static ms_rc_t too_many(ms_err_t *err, const char *what, size_t n, size_t cap)
{
	return ms_err_set(err, MS_ETOOBIG, "knotd serves %zu %s, more than the %zu this module "
	                  "handles", n, what, cap);
}

static ms_rc_t copy_served(const ms_local_zone_t *z, ms_local_view_t *view, ms_err_t *err)
{
	if (z->dnskey_count > MS_MAX_KEYS) {
		return too_many(err, "DNSKEY records", z->dnskey_count, MS_MAX_KEYS);
	}
	if (z->ns_count > MS_MAX_NS) {
		return too_many(err, "apex NS records", z->ns_count, MS_MAX_NS);
	}
	size_t sigs = z->soa_sig_count < MS_MAX_KEYS ? z->soa_sig_count : MS_MAX_KEYS;
	view->soa_serial = z->soa_serial;
	view->soa_refresh = z->soa_refresh;
	memcpy(view->dnskeys, z->dnskeys, z->dnskey_count * sizeof(z->dnskeys[0]));
	view->dnskey_count = z->dnskey_count;
	view->dnskey_ttl = z->dnskey_ttl;
	memcpy(view->signing_tags, z->soa_sig_tags, sigs * sizeof(z->soa_sig_tags[0]));
	view->signing_tag_count = sigs;
	for (size_t i = 0; i < z->ns_count; i++) {
		snprintf(view->ns[i], sizeof(view->ns[i]), "%s", z->ns[i]);
	}
	view->ns_count = z->ns_count;
	view->ns_ttl = z->ns_ttl;
	return MS_OK;
}

static ms_key_role_t role_of(const ms_keymgr_key_t *k)
{
	if (k->ksk && k->zsk) {
		return MS_ROLE_CSK;
	}
	return k->ksk ? MS_ROLE_KSK : MS_ROLE_ZSK;
}

static ms_rc_t copy_keys(const ms_keymgr_keys_t *keys, ms_local_view_t *view, ms_err_t *err)
{
	if (keys->count > MS_MAX_KEYS) {
		return ms_err_set(err, MS_ETOOBIG, "the key database holds %zu keys for the zone, "
		                  "more than the %d this module handles", keys->count, MS_MAX_KEYS);
	}
	for (size_t i = 0; i < keys->count; i++) {
		const ms_keymgr_key_t *k = &keys->keys[i];
		ms_local_key_t *v = &view->keys[i];
		snprintf(v->id, sizeof(v->id), "%s", k->id);
		v->key = k->dnskey;
		v->role = role_of(k);
		v->public_only = k->public_only;
		v->publish = k->publish;
		v->active = k->active;
		v->retire = k->retire;
		v->remove = k->remove;
	}
	view->key_count = keys->count;
	return MS_OK;
}

static ms_rc_t observe_served(ms_zone_t *zone, ms_local_view_t *view, ms_err_t *err)
{
	ms_local_dns_target_t target;
	ms_rc_t rc = ms_local_dns_target_from_sockaddr(&target,
	                                               (const struct sockaddr *)&zone->env.listen,
	                                               err);
	if (rc != MS_OK) {
		return ms_err_prefix(err, "knotd's listen address");
	}
	target.abort = &zone->abort;
	ms_local_zone_t *served = calloc(1, sizeof(*served));
	if (served == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	rc = ms_local_dns_read(&target, zone->name, served, err);
	if (rc == MS_OK) {
		rc = copy_served(served, view, err);
	} else {
		ms_err_prefix(err, "querying knotd for the zone");
	}
	free(served);
	return rc;
}

/* keymgr list, and keymgr dnskey for the keys whose record the cache lacks. */
static ms_rc_t list_keys(ms_zone_t *zone, const ms_keys_cache_t *cache, ms_local_view_t *view,
                         ms_err_t *err)
{
	ms_keymgr_ctx_t ctx = {
		.kasp_db = zone->env.kasp_db,
		.tmp_dir = zone->env.state_dir,
		.abort = &zone->abort,
	};
	ms_keymgr_keys_t *keys = calloc(1, sizeof(*keys));
	if (keys == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t rc = ms_keymgr_list(&ctx, zone->name, false, keys, err);
	if (rc == MS_ENOTFOUND) {
		rc = MS_OK; /* no keys yet: knotd has not signed the zone */
		keys->count = 0;
	}
	for (size_t i = 0; rc == MS_OK && i < keys->count; i++) {
		ms_keymgr_key_t *k = &keys->keys[i];
		const ms_dnskey_t *known = ms_keys_cache_material(cache, k->id, k->tag, k->algorithm,
		                                                  role_of(k));
		if (known != NULL) {
			k->dnskey = *known;
			k->has_dnskey = true;
		} else {
			rc = ms_keymgr_fill_dnskey(&ctx, zone->name, k, err);
		}
	}
	if (rc == MS_OK) {
		rc = copy_keys(keys, view, err);
	}
	free(keys);
	return rc;
}

/* The key listing, from the cache when it cannot have changed (keys_cache.h). */
static ms_rc_t observe_keys(ms_zone_t *zone, ms_keys_cache_t *cache, double now,
                            ms_local_view_t *view, ms_err_t *err)
{
	if (cache == NULL || !ms_path_known(zone->env.kasp_db)) {
		return list_keys(zone, NULL, view, err);
	}
	char db[MS_PATH_MAX + 16];
	snprintf(db, sizeof(db), "%s/data.mdb", zone->env.kasp_db);
	int64_t wall = (int64_t)time(NULL);
	uint64_t served = ms_local_served_fingerprint(view);
	ms_file_stamp_t before, after;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t before_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	ms_file_stamp_read(db, &before);
	if (ms_keys_cache_decide(cache, &before, served, now, wall, MS_KEYS_CACHE_MAX_AGE)
	    != MS_KEYS_RELIST) {
		memcpy(view->keys, cache->keys, cache->count * sizeof(view->keys[0]));
		view->key_count = cache->count;
		return MS_OK;
	}
	ms_rc_t rc = list_keys(zone, cache, view, err);
	ms_file_stamp_read(db, &after);
	if (rc != MS_OK ||
	    !ms_keys_cache_store(cache, view->keys, view->key_count, &before, &after, before_ns,
	                         served, now, wall)) {
		ms_keys_cache_clear(cache);
	}
	return rc;
}

ms_rc_t ms_observe_local(ms_zone_t *zone, ms_keys_cache_t *cache, double now,
                         ms_local_view_t *view, ms_err_t *err)
{
	memset(view, 0, sizeof(*view));
	view->ns_editable = !zone->env.secondary;
	view->max_ttl = zone->env.zone_max_ttl ? zone->env.zone_max_ttl : UNKNOWN_MAX_TTL;
	ms_rc_t rc = observe_served(zone, view, err);
	if (rc == MS_OK) {
		rc = observe_keys(zone, cache, now, view, err);
	}
	view->complete = (rc == MS_OK);
	return rc;
}

uint64_t ms_local_view_fingerprint(const ms_local_view_t *view)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a over what we sync */
#define MIX(p, n) for (size_t i_ = 0; i_ < (n); i_++) { h = (h ^ ((const uint8_t *)(p))[i_]) * 1099511628211ull; }
	MIX(&view->soa_serial, sizeof(view->soa_serial));
	for (size_t i = 0; i < view->dnskey_count; i++) {
		uint16_t tag = ms_dnskey_tag(&view->dnskeys[i]);
		MIX(&tag, sizeof(tag));
	}
	for (size_t i = 0; i < view->ns_count; i++) {
		MIX(view->ns[i], strlen(view->ns[i]));
	}
	for (size_t i = 0; i < view->key_count; i++) {
		MIX(&view->keys[i].publish, sizeof(view->keys[i].publish));
		MIX(&view->keys[i].active, sizeof(view->keys[i].active));
	}
#undef MIX
	return h;
}
