/*
 * Typed operations on knotd's key database (KASP) through `keymgr`, and the
 * one control command the module needs (`knotc zone-keys-load`), all run
 * through ms_proc_run: fixed argv, timeout, abort flag, captured output.
 *
 * Which database: `keymgr -D <kasp-db dir>` (knotd's `database.kasp-db`,
 * which the glue can read from knotd's configuration) is preferred over
 * `keymgr -c <knot.conf>`: -c makes keymgr parse knotd's whole configuration,
 * which loads and checks every shared module (this one included, reading
 * its secret files), and the module does not know which file or confdb
 * knotd was started with. keymgr and a running knotd may use the database
 * at the same time (LMDB); knotd sees changes after `knotc zone-keys-load`.
 *
 * Facts measured on 3.2.6 that shape these functions (doc/knot-local-adapters.md):
 * - `keymgr -j <zone> list` prints no public key; `keymgr <zone> dnskey <id>`
 *   prints "<zone>. DNSKEY <rdata>". An unknown zone lists as empty output,
 *   exit 0. `-e` overrides `-j`.
 * - `import-pub` needs a file name ending in ".key", ignores the owner name
 *   and TTL in it and prints "<id>\nOK". The id is derived from the key
 *   material, so importing one of knotd's OWN keys turns it into a
 *   public-only key with fresh timers: ms_keymgr_import_pub refuses that.
 * - Imported keys are public-only: published at the policy's dnskey-ttl,
 *   signed by the KSK, never used for signing.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnskey.h"
#include "error.h"

#define MS_KEYMGR_PATH        "/usr/sbin/keymgr"
#define MS_KNOTC_PATH         "/usr/sbin/knotc"
#define MS_KEYMGR_ID_LEN      40   /* keymgr key ids: 40 hex digits */
#define MS_KEYMGR_MAX_KEYS    32
#define MS_KEYMGR_TIMEOUT_MS  10000
#define MS_KNOTC_TIMEOUT_MS   5000

typedef struct {
	const char *keymgr;       /* program; NULL: MS_KEYMGR_PATH */
	const char *kasp_db;      /* `-D <dir>`: knotd's database.kasp-db (preferred) */
	const char *conf;         /* `-c <file>`: only when kasp_db is NULL */
	const char *tmp_dir;      /* import-pub's key file goes here; NULL: "/tmp" */
	int timeout_ms;           /* per keymgr run; <= 0: MS_KEYMGR_TIMEOUT_MS */
	const atomic_bool *abort; /* may be NULL */
} ms_keymgr_ctx_t;

/* One entry of `keymgr -j <zone> list`. Times are Unix seconds, 0 = unset. */
typedef struct {
	char id[MS_KEYMGR_ID_LEN + 1];
	uint16_t tag;
	uint8_t algorithm;
	uint16_t size;             /* bits */
	bool ksk, zsk;             /* both for a CSK */
	bool public_only;          /* imported with import-pub: never signs */
	int64_t pre_active, publish, ready, active, retire_active, retire,
	        post_active, revoke, remove;
	bool has_dnskey;           /* dnskey below was read (with_dnskeys) */
	ms_dnskey_t dnskey;
} ms_keymgr_key_t;

typedef struct {
	ms_keymgr_key_t keys[MS_KEYMGR_MAX_KEYS];
	size_t count;
} ms_keymgr_keys_t;

/*
 * `keymgr -j <zone> list`. With with_dnskeys, also `keymgr <zone> dnskey
 * id=<id>` for each key (one run per key, a few ms each), checked against
 * the listed tag, algorithm and role.
 * MS_ENOTFOUND when keymgr knows no key of the zone (empty output: zone
 * unknown or not signed yet); MS_EPARSE; MS_ETOOBIG (> MS_KEYMGR_MAX_KEYS);
 * plus ms_proc_run's codes.
 */
ms_rc_t ms_keymgr_list(const ms_keymgr_ctx_t *ctx, const char *zone, bool with_dnskeys,
                       ms_keymgr_keys_t *out, ms_err_t *err);

/* k->dnskey from `keymgr <zone> dnskey id=<id>`, checked against k's listing
 * (tag, algorithm, role); sets k->has_dnskey. */
ms_rc_t ms_keymgr_fill_dnskey(const ms_keymgr_ctx_t *ctx, const char *zone, ms_keymgr_key_t *k,
                              ms_err_t *err);

/* `keymgr <zone> dnskey id=<id>`: the key's DNSKEY record. */
ms_rc_t ms_keymgr_dnskey(const ms_keymgr_ctx_t *ctx, const char *zone, const char *id,
                         ms_dnskey_t *out, ms_err_t *err);

/*
 * Import a foreign public key as public-only (`keymgr <zone> import-pub`).
 * key: flags 256 (ZSK) or 257 (KSK). id_out gets the key id.
 * Idempotent: a key already imported returns its id without a new import
 * (which would reset its publish time). Refuses (MS_EINVAL) a key whose
 * material is one of knotd's own keys. The caller then runs
 * ms_knotc_zone_keys_load for knotd to publish it.
 */
ms_rc_t ms_keymgr_import_pub(const ms_keymgr_ctx_t *ctx, const char *zone,
                             const ms_dnskey_t *key, char id_out[MS_KEYMGR_ID_LEN + 1],
                             ms_err_t *err);

/*
 * `keymgr <zone> delete id=<id>`, for public-only keys only: deleting one of
 * knotd's own keys is refused (MS_EINVAL). MS_ENOTFOUND when no such key.
 * Then ms_knotc_zone_keys_load makes knotd drop it from the zone.
 */
ms_rc_t ms_keymgr_delete(const ms_keymgr_ctx_t *ctx, const char *zone, const char *id,
                         ms_err_t *err);

/*
 * `keymgr <zone> set id=<id> publish=<when>` (Unix seconds). Moving a
 * not-yet-active key's publish time forward holds its activation (measured
 * on 3.2.6; moving `active` does not). Then ms_knotc_zone_keys_load.
 */
ms_rc_t ms_keymgr_set_publish(const ms_keymgr_ctx_t *ctx, const char *zone, const char *id,
                              int64_t when, ms_err_t *err);

typedef struct {
	const char *knotc;        /* program; NULL: MS_KNOTC_PATH */
	const char *socket;       /* knotd's control socket (control.listen) */
	int timeout_ms;           /* knotc -t (whole seconds, >= 1); <= 0: 5 s */
	const atomic_bool *abort; /* may be NULL */
} ms_knotc_ctx_t;

/*
 * `knotc -s <socket> -t <s> zone-keys-load <zone>`. The control socket is
 * served by knotd's main thread, which may be joining the calling thread
 * during a reload: set abort before joining, and the child is killed.
 */
ms_rc_t ms_knotc_zone_keys_load(const ms_knotc_ctx_t *ctx, const char *zone, ms_err_t *err);

/* ---- parsers, exposed for tests ---- */

/* JSON of `keymgr -j <zone> list`; every entry must belong to zone. */
ms_rc_t ms_keymgr_parse_list(const char *json, size_t len, const char *zone,
                             ms_keymgr_keys_t *out, ms_err_t *err);

/* Output of `keymgr <zone> dnskey <id>`: one DNSKEY record of zone. */
ms_rc_t ms_keymgr_parse_dnskey(const char *text, const char *zone, ms_dnskey_t *out,
                               ms_err_t *err);

/* Output of `keymgr <zone> import-pub <file>`: "<id>\nOK\n". */
ms_rc_t ms_keymgr_parse_import(const char *text, char id_out[MS_KEYMGR_ID_LEN + 1],
                               ms_err_t *err);

/* 40 hex digits, lowercase (what keymgr prints). */
bool ms_keymgr_id_valid(const char *id);
