#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "ds.h"
#include "state_file.h"
#include "status.h"
#include "sync_status.h"

#define STATUS_MODE (S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH) /* 0644: public data */

static void note_outcome(ms_status_memo_t *memo, int64_t now, const char *error)
{
	if (error == NULL) {
		memo->last_success = now;
		memo->last_error_time = 0;
		memo->last_error[0] = '\0';
	} else {
		memo->last_error_time = now;
		snprintf(memo->last_error, sizeof(memo->last_error), "%s",
		         error[0] != '\0' ? error : "unknown error");
	}
}

/* The DS records of both providers' KSKs (module/ds.h), from whole views;
 * a pass that saw less keeps the last ones known. */
static void note_ds(const ms_zone_t *zone, ms_status_memo_t *memo, const ms_local_view_t *local,
                    const ms_cf_view_t *cf)
{
	if (!local->complete || !cf->complete) {
		return;
	}
	ms_ds_t ds[MS_DS_MAX];
	size_t n = ms_ds_report(zone->name, local, cf, ds, MS_DS_MAX);
	memo->ds_count = 0;
	for (size_t i = 0; i < n && memo->ds_count < MS_DS_MAX; i++) {
		ms_status_ds_t *d = &memo->ds[memo->ds_count];
		if (ms_ds_format(zone->name, &ds[i], d->ds, sizeof(d->ds))) {
			d->provider = ds[i].cloudflare ? MS_DS_PROVIDER_CLOUDFLARE : MS_DS_PROVIDER_KNOT;
			memo->ds_count++;
		}
	}
}

static void status_path(const ms_zone_t *zone, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s%s", zone->env.state_dir, zone->name, MS_STATUS_FILE_SUFFIX);
}

/* The first time: take the last success and error from the file the
 * previous knotd run left, so that a restart does not blank them. */
static void recall(const ms_zone_t *zone, ms_status_memo_t *memo)
{
	memo->recalled = true;
	char path[MS_PATH_MAX + MS_DNAME_MAX + 16];
	status_path(zone, path, sizeof(path));
	char *buf = malloc(MS_STATUS_TEXT_MAX);
	size_t len = 0;
	if (buf != NULL && ms_state_file_read(path, buf, MS_STATUS_TEXT_MAX, &len, NULL) == MS_OK) {
		ms_status_recall(buf, len, zone->name, &memo->last_success, &memo->last_error_time,
		                 memo->last_error, sizeof(memo->last_error));
	}
	free(buf);
}

static ms_rc_t write_status(const ms_zone_t *zone, const ms_status_t *st, ms_err_t *err)
{
	char path[MS_PATH_MAX + MS_DNAME_MAX + 16];
	status_path(zone, path, sizeof(path));
	ms_rc_t rc = ms_state_dir_ensure(zone->env.state_dir, err);
	if (rc != MS_OK) {
		return rc;
	}
	char *buf = malloc(MS_STATUS_TEXT_MAX);
	if (buf == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	size_t len = 0;
	rc = ms_status_format(st, buf, MS_STATUS_TEXT_MAX, &len, err);
	if (rc == MS_OK) {
		/* Rebuilt every pass: atomic, but not worth an fsync each time. */
		rc = ms_state_file_replace(path, buf, len, STATUS_MODE, err);
	}
	free(buf);
	return rc;
}

void ms_sync_status_write(ms_zone_t *zone, ms_status_memo_t *memo,
                          const ms_local_view_t *local, const ms_cf_view_t *cf,
                          const ms_zone_state_t *state, const ms_plan_t *plan,
                          const char *error)
{
	int64_t now = (int64_t)time(NULL);
	if (!memo->recalled) {
		recall(zone, memo);
	}
	note_outcome(memo, now, error);
	ms_status_t *st = malloc(sizeof(*st));
	if (st == NULL) {
		return; /* the next pass writes it */
	}
	const ms_settings_t *set = &zone->settings;
	ms_status_input_t in = {
		.zone = zone->name,
		.now = now,
		.dry_run = set->dry_run,
		.local = local,
		.cf = cf,
		.state = state,
		.plan = plan,
		.nameservers = (const char *const *)set->nameservers,
		.nameserver_count = set->nameserver_count,
		.last_success = memo->last_success,
		.last_error_time = memo->last_error_time,
		.last_error = memo->last_error,
	};
	ms_status_build(&in, st);
	note_ds(zone, memo, local, cf);
	for (size_t i = 0; i < memo->ds_count; i++) {
		ms_status_add_ds(st, memo->ds[i].provider, memo->ds[i].ds);
	}
	st->cds_case = ms_cds_case_name(memo->cds_case);
	snprintf(st->cds_detail, sizeof(st->cds_detail), "%s",
	         memo->cds_case != MS_CDS_SERVED_UNCHECKED ? memo->cds_text : "");
	ms_err_t err = { 0 };
	ms_rc_t rc = write_status(zone, st, &err);
	free(st);
	if (rc != MS_OK && !memo->write_failed) {
		ms_zone_log(zone, LOG_WARNING, "cannot write the status file: %s; "
		            "knot-multisigner-status shows old data until it can; check the "
		            "permissions of %s", err.msg, zone->env.state_dir);
	}
	memo->write_failed = (rc != MS_OK);
}
