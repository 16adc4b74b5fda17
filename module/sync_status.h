/*
 * The edge that writes a zone's status file at the end of each sync pass:
 * <state dir>/<zone>.status (module/status.h builds and formats it). What
 * must outlive a pass (last success, last error) is kept in the memo.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cds.h"
#include "ds.h"
#include "error.h"
#include "plan.h"
#include "status.h"
#include "views.h"
#include "zone.h"
#include "zone_state.h"

typedef struct {
	int64_t last_success;
	int64_t last_error_time;
	char last_error[MS_ERR_MSG_MAX];
	bool write_failed;       /* logged once until a write succeeds */
	bool recalled;           /* the previous run's file has been read */
	ms_status_ds_t ds[MS_DS_MAX]; /* from the last pass that saw both sides whole */
	size_t ds_count;
	ms_cds_case_t cds_case;  /* the last served CDS/CDNSKEY check... */
	char cds_text[MS_CDS_TEXT_MAX]; /* ...and its sentences (case; KSK sharing) */
	char ksk_text[MS_CDS_KSK_TEXT_MAX]; /* the KSK sharing sentence alone, as logged */
} ms_status_memo_t;

/* Record the pass's outcome in memo (error NULL: success) and write the
 * status file. plan may be NULL when the pass made none. Failures to write
 * are logged once; they never fail the pass. */
void ms_sync_status_write(ms_zone_t *zone, ms_status_memo_t *memo,
                          const ms_local_view_t *local, const ms_cf_view_t *cf,
                          const ms_zone_state_t *state, const ms_plan_t *plan,
                          const char *error);
