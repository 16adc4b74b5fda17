#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local_dns.h"
#include "observe_cf.h"

ms_view_zone_type_t ms_observe_cf_zone_type(const char *type)
{
	if (type == NULL || type[0] == '\0') {
		return MS_VIEW_ZONE_UNKNOWN;
	}
	if (strcmp(type, "full") == 0) {
		return MS_VIEW_ZONE_FULL;
	}
	if (strcmp(type, "partial") == 0) {
		return MS_VIEW_ZONE_PARTIAL;
	}
	if (strcmp(type, "secondary") == 0) {
		return MS_VIEW_ZONE_SECONDARY;
	}
	return MS_VIEW_ZONE_OTHER;
}

void ms_observe_cf_zone(ms_cf_view_t *view, const ms_cf_zone_t *zone)
{
	snprintf(view->zone_id, sizeof(view->zone_id), "%s", zone->id);
	view->type = ms_observe_cf_zone_type(zone->type);
	size_t n = zone->name_server_count < MS_MAX_NS ? zone->name_server_count : MS_MAX_NS;
	for (size_t i = 0; i < n; i++) {
		snprintf(view->name_servers[i], sizeof(view->name_servers[i]), "%s",
		         zone->name_servers[i]);
	}
	view->name_server_count = n;
}

static ms_rc_t too_many(ms_err_t *err, const char *what, size_t n, size_t cap)
{
	return ms_err_set(err, MS_ETOOBIG, "Cloudflare lists %zu %s, more than the %zu this "
	                  "module handles: remove the extra ones", n, what, cap);
}

static void add_dnskey(ms_cf_view_t *view, const ms_cf_record_t *r)
{
	ms_cf_view_dnskey_t *v = &view->dnskeys[view->dnskey_count++];
	snprintf(v->id, sizeof(v->id), "%s", r->id);
	v->key = r->dnskey;
	v->ttl = r->ttl;
	snprintf(v->comment, sizeof(v->comment), "%s", r->has_comment ? r->comment : "");
}

static void add_ns(ms_cf_view_t *view, const ms_cf_record_t *r)
{
	ms_cf_view_ns_t *v = &view->ns[view->ns_count++];
	snprintf(v->id, sizeof(v->id), "%s", r->id);
	snprintf(v->name, sizeof(v->name), "%s", r->ns_host);
	v->ttl = r->ttl;
	snprintf(v->comment, sizeof(v->comment), "%s", r->has_comment ? r->comment : "");
}

ms_rc_t ms_observe_cf_apex(ms_cf_view_t *view, const ms_cf_record_list_t *records,
                           ms_err_t *err)
{
	size_t dnskeys = 0, ns = 0;
	for (size_t i = 0; i < records->count; i++) {
		dnskeys += records->items[i].type == MS_CF_RR_DNSKEY;
		ns += records->items[i].type == MS_CF_RR_NS;
	}
	if (dnskeys > MS_MAX_RECORDS) {
		return too_many(err, "apex DNSKEY records", dnskeys, MS_MAX_RECORDS);
	}
	if (ns > MS_MAX_RECORDS) {
		return too_many(err, "apex NS records", ns, MS_MAX_RECORDS);
	}
	view->dnskey_count = 0;
	view->ns_count = 0;
	for (size_t i = 0; i < records->count; i++) {
		const ms_cf_record_t *r = &records->items[i];
		if (r->type == MS_CF_RR_DNSKEY) {
			add_dnskey(view, r);
		} else if (r->type == MS_CF_RR_NS) {
			add_ns(view, r);
		}
	}
	return MS_OK;
}

ms_rc_t ms_observe_cf_zsks(ms_cf_view_t *view, const ms_cf_zsk_list_t *zsks, ms_err_t *err)
{
	if (zsks->count > MS_MAX_KEYS) {
		return too_many(err, "ZSKs", zsks->count, MS_MAX_KEYS);
	}
	if (zsks->count > 0) { /* items is NULL then, and memcpy(_, NULL, 0) is undefined */
		memcpy(view->zsks, zsks->items, zsks->count * sizeof(zsks->items[0]));
	}
	view->zsk_count = zsks->count;
	return MS_OK;
}

static ms_rc_t observe_zone(ms_cf_client_t *c, const char *name, const char *zone_id,
                            ms_cf_cache_t *cache, ms_cf_view_t *view, ms_err_t *err)
{
	ms_rc_t rc = MS_OK;
	if (!cache->zone_known) {
		rc = (zone_id != NULL && zone_id[0] != '\0')
		     ? ms_cf_get_zone(c, zone_id, &cache->zone, err)
		     : ms_cf_find_zone(c, name, &cache->zone, err);
		cache->zone_known = (rc == MS_OK);
	}
	if (rc == MS_OK) {
		ms_observe_cf_zone(view, &cache->zone);
	}
	return rc;
}

static ms_rc_t read_settings(ms_cf_client_t *c, const char *zone_id, ms_cf_cache_t *cache,
                             double now, ms_err_t *err)
{
	ms_rc_t rc = ms_cf_get_dnssec(c, zone_id, &cache->dnssec, err);
	if (rc == MS_OK) {
		rc = ms_cf_get_dns_settings(c, zone_id, &cache->dns_settings, err);
	}
	cache->settings_known = (rc == MS_OK);
	cache->settings_at = now;
	return rc;
}

static ms_rc_t observe_settings(ms_cf_client_t *c, ms_cf_cache_t *cache, double now,
                                ms_cf_view_t *view, ms_err_t *err)
{
	ms_rc_t rc = cache->settings_known ? MS_OK
	             : read_settings(c, view->zone_id, cache, now, err);
	if (rc == MS_OK) {
		view->dnssec_status = cache->dnssec.status;
		view->dnssec_multi_signer = cache->dnssec.multi_signer;
		view->dnssec_algorithm = cache->dnssec.algorithm;
		view->has_ksk = cache->dnssec.has_ksk;
		view->ksk = cache->dnssec.ksk;
		view->ksk_ds_tag = cache->dnssec.key_tag;
		view->ksk_ds_digest_type = cache->dnssec.digest_type;
		snprintf(view->ksk_ds_digest, sizeof(view->ksk_ds_digest), "%s",
		         cache->dnssec.digest);
		view->multi_provider = cache->dns_settings.multi_provider;
		view->ns_ttl = cache->dns_settings.ns_ttl;
	}
	return rc;
}

static ms_rc_t observe_records(ms_cf_client_t *c, const char *name, ms_cf_view_t *view,
                               ms_err_t *err)
{
	ms_cf_record_list_t records = { 0 };
	ms_rc_t rc = ms_cf_list_ns_dnskey(c, view->zone_id, name, &records, err);
	if (rc == MS_OK) {
		rc = ms_observe_cf_apex(view, &records, err);
	}
	ms_cf_record_list_free(&records);
	return rc;
}

static ms_rc_t observe_zsks(ms_cf_client_t *c, ms_cf_view_t *view, ms_err_t *err)
{
	ms_cf_zsk_list_t zsks = { 0 };
	ms_rc_t rc = ms_cf_list_zsks(c, view->zone_id, &zsks, err);
	if (rc == MS_OK) {
		rc = ms_observe_cf_zsks(view, &zsks, err);
	}
	ms_cf_zsk_list_free(&zsks);
	return rc;
}

void ms_cf_cache_expire(ms_cf_cache_t *cache, double now)
{
	if (!cache->settings_known) {
		return;
	}
	bool set_up = ms_cf_dnssec_enabled(cache->dnssec.status) && cache->dnssec.multi_signer &&
	              cache->dns_settings.multi_provider;
	double keep = set_up ? MS_CF_SETTINGS_RECHECK : 0;
	if (!(now >= cache->settings_at && now - cache->settings_at < keep)) {
		cache->settings_known = false;
	}
}

/* Cloudflare lists no ZSK it serves though the cached settings say it
 * signs: DNSSEC was probably turned off by hand since they were read. */
static bool zsks_contradict_settings(const ms_cf_cache_t *cache, const ms_cf_view_t *view)
{
	if (!ms_cf_dnssec_enabled(cache->dnssec.status)) {
		return false;
	}
	for (size_t i = 0; i < view->zsk_count; i++) {
		if (ms_cf_zsk_served(&view->zsks[i])) {
			return false;
		}
	}
	return true;
}

ms_rc_t ms_observe_cf(ms_cf_client_t *client, const char *name, const char *zone_id,
                      ms_cf_cache_t *cache, double now, ms_cf_view_t *view, ms_err_t *err)
{
	ms_cf_cache_t none = { 0 };
	ms_cf_cache_t *cc = cache != NULL ? cache : &none;
	ms_err_t e = { 0 };
	memset(view, 0, sizeof(*view));
	ms_rc_t rc = observe_zone(client, name, zone_id, cc, view, &e);
	bool settings_cached = cc->settings_known;
	if (rc == MS_OK) {
		rc = observe_settings(client, cc, now, view, &e);
	}
	if (rc == MS_OK) {
		rc = observe_records(client, name, view, &e);
	}
	if (rc == MS_OK) {
		rc = observe_zsks(client, view, &e);
	}
	if (rc == MS_OK && settings_cached && zsks_contradict_settings(cc, view)) {
		cc->settings_known = false;
		rc = observe_settings(client, cc, now, view, &e);
	}
	if (rc != MS_OK && e.http_status >= 400 && e.http_status < 500 && e.http_status != 429) {
		/* The API refused a zone call: the zone may be gone, moved or
		 * reconfigured (a 429 or a server error says nothing of that). */
		cc->zone_known = false;
		cc->settings_known = false;
	}
	if (rc != MS_OK && err != NULL) {
		*err = e;
	}
	view->complete = (rc == MS_OK);
	return rc;
}

/* ---- what Cloudflare's nameservers serve ---------------------------------------- */

static bool has_key(const ms_dnskey_t *keys, size_t n, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < n; i++) {
		if (ms_dnskey_equal(&keys[i], key)) {
			return true;
		}
	}
	return false;
}

/* Keep only the keys this server serves too. */
static void intersect(ms_cf_view_t *view, const ms_local_zone_t *served)
{
	size_t kept = 0;
	for (size_t i = 0; i < view->served_dnskey_count; i++) {
		if (has_key(served->dnskeys, served->dnskey_count, &view->served_dnskeys[i])) {
			view->served_dnskeys[kept++] = view->served_dnskeys[i];
		}
	}
	view->served_dnskey_count = kept;
}

static void add_signers(ms_cf_view_t *view, const ms_local_zone_t *served)
{
	for (size_t i = 0; i < served->soa_sig_count; i++) {
		bool known = false;
		for (size_t j = 0; j < view->signing_tag_count; j++) {
			known |= view->signing_tags[j] == served->soa_sig_tags[i];
		}
		if (!known && view->signing_tag_count < MS_MAX_KEYS) {
			view->signing_tags[view->signing_tag_count++] = served->soa_sig_tags[i];
		}
	}
}

static ms_rc_t ask_server(const struct sockaddr_storage *addr, const char *zone,
                          const atomic_bool *abort, ms_local_zone_t *served, ms_err_t *err)
{
	ms_local_dns_target_t target;
	ms_rc_t rc = ms_local_dns_target_from_sockaddr(&target, (const struct sockaddr *)addr, err);
	if (rc == MS_OK) {
		target.abort = abort;
		rc = ms_local_dns_read(&target, zone, served, err);
	}
	return rc;
}

static void copy_served(ms_cf_view_t *view, const ms_local_zone_t *served)
{
	size_t n = served->dnskey_count < MS_MAX_KEYS ? served->dnskey_count : MS_MAX_KEYS;
	memcpy(view->served_dnskeys, served->dnskeys, n * sizeof(served->dnskeys[0]));
	view->served_dnskey_count = n;
}

ms_rc_t ms_observe_cf_served(ms_cf_view_t *view, const char *zone,
                             const struct sockaddr_storage *addrs, size_t count,
                             const atomic_bool *abort, ms_err_t *err)
{
	view->served_observed = true;
	view->served_dnskey_count = 0;
	view->signing_tag_count = 0;
	ms_local_zone_t *served = calloc(1, sizeof(*served));
	if (served == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t first_failure = MS_OK;
	bool first_answer = true;
	for (size_t i = 0; i < count; i++) {
		ms_err_t e = { 0 };
		ms_rc_t rc = ask_server(&addrs[i], zone, abort, served, &e);
		if (rc != MS_OK) {
			if (first_failure == MS_OK) {
				first_failure = ms_err_set(err, rc, "asking Cloudflare's nameserver #%zu "
				                           "what it serves: %s", i + 1, e.msg);
			}
			continue;
		}
		if (first_answer) {
			copy_served(view, served);
			first_answer = false;
		} else {
			intersect(view, served);
		}
		add_signers(view, served);
	}
	if (first_failure != MS_OK) {
		view->served_dnskey_count = 0; /* not confirmed on every server: nowhere */
	}
	free(served);
	return first_failure;
}

ms_rc_t ms_observe_cds_at(const struct sockaddr_storage *addr, const char *zone,
                          const atomic_bool *abort, ms_cds_set_t *set, ms_err_t *err)
{
	memset(set, 0, sizeof(*set));
	ms_local_dns_target_t target;
	ms_rc_t rc = ms_local_dns_target_from_sockaddr(&target, (const struct sockaddr *)addr, err);
	if (rc != MS_OK) {
		return rc;
	}
	target.abort = abort;
	ms_local_zone_t *served = calloc(1, sizeof(*served));
	if (served == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	rc = ms_local_dns_read_cds(&target, zone, served, err);
	for (size_t i = 0; rc == MS_OK && i < served->cds_count; i++) {
		if (!ms_cds_add_tag(set->cds, &set->cds_count, served->cds_tags[i])) {
			rc = ms_err_set(err, MS_ETOOBIG, "more than %d CDS records", MS_CDS_MAX_TAGS);
		}
	}
	for (size_t i = 0; rc == MS_OK && i < served->cdnskey_count; i++) {
		if (!ms_cds_add_tag(set->cdnskey, &set->cdnskey_count, served->cdnskey_tags[i])) {
			rc = ms_err_set(err, MS_ETOOBIG, "more than %d CDNSKEY records", MS_CDS_MAX_TAGS);
		}
	}
	free(served);
	return rc;
}
