/*
 * The per-zone status an operator reads with `knot-multisigner-status`:
 * the keys and NS on each side, what is pending and until when, the last
 * successful sync and the last error, and the DS records for the registrar.
 *
 * Two pure steps, no I/O and no clock:
 *
 *   ms_status_build(&input, &status)      views + state + plan -> values
 *   ms_status_format(&status, buf, ...)   values -> JSON text (version 1)
 *
 * The sync pass (module/sync_status.c) fills the input at the end of every
 * pass and writes the text atomically to <state dir>/<zone>.status, mode
 * 0644: it holds public data only (key tags, names, times, error messages,
 * which never contain a secret). doc/mod-multisigner.rst documents the
 * JSON shape.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "cds.h"
#include "views.h"
#include "zone_state.h"

#define MS_STATUS_VERSION     1
#define MS_STATUS_MAX_PENDING (2 * MS_MAX_KEYS + 1)
#define MS_STATUS_MAX_DS      (2 * MS_MAX_KEYS)
#define MS_STATUS_DS_MAX      (MS_DNAME_MAX + 200) /* "<zone>. IN DS tag alg type hex" */
#define MS_STATUS_TEXT_MAX    (128 * 1024)         /* enough for every cap filled */
#define MS_STATUS_FILE_SUFFIX ".status"

typedef enum {
	MS_PENDING_HOLD = 1,   /* a new local ZSK held back until Cloudflare served it */
	MS_PENDING_REMOVAL,    /* a Cloudflare ZSK leaves knotd's RRset not before */
	MS_PENDING_NS_JOIN,    /* nameservers join once both ZSK sets settled */
} ms_pending_kind_t;

typedef struct {
	ms_pending_kind_t kind;
	uint16_t tag;          /* HOLD, REMOVAL */
	int64_t until;         /* 0: not known yet (waiting for the other side) */
} ms_status_pending_t;

typedef enum {
	MS_DS_PROVIDER_KNOT = 1,
	MS_DS_PROVIDER_CLOUDFLARE,
} ms_ds_provider_t;

typedef struct {
	ms_ds_provider_t provider;
	char ds[MS_STATUS_DS_MAX + 1]; /* presentation form */
} ms_status_ds_t;

typedef struct {
	uint16_t tag;
	uint8_t algorithm;
	ms_key_role_t role;
	bool imported;         /* a public-only copy of Cloudflare's key */
	bool served;           /* in the DNSKEY RRset knotd serves */
	int64_t publish, active, retire, remove;
} ms_status_local_key_t;

typedef struct {
	uint16_t tag;
	uint8_t algorithm;
	char state[MS_CF_WORD_MAX + 1]; /* Cloudflare's word: active, publish, ... */
} ms_status_cf_key_t;

typedef struct {
	char zone[MS_DNAME_MAX + 1];
	int64_t updated;               /* when the pass ended */
	bool dry_run;
	int64_t last_success;          /* 0: none since knotd loaded the zone */
	int64_t last_error_time;       /* 0: no error since the last success */
	char last_error[MS_ERR_MSG_MAX];

	/* knotd */
	bool local_complete;
	ms_status_local_key_t local_keys[MS_MAX_KEYS];
	size_t local_key_count;
	char local_ns[MS_MAX_NS][MS_DNAME_MAX + 1];
	size_t local_ns_count;

	/* Cloudflare */
	bool cf_complete;
	char cf_zone_id[MS_CF_ID_MAX + 1];
	const char *cf_dnssec;         /* "active", "pending", ... (static text) */
	bool cf_multi_signer;
	bool cf_multi_provider;
	ms_status_cf_key_t cf_zsks[MS_MAX_KEYS];
	size_t cf_zsk_count;
	bool cf_has_ksk;
	ms_status_cf_key_t cf_ksk;
	char cf_name_servers[MS_MAX_NS][MS_DNAME_MAX + 1]; /* assigned by Cloudflare */
	size_t cf_name_server_count;
	char cf_ns[MS_MAX_RECORDS][MS_DNAME_MAX + 1];      /* apex NS records */
	size_t cf_ns_count;

	ms_status_pending_t pending[MS_STATUS_MAX_PENDING];
	size_t pending_count;

	ms_status_ds_t ds[MS_STATUS_MAX_DS];
	size_t ds_count;

	/* The served CDS/CDNSKEY check (module/cds.h): ms_cds_case_name()'s word
	 * (NULL: "unchecked") and its log sentence ("" when unchecked). */
	const char *cds_case;
	char cds_detail[MS_CDS_TEXT_MAX];
} ms_status_t;

/* What one pass knew. local, cf and state are required; plan may be NULL
 * (no plan this pass: nothing held). nameservers are ours, as in
 * ms_plan_settings_t (none: the local apex NS minus Cloudflare's). */
typedef struct {
	const char *zone;
	int64_t now;
	bool dry_run;
	const ms_local_view_t *local;
	const ms_cf_view_t *cf;
	const ms_zone_state_t *state;
	const ms_plan_t *plan;
	const char *const *nameservers;
	size_t nameserver_count;
	int64_t last_success;
	int64_t last_error_time;
	const char *last_error;        /* NULL or "": none */
} ms_status_input_t;

/* Fill *out from in. DS records are left for the caller to add
 * (ms_status_add_ds). */
void ms_status_build(const ms_status_input_t *in, ms_status_t *out);

/* Add one DS record; false when full or ds does not fit. */
bool ms_status_add_ds(ms_status_t *st, ms_ds_provider_t provider, const char *ds);

/* JSON text into buf (NUL-terminated); *len gets its length without NUL.
 * MS_ETOOBIG when cap is too small, MS_ENOMEM when json-c fails. */
ms_rc_t ms_status_format(const ms_status_t *st, char *buf, size_t cap, size_t *len,
                         ms_err_t *err);

/* From an earlier status text (the previous knotd run's file): the last
 * success and the last error, so that a restart does not forget them.
 * Missing or malformed fields leave the outputs 0 / "". False when the text
 * is not a status of version 1 for zone. */
bool ms_status_recall(const char *text, size_t len, const char *zone, int64_t *last_success,
                      int64_t *last_error_time, char *last_error, size_t cap);

/* The state of a local key at now: "future", "published", "active",
 * "retired", "removed" (from its timers). */
const char *ms_status_key_state(const ms_status_local_key_t *k, int64_t now);

/* Short names used in the JSON. */
const char *ms_pending_kind_name(ms_pending_kind_t kind);
const char *ms_ds_provider_name(ms_ds_provider_t provider);
