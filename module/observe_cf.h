/*
 * Observe the Cloudflare side of one zone: turn the client's answers into
 * the planner's ms_cf_view_t. Anything that fails leaves view->complete
 * false (the planner then adds but never deletes); the first failure is
 * returned so the caller can log it and retry sooner.
 */
#pragma once

#include "cf_client.h"
#include "error.h"
#include "views.h"

/* Pure mappings, unit-tested without a network. */
ms_view_zone_type_t ms_observe_cf_zone_type(const char *type);
ms_rc_t ms_observe_cf_records(ms_cf_view_t *view, const ms_cf_record_list_t *dnskeys,
                              const ms_cf_record_list_t *ns, ms_err_t *err);
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

/* Fill view for the zone `name`; zone_id may be NULL or "" (look up by name).
 * view is cleared first. */
ms_rc_t ms_observe_cf(ms_cf_client_t *client, const char *name, const char *zone_id,
                      ms_cf_view_t *view, ms_err_t *err);
