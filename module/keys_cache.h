/*
 * A zone's key listing (`keymgr -j list` plus one `keymgr dnskey` per key),
 * kept between passes so that a pass runs keymgr only when the listing may
 * have changed. Each run starts processes; with thousands of zones, doing it
 * every pass was what limited the single worker (doc/benchmarks.md).
 *
 * When is a kept listing still right? The key database is one LMDB file
 * (`<kasp-db>/data.mdb`) shared by all zones of the knotd, so its stamp
 * (mtime and ctime with nanoseconds, size, inode) changes whenever ANY zone's
 * keys or signing state are written -- knotd writes it on signing events,
 * keymgr on every import. So two signals, either enough:
 *
 * 1. The database file is exactly as it was when the listing was taken (the
 *    stamp was the same before and after the read, and its times were over
 *    a second old then, so that a write in the same clock tick as the read,
 *    which would leave an equal stamp, cannot be missed): nothing changed.
 *    Measured on Knot 3.2.6: knotd does not write the file when it re-signs
 *    (zone-sign, incremental signing after an edit, zone-keys-load without
 *    key changes), nor do `keymgr list` and `keymgr dnskey`; key changes do
 *    (keymgr generate, import-pub, set; knotd's rollover steps). The times
 *    move in coarse ticks (about 4 ms) and the size often stays the same.
 * 2. What knotd serves for the zone is the same: SOA serial, the whole
 *    DNSKEY RRset and the tags signing the SOA. knotd publishes, activates
 *    and retires keys by re-signing the zone (new serial, new DNSKEY set or
 *    new signers), and a key imported or changed by the operator reaches the
 *    zone only through `knotc zone-keys-load`, which re-signs too. A new
 *    ZSK of knotd is therefore seen in the very pass that first sees it
 *    served, as before: the rollover gate (hold its activation until
 *    Cloudflare has it) is never later.
 *
 * Besides these, the listing is taken again when
 * - the module itself wrote keys for the zone (import, delete, hold), done
 *   or failed: ms_keys_cache_invalidate();
 * - a timer of a listed key (publish, active, retire, remove) has come:
 *   knotd acts on it, the listing's view of "now" is out of date;
 * - it is older than the maximum age (a safety net for what neither signal
 *   shows, such as `keymgr set` without `knotc zone-keys-load`);
 * - the monotonic clock went backwards, or the database's stamp cannot be
 *   read (then only signal 2 with the age limit is used).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "views.h"

#define MS_KEYS_CACHE_MAX_AGE 3600.0 /* s: the safety net */

/* What stat() says of the key database file; known = false if it failed. */
typedef struct {
	bool known;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
} ms_file_stamp_t;

typedef struct {
	bool valid;
	ms_file_stamp_t stamp;  /* of the database during the listing; !known if it
	                           changed while keymgr read it */
	uint64_t served;        /* ms_local_served_fingerprint() when listed */
	double taken;           /* monotonic seconds */
	int64_t next_timer;     /* Unix time of the first key timer after the listing; 0: none */
	ms_local_key_t *keys;   /* owned; count entries */
	size_t count;
} ms_keys_cache_t;

typedef enum {
	MS_KEYS_RELIST = 0,      /* run keymgr */
	MS_KEYS_REUSE_DB_SAME,   /* signal 1 */
	MS_KEYS_REUSE_SERVED,    /* signal 2 */
} ms_keys_use_t;

/* The decision, a pure function: the cache, the database's stamp now, the
 * served fingerprint of this pass, monotonic and wall clock, maximum age. */
ms_keys_use_t ms_keys_cache_decide(const ms_keys_cache_t *c, const ms_file_stamp_t *stamp,
                                   uint64_t served, double now, int64_t wall, double max_age);

/* The first of the keys' publish/active/retire/remove times later than wall;
 * 0 when none is. */
int64_t ms_keys_next_timer(const ms_local_key_t *keys, size_t count, int64_t wall);

/* Digest of what knotd serves that key changes show in: SOA serial, the
 * DNSKEY RRset (every key's flags, algorithm and material) and the tags of
 * the RRSIGs over SOA. */
uint64_t ms_local_served_fingerprint(const ms_local_view_t *view);

bool ms_file_stamp_equal(const ms_file_stamp_t *a, const ms_file_stamp_t *b);

/* stat() of path; known = false when it fails. */
void ms_file_stamp_read(const char *path, ms_file_stamp_t *out);

#define MS_KEYS_STAMP_SETTLED_NS 1000000000LL /* see signal 1 */

/* Keep a fresh listing (copied). Returns false (cache left cleared) when out
 * of memory. before/after: the database around the keymgr runs; before_ns:
 * the real-time clock (ns) just before `before` was read. */
bool ms_keys_cache_store(ms_keys_cache_t *c, const ms_local_key_t *keys, size_t count,
                         const ms_file_stamp_t *before, const ms_file_stamp_t *after,
                         int64_t before_ns, uint64_t served, double now, int64_t wall);

/* Forget everything (and free the keys). */
void ms_keys_cache_clear(ms_keys_cache_t *c);

/* The listing may be out of date (our own key writes): list again next
 * time, but keep the keys' DNSKEY material for ms_keys_cache_material(). */
void ms_keys_cache_invalidate(ms_keys_cache_t *c);

/* A key we imported ourselves (`keymgr import-pub` printed its id): its
 * record is the one we handed over, so the listing after the import needs
 * no `keymgr dnskey` for it. Call after ms_keys_cache_invalidate(); the
 * cache stays invalid, the record only serves ms_keys_cache_material().
 * Returns false when it was not kept (out of memory, or already as many
 * learnt records as a zone may have keys): keymgr is asked then. */
bool ms_keys_cache_learn(ms_keys_cache_t *c, const char *id, const ms_dnskey_t *key);

/* A key's DNSKEY record never changes under the same keymgr id unless its
 * flags do (role, revocation), which changes its tag. So a listing taken
 * again needs `keymgr dnskey` only for keys the kept one lacks: this returns
 * the kept record of the key with this id, tag, algorithm and role, or
 * NULL. Valid or not, as long as the cache holds keys. */
const ms_dnskey_t *ms_keys_cache_material(const ms_keys_cache_t *c, const char *id,
                                          uint16_t tag, uint8_t algorithm, ms_key_role_t role);
