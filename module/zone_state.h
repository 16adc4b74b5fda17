/*
 * Per-zone state kept across passes and restarts (rule 11: ownership and
 * timers must survive a restart): which Cloudflare records are ours, when
 * each Cloudflare ZSK was seen, when each of our ZSKs was first confirmed at
 * Cloudflare. It holds public data only: record ids, public keys, times.
 *
 * Text form (version 1): one JSON object, see doc/planning.md. The parser is
 * strict: an unknown version, an unknown or missing field, a bad key or an
 * entry over a cap is refused with MS_EPARSE or MS_ETOOBIG and a message
 * naming the problem. The caller then goes on with an empty state, which is
 * safe: with no proven ownership the planner deletes nothing at Cloudflare
 * and removes no imported key.
 *
 * Everything here is pure over buffers; module/state_file.h does the I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnskey.h"
#include "error.h"
#include "views.h"

#define MS_STATE_VERSION      1
#define MS_STATE_MAX_OWNED    (2 * MS_MAX_RECORDS)
#define MS_STATE_MAX_CF_KEYS  (2 * MS_MAX_KEYS)
#define MS_STATE_MAX_OUR_ZSKS MS_MAX_KEYS
#define MS_STATE_TEXT_MAX     (256 * 1024) /* enough for every cap filled */

typedef enum {
	MS_RECORD_DNSKEY = 1,
	MS_RECORD_NS,
} ms_record_type_t;

/* A Cloudflare record this module created (or adopted, see planning.md). */
typedef struct {
	char id[MS_CF_ID_MAX + 1];
	ms_record_type_t type;
	ms_dnskey_t key;              /* MS_RECORD_DNSKEY */
	char name[MS_DNAME_MAX + 1];  /* MS_RECORD_NS */
	int64_t since;                /* created or adopted */
} ms_owned_record_t;

/* A Cloudflare ZSK we track (and import into knotd). */
typedef struct {
	ms_dnskey_t key;
	int64_t first_seen;     /* first listed as publish/active/retired */
	int64_t last_seen;      /* last listed so */
	int64_t gone_since;     /* first complete listing without it; 0 while listed */
	int64_t remove_after;   /* pending removal from knotd: not before; 0 = none */
	int64_t in_local_since; /* first seen in knotd's served RRset; 0 = not yet */
} ms_cf_key_state_t;

/* One of our ZSKs and since when Cloudflare has it (the rollover gate). */
typedef struct {
	ms_dnskey_t key;
	int64_t confirmed_since;
} ms_our_zsk_state_t;

/* One of our ZSKs that knotd publishes and Cloudflare does not have yet
 * (secondary setup: it should come by zone transfer). */
typedef struct {
	ms_dnskey_t key;
	int64_t since;          /* first pass that saw it missing */
} ms_awaited_zsk_t;

typedef struct {
	char zone[MS_DNAME_MAX + 1];
	ms_owned_record_t owned[MS_STATE_MAX_OWNED];
	size_t owned_count;
	ms_cf_key_state_t cf_keys[MS_STATE_MAX_CF_KEYS];
	size_t cf_key_count;
	ms_our_zsk_state_t our_zsks[MS_STATE_MAX_OUR_ZSKS];
	size_t our_zsk_count;
	int64_t out_of_step_since; /* sides differ and we acted since; 0 = in step */
	/* Kept in memory only, not in the state file: after a restart the clock
	 * starts again, so the transfer-lag warning can come later, never wrongly. */
	ms_awaited_zsk_t awaited[MS_STATE_MAX_OUR_ZSKS];
	size_t awaited_count;
} ms_zone_state_t;

/* The state between passes, compact: a full ms_zone_state_t reserves every
 * cap (about 140 KiB), a zone's state usually fills a few entries. Packed,
 * it is the text form (as saved) plus the memory-only part (the awaited
 * keys), on the heap and sized to what it holds. All zero: nothing packed. */
typedef struct {
	char *text;                 /* ms_zone_state_format()'s output */
	size_t len;
	ms_awaited_zsk_t *awaited;
	size_t awaited_count;
} ms_zone_state_packed_t;

/* Pack state into *out, replacing what it held (only on success: on an error
 * *out is unchanged). MS_ENOMEM, or ms_zone_state_format()'s errors. */
ms_rc_t ms_zone_state_pack(const ms_zone_state_t *state, ms_zone_state_packed_t *out,
                           ms_err_t *err);

/* The full state back, for zone (as ms_zone_state_parse()); nothing packed
 * gives the empty state. On an error *state is empty for zone. */
ms_rc_t ms_zone_state_unpack(const ms_zone_state_packed_t *packed, const char *zone,
                             ms_zone_state_t *state, ms_err_t *err);

void ms_zone_state_packed_free(ms_zone_state_packed_t *packed);

/* An empty state for zone (a name; truncated names are refused by parse). */
void ms_zone_state_init(ms_zone_state_t *state, const char *zone);

/* Serialise into buf (NUL-terminated); *len gets the length without NUL.
 * MS_ETOOBIG if cap is too small, MS_EINVAL if the state breaks a cap. */
ms_rc_t ms_zone_state_format(const ms_zone_state_t *state, char *buf, size_t cap,
                             size_t *len, ms_err_t *err);

/* Digest of what the state file must keep: everything it holds except the
 * cloudflare_keys' last_seen times, which nothing decides on. The state file
 * is rewritten (with fsync) only when this changes. */
uint64_t ms_zone_state_digest(const ms_zone_state_t *state);

/* Parse text[0..len) for zone (its name must match, case-insensitively).
 * On any error *state is left empty for zone, ready to use. */
ms_rc_t ms_zone_state_parse(const char *text, size_t len, const char *zone,
                            ms_zone_state_t *state, ms_err_t *err);

/* For the applier, after Cloudflare confirmed a create: remember that the
 * record is ours before the next pass, so ownership does not rest on the
 * comment alone. Adding an id already known updates it. MS_ETOOBIG if full. */
ms_rc_t ms_zone_state_own_dnskey(ms_zone_state_t *state, const char *id,
                                 const ms_dnskey_t *key, int64_t now, ms_err_t *err);
ms_rc_t ms_zone_state_own_ns(ms_zone_state_t *state, const char *id,
                             const char *name, int64_t now, ms_err_t *err);

/* For the applier, after Cloudflare confirmed a delete. */
void ms_zone_state_forget_record(ms_zone_state_t *state, const char *id);

/* Lookups (NULL when absent). */
const ms_owned_record_t *ms_zone_state_find_owned(const ms_zone_state_t *state, const char *id);
const ms_cf_key_state_t *ms_zone_state_find_cf_key(const ms_zone_state_t *state,
                                                   const ms_dnskey_t *key);
const ms_our_zsk_state_t *ms_zone_state_find_our_zsk(const ms_zone_state_t *state,
                                                     const ms_dnskey_t *key);
