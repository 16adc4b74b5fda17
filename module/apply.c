#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "apply.h"

typedef enum { SIDE_NONE, SIDE_CF, SIDE_LOCAL } side_t;

static side_t side_of(ms_action_kind_t kind)
{
	switch (kind) {
	case MS_ACT_CF_SET_DNSSEC:
	case MS_ACT_CF_SET_MULTI_PROVIDER:
	case MS_ACT_CF_CREATE_DNSKEY:
	case MS_ACT_CF_CREATE_NS:
	case MS_ACT_CF_DELETE_RECORD:
		return SIDE_CF;
	case MS_ACT_LOCAL_IMPORT_KEY:
	case MS_ACT_LOCAL_ADD_NS:
	case MS_ACT_LOCAL_REMOVE_IMPORTED_KEY:
	case MS_ACT_LOCAL_HOLD_ZSK:
		return SIDE_LOCAL;
	default:
		return SIDE_NONE;
	}
}

static bool is_create(ms_action_kind_t kind)
{
	return kind == MS_ACT_CF_CREATE_DNSKEY || kind == MS_ACT_CF_CREATE_NS;
}

static void fill_record(const ms_action_t *a, const char *zone_name, const char *marker,
                        ms_cf_record_t *rec)
{
	if (a->kind == MS_ACT_CF_CREATE_DNSKEY) {
		ms_cf_record_dnskey(rec, zone_name, a->ttl, &a->key, marker);
	} else {
		ms_cf_record_ns(rec, zone_name, a->ttl, a->name, marker);
	}
}

/* Ours from now on, before the next pass: not only by the comment. */
static ms_rc_t own_created(const ms_action_t *a, const char *id, ms_zone_state_t *state,
                           int64_t now, ms_err_t *err)
{
	return a->kind == MS_ACT_CF_CREATE_DNSKEY
	       ? ms_zone_state_own_dnskey(state, id, &a->key, now, err)
	       : ms_zone_state_own_ns(state, id, a->name, now, err);
}

static ms_rc_t create_record(const ms_action_t *a, const char *zone_name, const char *marker,
                             const ms_cf_writer_t *cf, ms_zone_state_t *state, int64_t now,
                             ms_err_t *err)
{
	ms_cf_record_t rec;
	fill_record(a, zone_name, marker, &rec);
	char id[MS_CF_ID_MAX + 1] = "";
	ms_rc_t rc = cf->create(cf->ctx, &rec, id, err);
	return rc == MS_OK ? own_created(a, id, state, now, err) : rc;
}

/* n > 1 record creations in one request (cf->create_many), all or none. */
static ms_rc_t create_records(const ms_action_t *a, size_t n, const char *zone_name,
                              const char *marker, const ms_cf_writer_t *cf,
                              ms_zone_state_t *state, int64_t now, ms_err_t *err)
{
	ms_cf_record_t *recs = calloc(n, sizeof(*recs));
	char (*ids)[MS_CF_ID_MAX + 1] = calloc(n, sizeof(*ids));
	ms_rc_t rc = (recs != NULL && ids != NULL) ? MS_OK
	             : ms_err_set(err, MS_ENOMEM, "out of memory");
	for (size_t i = 0; rc == MS_OK && i < n; i++) {
		fill_record(&a[i], zone_name, marker, &recs[i]);
	}
	if (rc == MS_OK) {
		rc = cf->create_many(cf->ctx, recs, n, ids, err);
	}
	for (size_t i = 0; rc == MS_OK && i < n; i++) {
		rc = own_created(&a[i], ids[i], state, now, err);
	}
	free(recs);
	free(ids);
	return rc;
}

static ms_rc_t run_cf(const ms_action_t *a, const char *zone_name, const char *marker,
                      const ms_cf_writer_t *cf, ms_zone_state_t *state, int64_t now,
                      ms_err_t *err)
{
	switch (a->kind) {
	case MS_ACT_CF_SET_DNSSEC:
		return cf->set_dnssec(cf->ctx, a->set_status_active, a->set_multi_signer, err);
	case MS_ACT_CF_SET_MULTI_PROVIDER:
		return cf->set_multi_provider(cf->ctx, err);
	case MS_ACT_CF_CREATE_DNSKEY:
	case MS_ACT_CF_CREATE_NS:
		return create_record(a, zone_name, marker, cf, state, now, err);
	case MS_ACT_CF_DELETE_RECORD: {
		ms_rc_t rc = cf->delete(cf->ctx, a->record_id, err);
		if (rc == MS_ENOTFOUND) {
			rc = MS_OK; /* already gone: what we wanted */
		}
		if (rc == MS_OK) {
			ms_zone_state_forget_record(state, a->record_id);
		}
		return rc;
	}
	default:
		return ms_err_set(err, MS_EINVAL, "not a Cloudflare action");
	}
}

static ms_rc_t run_local(const ms_action_t *a, const ms_local_editor_t *local,
                         bool *keys_changed, ms_err_t *err)
{
	switch (a->kind) {
	case MS_ACT_LOCAL_IMPORT_KEY:
		*keys_changed = true;
		return a->key_in_keydb ? MS_OK : local->import_key(local->ctx, &a->key, err);
	case MS_ACT_LOCAL_REMOVE_IMPORTED_KEY:
		*keys_changed = true;
		return local->remove_key(local->ctx, a->key_id, err);
	case MS_ACT_LOCAL_HOLD_ZSK:
		*keys_changed = true;
		return local->hold_key(local->ctx, a->key_id, a->when, err);
	default:
		return ms_err_set(err, MS_EINVAL, "not a local action");
	}
}

/* How many actions from a on are NS additions of a's TTL (one knotd
 * transaction; left is at most MS_PLAN_MAX_ACTIONS). */
static size_t ns_batch_len(const ms_action_t *a, size_t left)
{
	size_t n = 1;
	while (n < left && a[n].kind == MS_ACT_LOCAL_ADD_NS && a[n].ttl == a[0].ttl) {
		n++;
	}
	return n;
}

/* How many actions from a on are record creations at Cloudflare, to go in
 * one batch request when the writer can send one. */
static size_t create_batch_len(const ms_action_t *a, size_t left, const ms_cf_writer_t *cf)
{
	size_t n = 1;
	while (cf->create_many != NULL && n < left && n < MS_CF_BATCH_MAX && is_create(a[n].kind)) {
		n++;
	}
	return n;
}

static ms_rc_t run_ns_batch(const ms_action_t *a, size_t n, const ms_local_editor_t *local,
                            ms_err_t *err)
{
	const char *names[MS_PLAN_MAX_ACTIONS];
	for (size_t i = 0; i < n; i++) {
		names[i] = a[i].name;
	}
	return local->add_ns(local->ctx, names, n, a[0].ttl, err);
}

static void note_failure(ms_zone_t *zone, const ms_action_t *a, const ms_err_t *err,
                         ms_apply_result_t *result)
{
	if (result->failures++ == 0) {
		result->first_error = *err;
	}
	ms_zone_log(zone, LOG_ERR, "failed: %s: %s; the rest of this side waits for the next "
	            "pass", a->reason, err->msg);
}

static void note_done(ms_zone_t *zone, const ms_action_t *a, ms_apply_result_t *result)
{
	ms_zone_log(zone, LOG_INFO, "%s", a->reason);
	ms_zone_count(zone, MS_CTR_CHANGES, 1);
	result->changes++;
	result->holds += (a->kind == MS_ACT_LOCAL_HOLD_ZSK);
}

void ms_apply(ms_zone_t *zone, const ms_plan_t *plan, const char *marker,
              const ms_cf_writer_t *cf, const ms_local_editor_t *local,
              ms_zone_state_t *state, int64_t now, bool dry_run,
              ms_apply_result_t *result)
{
	memset(result, 0, sizeof(*result));
	bool cf_failed = false, local_failed = false, keys_changed = false;
	for (size_t i = 0; i < plan->count; i++) {
		const ms_action_t *a = &plan->actions[i];
		side_t side = side_of(a->kind);
		if (side == SIDE_NONE || (side == SIDE_CF ? cf_failed : local_failed)) {
			continue;
		}
		if (dry_run) {
			ms_zone_log(zone, LOG_NOTICE, "dry run, not done: %s", a->reason);
			result->changes++;
			continue;
		}
		ms_err_t err = { 0 };
		size_t batch = 1;
		ms_rc_t rc;
		if (side == SIDE_CF && is_create(a->kind)) {
			batch = create_batch_len(a, plan->count - i, cf);
			rc = batch > 1 ? create_records(a, batch, zone->name, marker, cf, state, now, &err)
			               : run_cf(a, zone->name, marker, cf, state, now, &err);
		} else if (side == SIDE_CF) {
			rc = run_cf(a, zone->name, marker, cf, state, now, &err);
		} else if (a->kind == MS_ACT_LOCAL_ADD_NS) {
			batch = ns_batch_len(a, plan->count - i);
			rc = run_ns_batch(a, batch, local, &err);
		} else {
			rc = run_local(a, local, &keys_changed, &err);
		}
		i += batch - 1;
		if (rc != MS_OK) {
			note_failure(zone, a, &err, result);
			*(side == SIDE_CF ? &cf_failed : &local_failed) = true;
			continue;
		}
		for (size_t k = 0; k < batch; k++) {
			note_done(zone, &a[k], result);
		}
	}
	if (keys_changed && !dry_run) {
		ms_err_t err = { 0 };
		if (local->reload_keys(local->ctx, &err) != MS_OK) {
			if (result->failures++ == 0) {
				result->first_error = err;
			}
			ms_zone_log(zone, LOG_ERR, "failed to make knotd load the changed keys: %s; "
			            "run 'knotc zone-keys-load %s' if this persists", err.msg, zone->name);
		}
	}
}
