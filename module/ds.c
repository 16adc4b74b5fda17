#include <gnutls/crypto.h>
#include <libknot/libknot.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ds.h"

#define SHA256_LEN 32

ms_rc_t ms_ds_from_dnskey(const char *zone, const ms_dnskey_t *key, ms_ds_t *out,
                          ms_err_t *err)
{
	if (zone == NULL || key == NULL || out == NULL) {
		return ms_err_set(err, MS_EINVAL, "no zone or key for a DS");
	}
	if (!(key->flags & MS_DNSKEY_FLAG_ZONE)) {
		return ms_err_set(err, MS_EINVAL, "key %u of zone %s is not a zone key: no DS",
		                  ms_dnskey_tag(key), zone);
	}
	/* digest = SHA-256(owner name in canonical wire form | DNSKEY rdata) */
	uint8_t buf[KNOT_DNAME_MAXLEN + 4 + MS_DNSKEY_PUBKEY_MAX];
	if (knot_dname_from_str(buf, zone, KNOT_DNAME_MAXLEN) == NULL) {
		return ms_err_set(err, MS_EINVAL, "zone name %s is not a DNS name", zone);
	}
	knot_dname_to_lower(buf);
	size_t name_len = knot_dname_size(buf);
	size_t rdata_len = ms_dnskey_to_wire(key, buf + name_len, sizeof(buf) - name_len);
	if (rdata_len == 0) {
		return ms_err_set(err, MS_EINVAL, "key %u of zone %s does not fit a DS computation",
		                  ms_dnskey_tag(key), zone);
	}
	uint8_t sum[SHA256_LEN];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, name_len + rdata_len, sum) != 0) {
		return ms_err_set(err, MS_EIO, "SHA-256 failed computing the DS of key %u of %s",
		                  ms_dnskey_tag(key), zone);
	}
	memset(out, 0, sizeof(*out));
	out->key_tag = ms_dnskey_tag(key);
	out->algorithm = key->algorithm;
	out->digest_type = MS_DS_DIGEST_SHA256;
	for (size_t i = 0; i < SHA256_LEN; i++) {
		snprintf(out->digest + 2 * i, 3, "%02X", sum[i]);
	}
	return MS_OK;
}

bool ms_ds_format(const char *zone, const ms_ds_t *ds, char *buf, size_t cap)
{
	size_t n = strlen(zone);
	const char *dot = (n > 0 && zone[n - 1] == '.') ? "" : ".";
	int w = snprintf(buf, cap, "%s%s IN DS %u %u %u %s", zone, dot, ds->key_tag,
	                 ds->algorithm, ds->digest_type, ds->digest);
	return w > 0 && (size_t)w < cap;
}

static bool is_our_key(const ms_local_view_t *local, const ms_dnskey_t *key)
{
	for (size_t i = 0; i < local->key_count; i++) {
		if (!local->keys[i].public_only && ms_dnskey_equal(&local->keys[i].key, key)) {
			return true;
		}
	}
	return false;
}

static bool add_ds(const char *zone, const ms_dnskey_t *key, bool cloudflare, ms_ds_t *out,
                   size_t *count, size_t cap)
{
	if (*count >= cap || ms_ds_from_dnskey(zone, key, &out[*count], NULL) != MS_OK) {
		return false;
	}
	for (size_t i = 0; i < *count; i++) {
		if (strcmp(out[i].digest, out[*count].digest) == 0) {
			return false;
		}
	}
	out[(*count)++].cloudflare = cloudflare;
	return true;
}

size_t ms_ds_report(const char *zone, const ms_local_view_t *local, const ms_cf_view_t *cf,
                    ms_ds_t *out, size_t cap)
{
	size_t count = 0;
	for (size_t i = 0; local != NULL && i < local->dnskey_count; i++) {
		const ms_dnskey_t *key = &local->dnskeys[i];
		if (ms_dnskey_is_ksk(key) && is_our_key(local, key)) {
			add_ds(zone, key, false, out, &count, cap);
		}
	}
	if (cf != NULL && cf->has_ksk && ms_dnskey_is_ksk(&cf->ksk)) {
		add_ds(zone, &cf->ksk, true, out, &count, cap);
	}
	return count;
}

bool ms_ds_matches(const ms_ds_t *ds, uint16_t key_tag, uint8_t digest_type,
                   const char *digest)
{
	if (digest == NULL || digest[0] == '\0') {
		return true;
	}
	return ds->key_tag == key_tag && ds->digest_type == digest_type &&
	       strcasecmp(ds->digest, digest) == 0;
}
