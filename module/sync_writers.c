#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"
#include "sync_writers.h"

/* ---- Cloudflare ---------------------------------------------------------------- */

static ms_rc_t cf_set_dnssec(void *ctx, bool status_active, bool multi_signer, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	ms_cf_dnssec_patch_t patch = {
		.status = status_active ? MS_CF_DNSSEC_ACTIVE : MS_CF_DNSSEC_UNKNOWN,
		.multi_signer = multi_signer ? MS_CF_SET_TRUE : MS_CF_KEEP,
	};
	w->dnssec_written = true;
	ms_rc_t rc = ms_cf_patch_dnssec(w->client, w->zone_id, &patch, &w->dnssec, err);
	w->dnssec_answered = (rc == MS_OK);
	return rc;
}

static ms_rc_t cf_set_multi_provider(void *ctx, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	w->dns_written = true;
	ms_rc_t rc = ms_cf_set_multi_provider(w->client, w->zone_id, true, &w->dns_settings, err);
	w->dns_answered = (rc == MS_OK);
	return rc;
}

static ms_rc_t cf_create(void *ctx, const ms_cf_record_t *rec, char *id, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	ms_cf_record_t *created = calloc(1, sizeof(*created));
	if (created == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t rc = ms_cf_create_record(w->client, w->zone_id, rec, created, err);
	if (rc == MS_OK) {
		snprintf(id, MS_CF_ID_MAX + 1, "%s", created->id);
	}
	free(created);
	return rc;
}

/* One batch request: fewer requests against the shared budget, and the
 * records come all or none. The answer lists the created records in the
 * order of the posts; one that does not match is refused, so that no id is
 * taken as ours for another record. */
static ms_rc_t cf_create_many(void *ctx, const ms_cf_record_t *recs, size_t n,
                              char (*ids)[MS_CF_ID_MAX + 1], ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	ms_cf_batch_t batch = { .posts = recs, .post_count = n };
	ms_cf_record_list_t created = { 0 };
	ms_rc_t rc = ms_cf_batch(w->client, w->zone_id, &batch, &created, err);
	if (rc == MS_OK && created.count != n) {
		rc = ms_err_set(err, MS_EPARSE, "Cloudflare's batch answer lists %zu created "
		                "records for %zu posts", created.count, n);
	}
	for (size_t i = 0; rc == MS_OK && i < n; i++) {
		if (created.items[i].type != recs[i].type) {
			rc = ms_err_set(err, MS_EPARSE, "Cloudflare's batch answer: record %zu is not "
			                "of the type posted", i);
		} else {
			snprintf(ids[i], MS_CF_ID_MAX + 1, "%s", created.items[i].id);
		}
	}
	ms_cf_record_list_free(&created);
	return rc;
}

static ms_rc_t cf_delete(void *ctx, const char *id, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	return ms_cf_delete_record(w->client, w->zone_id, id, err);
}

/* ---- local ------------------------------------------------------------------------ */

static ms_rc_t local_import(void *ctx, const ms_dnskey_t *key, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	w->keys_written = true;
	char id[MS_KEYMGR_ID_LEN + 1];
	ms_rc_t rc = ms_keymgr_import_pub(&w->keymgr, w->zone->name, key, id, err);
	if (rc == MS_OK && w->imported_count < MS_SYNC_IMPORTS_MAX) {
		snprintf(w->imported[w->imported_count].id, sizeof(w->imported[0].id), "%s", id);
		w->imported[w->imported_count++].key = *key;
	}
	return rc;
}

static ms_rc_t local_remove(void *ctx, const char *key_id, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	w->keys_written = true;
	ms_rc_t rc = ms_keymgr_delete(&w->keymgr, w->zone->name, key_id, err);
	return rc == MS_ENOTFOUND ? MS_OK : rc;
}

static ms_rc_t local_hold(void *ctx, const char *key_id, int64_t when, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	w->keys_written = true;
	return ms_keymgr_set_publish(&w->keymgr, w->zone->name, key_id, when, err);
}

static ms_rc_t local_reload_keys(void *ctx, ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	return ms_knotc_zone_keys_load(&w->knotc, w->zone->name, err);
}

static ms_rc_t knotc(ms_sync_writers_t *w, const char *const *args, const char *label,
                     ms_err_t *err)
{
	const char *argv[12] = { MS_KNOTC_PATH, "-s", w->knotc.socket, "-t", "5" };
	size_t n = 5;
	for (size_t i = 0; args[i] != NULL && n < 11; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	ms_proc_opts_t opts = { .argv = argv, .label = label, .timeout_ms = 7000,
	                        .abort = &w->zone->abort };
	ms_proc_result_t res;
	ms_rc_t rc = ms_proc_run(&opts, &res, err);
	ms_proc_result_free(&res);
	return rc;
}

/* NS records into the apex, as one zone transaction: knotd re-signs once.
 * If anything fails after zone-begin, the transaction is aborted, so that
 * no record is added and knotd's update lock is not left held. */
static ms_rc_t local_add_ns(void *ctx, const char *const *names, size_t count, uint32_t ttl,
                            ms_err_t *err)
{
	ms_sync_writers_t *w = ctx;
	const char *zone = w->zone->name;
	char ttl_text[16], target[MS_DNAME_MAX + 2];
	snprintf(ttl_text, sizeof(ttl_text), "%u", ttl);
	const char *begin[] = { "zone-begin", zone, NULL };
	const char *set[] = { "zone-set", zone, "@", ttl_text, "NS", target, NULL };
	const char *commit[] = { "zone-commit", zone, NULL };
	const char *abort_txn[] = { "zone-abort", zone, NULL };
	ms_rc_t rc = knotc(w, begin, "knotc zone-begin", err);
	if (rc != MS_OK) {
		return rc;
	}
	for (size_t i = 0; i < count && rc == MS_OK; i++) {
		snprintf(target, sizeof(target), "%s.", names[i]);
		rc = knotc(w, set, "knotc zone-set NS", err);
	}
	if (rc == MS_OK) {
		rc = knotc(w, commit, "knotc zone-commit", err);
	}
	if (rc != MS_OK) {
		ms_err_t ignored = { 0 };
		knotc(w, abort_txn, "knotc zone-abort", &ignored);
	}
	return rc;
}

void ms_sync_writers_init(ms_sync_writers_t *w, ms_zone_t *zone, ms_cf_client_t *client,
                          const char *zone_id)
{
	memset(w, 0, sizeof(*w));
	w->zone = zone;
	w->client = client;
	w->zone_id = zone_id;
	w->keymgr = (ms_keymgr_ctx_t){ .kasp_db = zone->env.kasp_db,
	                               .tmp_dir = zone->env.state_dir,
	                               .abort = &zone->abort };
	w->knotc = (ms_knotc_ctx_t){ .socket = zone->env.control_socket, .abort = &zone->abort };
	w->cf = (ms_cf_writer_t){ .ctx = w, .set_dnssec = cf_set_dnssec,
	                          .set_multi_provider = cf_set_multi_provider,
	                          .create = cf_create, .delete = cf_delete,
	                          .create_many = cf_create_many };
	w->local = (ms_local_editor_t){ .ctx = w, .import_key = local_import,
	                                .remove_key = local_remove, .add_ns = local_add_ns,
	                                .hold_key = local_hold,
	                                .reload_keys = local_reload_keys };
}
