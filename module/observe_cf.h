/*
 * Observe the Cloudflare side of one zone: turn the client's answers into
 * the planner's ms_cf_view_t. Anything that fails leaves view->complete
 * false (the planner then adds but never deletes); the first failure is
 * returned so the caller can log it and retry sooner.
 */
#pragma once

#include "cds.h"
#include "cf_client.h"
#include "error.h"
#include "views.h"

/* Pure mappings, unit-tested without a network. */
ms_view_zone_type_t ms_observe_cf_zone_type(const char *type);
/* The apex's NS and DNSKEY records from one list holding both types (as
 * ms_cf_list_ns_dnskey() returns them); other types are ignored. */
ms_rc_t ms_observe_cf_apex(ms_cf_view_t *view, const ms_cf_record_list_t *records,
                           ms_err_t *err);
ms_rc_t ms_observe_cf_zsks(ms_cf_view_t *view, const ms_cf_zsk_list_t *zsks, ms_err_t *err);
void ms_observe_cf_zone(ms_cf_view_t *view, const ms_cf_zone_t *zone);

/* What Cloudflare's nameservers really serve (rule 11: trust answers over
 * what the API accepted): the DNSKEYs every given server serves, and every
 * key tag seen signing the SOA. A server that does not answer serves nothing,
 * so no key is confirmed on the API's word alone; the first failure is
 * returned for the log. Sets view->served_observed. */
ms_rc_t ms_observe_cf_served(ms_cf_view_t *view, const char *zone,
                             const struct sockaddr_storage *addrs, size_t count,
                             const atomic_bool *abort, ms_err_t *err);

/* The CDS and CDNSKEY key tags one server (knotd or one of Cloudflare's
 * nameservers) serves at the zone's apex, by DNS; set is fully rewritten. */
ms_rc_t ms_observe_cds_at(const struct sockaddr_storage *addr, const char *zone,
                          const atomic_bool *abort, ms_cds_set_t *set, ms_err_t *err);

/* What a pass reuses from earlier passes: the zone object (its id, type and
 * assigned nameservers) and its DNSSEC and DNS settings change only by an
 * operator's hand or our own writes. The caller drops parts of it (see
 * ms_cf_cache_expire()); ms_observe_cf() drops all of it when the API answers
 * a zone call with an error, since that may mean the zone or its settings
 * changed. All zero: nothing known. */
typedef struct {
	bool zone_known;
	ms_cf_zone_t zone;
	bool settings_known;
	double settings_at;           /* caller's clock when they were read */
	ms_cf_dnssec_t dnssec;
	ms_cf_dns_settings_t dns_settings;
} ms_cf_cache_t;

#define MS_CF_SETTINGS_RECHECK 86400.0 /* s: once the zone is set up */

/* Pure: forget the settings once they are older than a day if DNSSEC is on
 * (active, or pending until the parent has the DS) with multi-signer and
 * multi-provider, at once otherwise (the sync is still setting the zone up,
 * every pass needs them fresh). Once set up, they change only by an
 * operator's hand or by Cloudflare moving pending to active, which only the
 * status shows; ms_observe_cf() reads them sooner when the ZSK list says
 * DNSSEC is off. The day keeps a routine check at its two reads. */
void ms_cf_cache_expire(ms_cf_cache_t *cache, double now);

/* Fill view for the zone `name`; zone_id may be NULL or "" (look up by name).
 * view is cleared first. With the cache filled, a pass costs two requests:
 * the apex's NS and DNSKEY records and Cloudflare's ZSKs; cache may be NULL
 * (everything is read). `now` stamps settings read into the cache. */
ms_rc_t ms_observe_cf(ms_cf_client_t *client, const char *name, const char *zone_id,
                      ms_cf_cache_t *cache, double now, ms_cf_view_t *view, ms_err_t *err);
