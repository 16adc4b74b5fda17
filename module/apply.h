/*
 * Carry out a plan: the side effects of a sync pass, through two narrow
 * interfaces (Cloudflare writes, local key and NS edits) so that the order,
 * the stop-on-failure rule and dry-run are tested without a network.
 *
 * Actions run in plan order (warnings, setup, additions, deletions). After a
 * failure on a side, the rest of that side's actions are skipped for this
 * pass: a deletion never runs after an addition it depends on failed. Every
 * change made is logged as one line (the action's reason) and counted.
 * Consecutive NS additions of one TTL go to knotd together, in one zone
 * transaction: one re-signing, not one per record. Consecutive record
 * creations go to Cloudflare together, in one batch request.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cf_types.h"
#include "error.h"
#include "plan.h"
#include "zone.h"
#include "zone_state.h"

typedef struct {
	void *ctx;
	ms_rc_t (*set_dnssec)(void *ctx, bool status_active, bool multi_signer, ms_err_t *err);
	ms_rc_t (*set_multi_provider)(void *ctx, ms_err_t *err);
	/* Create; *id (cap MS_CF_ID_MAX + 1) gets the new record's id. */
	ms_rc_t (*create)(void *ctx, const ms_cf_record_t *rec, char *id, ms_err_t *err);
	/* Delete; MS_ENOTFOUND counts as done. */
	ms_rc_t (*delete)(void *ctx, const char *id, ms_err_t *err);
	/* Create n records in one request, all or none; ids[i] gets the id of
	 * recs[i]. NULL: one create() per record. */
	ms_rc_t (*create_many)(void *ctx, const ms_cf_record_t *recs, size_t n,
	                       char (*ids)[MS_CF_ID_MAX + 1], ms_err_t *err);
} ms_cf_writer_t;

typedef struct {
	void *ctx;
	ms_rc_t (*import_key)(void *ctx, const ms_dnskey_t *key, ms_err_t *err);
	ms_rc_t (*remove_key)(void *ctx, const char *key_id, ms_err_t *err);
	/* Add NS records to the apex, all or none (one zone transaction). */
	ms_rc_t (*add_ns)(void *ctx, const char *const *names, size_t count, uint32_t ttl,
	                  ms_err_t *err);
	/* Move one of our keys' publish time (rule 3 gate). */
	ms_rc_t (*hold_key)(void *ctx, const char *key_id, int64_t when, ms_err_t *err);
	/* Make knotd pick up key database changes (zone-keys-load). */
	ms_rc_t (*reload_keys)(void *ctx, ms_err_t *err);
} ms_local_editor_t;

typedef struct {
	unsigned changes;       /* made (or, in a dry run, that would be made) */
	unsigned holds;         /* of which rollover holds: no need to re-check soon */
	unsigned failures;
	ms_err_t first_error;   /* of the first failure */
} ms_apply_result_t;

/* Apply plan to the zone `zone_name` (records are created at the apex).
 * Ownership of created records and forgetting of deleted ones is recorded in
 * state. In a dry run nothing is called; each change is logged as not done. */
void ms_apply(ms_zone_t *zone, const ms_plan_t *plan, const char *marker,
              const ms_cf_writer_t *cf, const ms_local_editor_t *local,
              ms_zone_state_t *state, int64_t now, bool dry_run,
              ms_apply_result_t *result);
