/*
 * The planner: what to change so that knotd and Cloudflare serve one
 * RFC 8901 model 2 multi-signer zone, decided from what each side shows and
 * what we remember. It is pure: no I/O, no clock, no globals, no allocation.
 * The same inputs give the same plan, byte for byte.
 *
 *   ms_plan(local, cf, saved, now, settings, &plan, &new_state, &err)
 *
 * The applier runs plan.actions in order (warnings, setup, additions, then
 * deletions, so that a pass cut short has added before it removed), skips
 * the rest of a side after a failure, and saves new_state, adding the ids
 * of the records it created (ms_zone_state_own_*) first. Dry-run is the
 * applier's business: the planner always says what it would do.
 * doc/planning.md has the rules as implemented.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnskey.h"
#include "error.h"
#include "settings.h"
#include "views.h"
#include "zone_state.h"

#define MS_PLAN_MAX_ACTIONS 256
#define MS_REASON_MAX       384
#define MS_CF_TTL_MIN       60      /* Cloudflare's TTL range (1 = automatic) */
#define MS_CF_TTL_MAX       86400

typedef enum {
	MS_ACT_WARN = 1,                  /* log it; nothing to apply */
	MS_ACT_CF_SET_DNSSEC,             /* PATCH /dnssec: see set_status_active, set_multi_signer */
	MS_ACT_CF_SET_MULTI_PROVIDER,     /* PATCH /dns_settings {"multi_provider":true} */
	MS_ACT_CF_CREATE_DNSKEY,          /* POST apex DNSKEY key, ttl, comment = marker */
	MS_ACT_CF_CREATE_NS,              /* POST apex NS name, ttl, comment = marker */
	MS_ACT_CF_DELETE_RECORD,          /* DELETE record_id (ours) */
	MS_ACT_LOCAL_IMPORT_KEY,          /* keymgr import-pub key; zone-keys-load */
	MS_ACT_LOCAL_ADD_NS,              /* add name to the apex NS (zone-file zones) */
	MS_ACT_LOCAL_REMOVE_IMPORTED_KEY, /* keymgr delete key_id; zone-keys-load */
	MS_ACT_LOCAL_HOLD_ZSK,            /* keymgr set key_id publish=when; zone-keys-load */
} ms_action_kind_t;

typedef enum {
	MS_WARN_NONE = 0,
	MS_WARN_ZONE_TYPE,        /* Cloudflare zone is not a full zone: nothing done */
	MS_WARN_ALGORITHM,        /* rule 1: nothing done */
	MS_WARN_TAG_COLLISION,    /* rule 2 */
	MS_WARN_UNKNOWN_SIGNER,   /* rule 4: Cloudflare signs with a tag we do not serve */
	MS_WARN_UNCONFIRMED_SIGNER, /* rule 3: knotd signs with a ZSK Cloudflare does not serve */
	MS_WARN_OUT_OF_STEP,      /* still acting after more than one check interval */
	MS_WARN_BAD_KEY,          /* a Cloudflare ZSK we will not import */
	MS_WARN_OWNERSHIP,        /* a record with our marker that we leave alone */
	MS_WARN_MISSING_NS,       /* Cloudflare's NS missing locally; we cannot add it */
	MS_WARN_CSK,              /* a CSK cannot be shared as a ZSK */
	MS_WARN_TRANSFER_LAG,     /* secondary: our ZSK not at Cloudflare in the expected time */
} ms_warn_t;

typedef struct {
	ms_action_kind_t kind;
	ms_warn_t warn;                      /* MS_ACT_WARN */
	ms_dnskey_t key;                     /* CREATE_DNSKEY, IMPORT_KEY, REMOVE_IMPORTED_KEY,
	                                        DELETE_RECORD of a DNSKEY */
	char record_id[MS_CF_ID_MAX + 1];    /* DELETE_RECORD */
	char key_id[MS_KEY_ID_MAX + 1];      /* REMOVE_IMPORTED_KEY: keymgr's id */
	char name[MS_DNAME_MAX + 1];         /* CREATE_NS, LOCAL_ADD_NS, DELETE_RECORD of an NS */
	uint32_t ttl;                        /* CREATE_DNSKEY, CREATE_NS */
	bool set_status_active;              /* CF_SET_DNSSEC: status -> active */
	bool set_multi_signer;               /* CF_SET_DNSSEC: dnssec_multi_signer -> true */
	bool key_in_keydb;                   /* IMPORT_KEY: already imported, not yet served:
	                                        only zone-keys-load is needed */
	int64_t when;                        /* HOLD_ZSK: the key's new publish time */
	char reason[MS_REASON_MAX];          /* "zone example.com: exporting ZSK 12345 ..." */
} ms_action_t;

typedef struct {
	ms_action_t actions[MS_PLAN_MAX_ACTIONS];
	size_t count;
	/* Wall time from which NS records this plan could not add yet may be
	 * added (both key sets settled, rule 8); 0: none waiting for a known time. */
	int64_t ns_join_at;
} ms_plan_t;

typedef struct {
	const char *zone;                /* for reasons only */
	uint32_t check_interval;         /* seconds */
	uint32_t hold_time;              /* 0: TTL_K + largest zone TTL + check interval */
	const char *const *nameservers;  /* ours; none: local apex NS minus Cloudflare's */
	size_t nameserver_count;
	const char *owner_marker;        /* exact comment on records we create */
	/* Rule 3 gate: knotd activates a new ZSK at publish + propagation_delay +
	 * its DNSKEY TTL; the planner moves `publish` forward (never past now)
	 * until Cloudflare has served the key for the largest DNSKEY TTL. */
	bool hold_activation;
	uint32_t propagation_delay;      /* the zone policy's, seconds */
	/* cloudflare-setup: auto follows the Cloudflare zone's type; full or
	 * secondary must agree with it (else nothing is done). */
	ms_cf_setup_t setup;
	/* Rule 6 (issue 5): offer our KSKs to Cloudflare as DNSKEY 257 records
	 * (full setup) so that both DNSKEY RRsets hold both KSKs. On from
	 * ms_plan_settings_from(); unit tests of the ZSK exchange alone leave
	 * it off. Cloudflare's KSK is imported either way. */
	bool share_ksk;
} ms_plan_settings_t;

/* Planner settings from the module's (zone, marker and the nameserver
 * strings are borrowed: keep them alive while planning). hold_time 0: the
 * default. */
void ms_plan_settings_from(const ms_settings_t *s, const char *zone, const char *marker,
                           uint32_t hold_time, ms_plan_settings_t *out);

/* The standard marker: "managed by knot-multisigner; zone <zone>; do not edit".
 * False if cap is too small. */
bool ms_plan_owner_marker(const char *zone, char *buf, size_t cap);

/* Plan one pass. saved and new_state must not overlap. MS_EINVAL for bad
 * settings, MS_ETOOBIG when a view count or the plan exceeds a cap (the
 * plan is then empty and new_state equals saved). */
ms_rc_t ms_plan(const ms_local_view_t *local, const ms_cf_view_t *cf,
                const ms_zone_state_t *saved, int64_t now,
                const ms_plan_settings_t *settings,
                ms_plan_t *plan, ms_zone_state_t *new_state, ms_err_t *err);

/* Whether the plan changes anything (any action but warnings). */
bool ms_plan_has_changes(const ms_plan_t *plan);

/* Number of actions of a kind (for logs, stats and tests). */
size_t ms_plan_count(const ms_plan_t *plan, ms_action_kind_t kind);

/* Rule 3 gate for issue 5: whether our ZSK key has been at Cloudflare for at
 * least min_age seconds at now (use the largest DNSKEY TTL). *since (may be
 * NULL) gets the first confirmation time, 0 if Cloudflare does not have it;
 * the key may sign from *since + min_age on. Confirmation is recorded by
 * ms_plan() in the state: an API record, and the served DNSKEY RRset when
 * the Cloudflare view observed it. */
bool ms_plan_zsk_confirmed_since(const ms_zone_state_t *state, const ms_dnskey_t *key,
                                 int64_t now, uint32_t min_age, int64_t *since);

/* TTL_K: the largest DNSKEY TTL either side serves (at least 60 s while
 * Cloudflare's view is incomplete). */
uint32_t ms_plan_ttl_k(const ms_local_view_t *local, const ms_cf_view_t *cf);

/* Short names for logs and tests. */
const char *ms_action_kind_name(ms_action_kind_t kind);
const char *ms_warn_name(ms_warn_t warn);
