#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys_cache.h"

ms_keys_use_t ms_keys_cache_decide(const ms_keys_cache_t *c, const ms_file_stamp_t *stamp,
                                   uint64_t served, double now, int64_t wall, double max_age)
{
	if (c == NULL || !c->valid || now < c->taken || now - c->taken > max_age) {
		return MS_KEYS_RELIST;
	}
	if (c->next_timer != 0 && wall >= c->next_timer) {
		return MS_KEYS_RELIST;
	}
	if (stamp != NULL && ms_file_stamp_equal(&c->stamp, stamp)) {
		return MS_KEYS_REUSE_DB_SAME;
	}
	return served == c->served ? MS_KEYS_REUSE_SERVED : MS_KEYS_RELIST;
}

int64_t ms_keys_next_timer(const ms_local_key_t *keys, size_t count, int64_t wall)
{
	int64_t next = 0;
	for (size_t i = 0; i < count; i++) {
		const int64_t t[] = { keys[i].publish, keys[i].active, keys[i].retire,
		                      keys[i].remove };
		for (size_t j = 0; j < sizeof(t) / sizeof(t[0]); j++) {
			if (t[j] > wall && (next == 0 || t[j] < next)) {
				next = t[j];
			}
		}
	}
	return next;
}

uint64_t ms_local_served_fingerprint(const ms_local_view_t *view)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
#define MIX(p, n) for (size_t i_ = 0; i_ < (n); i_++) { h = (h ^ ((const uint8_t *)(p))[i_]) * 1099511628211ull; }
	MIX(&view->soa_serial, sizeof(view->soa_serial));
	MIX(&view->dnskey_count, sizeof(view->dnskey_count));
	for (size_t i = 0; i < view->dnskey_count; i++) {
		const ms_dnskey_t *k = &view->dnskeys[i];
		MIX(&k->flags, sizeof(k->flags));
		MIX(&k->algorithm, sizeof(k->algorithm));
		MIX(&k->pubkey_len, sizeof(k->pubkey_len));
		MIX(k->pubkey, k->pubkey_len);
	}
	MIX(&view->signing_tag_count, sizeof(view->signing_tag_count));
	for (size_t i = 0; i < view->signing_tag_count; i++) {
		MIX(&view->signing_tags[i], sizeof(view->signing_tags[i]));
	}
#undef MIX
	return h;
}

bool ms_file_stamp_equal(const ms_file_stamp_t *a, const ms_file_stamp_t *b)
{
	return a->known && b->known && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

void ms_file_stamp_read(const char *path, ms_file_stamp_t *out)
{
	struct stat st;
	memset(out, 0, sizeof(*out));
	if (path == NULL || stat(path, &st) != 0) {
		return;
	}
	out->known = true;
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	out->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

bool ms_keys_cache_store(ms_keys_cache_t *c, const ms_local_key_t *keys, size_t count,
                         const ms_file_stamp_t *before, const ms_file_stamp_t *after,
                         int64_t before_ns, uint64_t served, double now, int64_t wall)
{
	ms_local_key_t *copy = NULL;
	if (count > 0) {
		copy = malloc(count * sizeof(*keys));
		if (copy == NULL) {
			ms_keys_cache_clear(c);
			return false;
		}
		memcpy(copy, keys, count * sizeof(*keys));
	}
	ms_keys_cache_clear(c);
	c->keys = copy;
	c->count = count;
	/* Else changed while read, or too recently to tell: signal 1 unusable. */
	if (ms_file_stamp_equal(before, after) &&
	    before->mtime_ns + MS_KEYS_STAMP_SETTLED_NS <= before_ns &&
	    before->ctime_ns + MS_KEYS_STAMP_SETTLED_NS <= before_ns) {
		c->stamp = *before;
	}
	c->served = served;
	c->taken = now;
	c->next_timer = ms_keys_next_timer(keys, count, wall);
	c->valid = true;
	return true;
}

void ms_keys_cache_clear(ms_keys_cache_t *c)
{
	free(c->keys);
	memset(c, 0, sizeof(*c));
}

void ms_keys_cache_invalidate(ms_keys_cache_t *c)
{
	c->valid = false;
}

bool ms_keys_cache_learn(ms_keys_cache_t *c, const char *id, const ms_dnskey_t *key)
{
	if (c->valid || c->count >= 2 * MS_MAX_KEYS || strlen(id) > MS_KEY_ID_MAX) {
		return false;
	}
	ms_local_key_t *keys = realloc(c->keys, (c->count + 1) * sizeof(*keys));
	if (keys == NULL) {
		return false;
	}
	c->keys = keys;
	ms_local_key_t *k = &keys[c->count++];
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", id);
	k->key = *key;
	/* As keymgr lists an imported key: a KSK by its SEP flag. */
	k->role = (key->flags & 1) ? MS_ROLE_KSK : MS_ROLE_ZSK;
	k->public_only = true;
	return true;
}

const ms_dnskey_t *ms_keys_cache_material(const ms_keys_cache_t *c, const char *id,
                                          uint16_t tag, uint8_t algorithm, ms_key_role_t role)
{
	for (size_t i = 0; c != NULL && i < c->count; i++) {
		const ms_local_key_t *k = &c->keys[i];
		if (strcmp(k->id, id) == 0 && k->role == role && k->key.algorithm == algorithm &&
		    ms_dnskey_tag(&k->key) == tag) {
			return &k->key;
		}
	}
	return NULL;
}
