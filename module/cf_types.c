#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_names.h"
#include "cf_types.h"

void ms_cf_record_list_free(ms_cf_record_list_t *list)
{
	if (list != NULL) {
		free(list->items);
		list->items = NULL;
		list->count = 0;
	}
}

void ms_cf_zsk_list_free(ms_cf_zsk_list_t *list)
{
	if (list != NULL) {
		free(list->items);
		list->items = NULL;
		list->count = 0;
	}
}

static void record_base(ms_cf_record_t *rec, ms_cf_rrtype_t type, const char *name,
                        uint32_t ttl, const char *comment)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	snprintf(rec->type_text, sizeof(rec->type_text), "%s", ms_cf_rrtype_name(type));
	ms_cf_name_copy(rec->name, sizeof(rec->name), name);
	rec->ttl = ttl;
	if (comment != NULL) {
		rec->has_comment = true;
		snprintf(rec->comment, sizeof(rec->comment), "%s", comment);
	}
}

void ms_cf_record_dnskey(ms_cf_record_t *rec, const char *name, uint32_t ttl,
                         const ms_dnskey_t *key, const char *comment)
{
	record_base(rec, MS_CF_RR_DNSKEY, name, ttl, comment);
	rec->dnskey = *key;
}

void ms_cf_record_ns(ms_cf_record_t *rec, const char *name, uint32_t ttl,
                     const char *ns_host, const char *comment)
{
	record_base(rec, MS_CF_RR_NS, name, ttl, comment);
	ms_cf_name_copy(rec->ns_host, sizeof(rec->ns_host), ns_host);
}

const char *ms_cf_dnssec_status_name(ms_cf_dnssec_status_t s)
{
	switch (s) {
	case MS_CF_DNSSEC_ACTIVE:           return "active";
	case MS_CF_DNSSEC_PENDING:          return "pending";
	case MS_CF_DNSSEC_DISABLED:         return "disabled";
	case MS_CF_DNSSEC_PENDING_DISABLED: return "pending-disabled";
	case MS_CF_DNSSEC_ERROR:            return "error";
	case MS_CF_DNSSEC_UNKNOWN:          break;
	}
	return "unknown";
}

const char *ms_cf_zsk_state_name(ms_cf_zsk_state_t s)
{
	switch (s) {
	case MS_CF_ZSK_ACTIVE:   return "active";
	case MS_CF_ZSK_PUBLISH:  return "publish";
	case MS_CF_ZSK_EXTERNAL: return "external";
	case MS_CF_ZSK_RETIRED:  return "retired";
	case MS_CF_ZSK_REVOKED:  return "revoked";
	case MS_CF_ZSK_REMOVED:  return "removed";
	case MS_CF_ZSK_UNKNOWN:  break;
	}
	return "unknown";
}

const char *ms_cf_rrtype_name(ms_cf_rrtype_t t)
{
	switch (t) {
	case MS_CF_RR_NS:     return "NS";
	case MS_CF_RR_DNSKEY: return "DNSKEY";
	case MS_CF_RR_OTHER:  break;
	}
	return "OTHER";
}
