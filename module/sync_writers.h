/*
 * The real implementations of apply.h's two interfaces: Cloudflare writes
 * through the API client, local edits through keymgr and knotc. All waits
 * honour the zone's abort flag.
 */
#pragma once

#include "apply.h"
#include "cf_client.h"
#include "keymgr.h"
#include "zone.h"

#define MS_SYNC_IMPORTS_MAX 4  /* remembered per pass; more are imported, not remembered */

typedef struct {
	ms_cf_writer_t cf;
	ms_local_editor_t local;
	/* what the callbacks need */
	ms_zone_t *zone;
	ms_cf_client_t *client;
	const char *zone_id;
	ms_keymgr_ctx_t keymgr;
	ms_knotc_ctx_t knotc;
	bool keys_written;          /* a key import, delete or hold was tried */
	/* The keys imported, with the id keymgr gave them (for the key cache). */
	struct {
		char id[MS_KEYMGR_ID_LEN + 1];
		ms_dnskey_t key;
	} imported[MS_SYNC_IMPORTS_MAX];
	size_t imported_count;
	/* What Cloudflare answered to our settings writes: the settings as they
	 * are now, so the next pass need not read them again. */
	bool dnssec_written, dnssec_answered;
	ms_cf_dnssec_t dnssec;
	bool dns_written, dns_answered;
	ms_cf_dns_settings_t dns_settings;
} ms_sync_writers_t;

void ms_sync_writers_init(ms_sync_writers_t *w, ms_zone_t *zone, ms_cf_client_t *client,
                          const char *zone_id);
