#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "dnskey.h"

/* Public key lengths that algorithms fix (RFC 6605, RFC 8080). RSA keys vary. */
static long fixed_key_len(uint8_t algorithm)
{
	switch (algorithm) {
	case 13: return 64;  /* ECDSA P-256 */
	case 14: return 96;  /* ECDSA P-384 */
	case 15: return 32;  /* Ed25519 */
	case 16: return 57;  /* Ed448 */
	default: return -1;
	}
}

static ms_rc_t check_fields(long flags, long protocol, long algorithm, ms_err_t *err)
{
	if (flags < 0 || flags > 0xffff || (flags & MS_DNSKEY_FLAG_ZONE) == 0) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY flags %ld are not a zone key's", flags);
	}
	if (protocol != MS_DNSKEY_PROTOCOL) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY protocol %ld is not 3", protocol);
	}
	if (algorithm < 1 || algorithm > 255) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY algorithm %ld is not valid", algorithm);
	}
	return MS_OK;
}

static ms_rc_t check_key_len(const ms_dnskey_t *k, ms_err_t *err)
{
	long want = fixed_key_len(k->algorithm);
	if (k->pubkey_len == 0) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY public key is empty");
	}
	if (want > 0 && k->pubkey_len != want) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY public key has %u bytes, algorithm %u "
		                  "needs %ld", k->pubkey_len, k->algorithm, want);
	}
	return MS_OK;
}

ms_rc_t ms_dnskey_from_b64(uint16_t flags, long protocol, long algorithm,
                           const char *pubkey_b64, ms_dnskey_t *out, ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	ms_rc_t rc = check_fields(flags, protocol, algorithm, err);
	if (rc != MS_OK) {
		return rc;
	}
	out->flags = flags;
	out->protocol = (uint8_t)protocol;
	out->algorithm = (uint8_t)algorithm;
	size_t len = 0;
	if (pubkey_b64 == NULL ||
	    !ms_b64_decode(pubkey_b64, out->pubkey, sizeof(out->pubkey), &len)) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY public key is not valid base64");
	}
	out->pubkey_len = (uint16_t)len;
	return check_key_len(out, err);
}

static bool parse_long(const char **p, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(*p, &end, 10);
	if (end == *p || errno != 0 || (*end != ' ' && *end != '\t')) {
		return false;
	}
	*out = v;
	*p = end;
	return true;
}

ms_rc_t ms_dnskey_from_text(const char *rdata, ms_dnskey_t *out, ms_err_t *err)
{
	long flags, protocol, algorithm;
	const char *p = rdata;
	if (p == NULL || !parse_long(&p, &flags) || !parse_long(&p, &protocol) ||
	    !parse_long(&p, &algorithm)) {
		memset(out, 0, sizeof(*out));
		return ms_err_set(err, MS_EPARSE, "DNSKEY rdata is not 'flags protocol algorithm key'");
	}
	if (flags < 0 || flags > 0xffff) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY flags %ld are out of range", flags);
	}
	return ms_dnskey_from_b64((uint16_t)flags, protocol, algorithm, p, out, err);
}

ms_rc_t ms_dnskey_from_wire(const uint8_t *rdata, size_t len, ms_dnskey_t *out, ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	if (len < 5 || len - 4 > MS_DNSKEY_PUBKEY_MAX) {
		return ms_err_set(err, MS_EPARSE, "DNSKEY rdata length %zu is invalid", len);
	}
	long flags = ((long)rdata[0] << 8) | rdata[1];
	ms_rc_t rc = check_fields(flags, rdata[2], rdata[3], err);
	if (rc != MS_OK) {
		return rc;
	}
	out->flags = (uint16_t)flags;
	out->protocol = rdata[2];
	out->algorithm = rdata[3];
	out->pubkey_len = (uint16_t)(len - 4);
	memcpy(out->pubkey, rdata + 4, len - 4);
	return check_key_len(out, err);
}

size_t ms_dnskey_to_wire(const ms_dnskey_t *key, uint8_t *buf, size_t cap)
{
	size_t len = 4 + (size_t)key->pubkey_len;
	if (cap < len) {
		return 0;
	}
	buf[0] = (uint8_t)(key->flags >> 8);
	buf[1] = (uint8_t)key->flags;
	buf[2] = key->protocol;
	buf[3] = key->algorithm;
	memcpy(buf + 4, key->pubkey, key->pubkey_len);
	return len;
}

bool ms_dnskey_pubkey_b64(const ms_dnskey_t *key, char *buf, size_t cap)
{
	return ms_b64_encode(key->pubkey, key->pubkey_len, buf, cap);
}

uint16_t ms_dnskey_tag(const ms_dnskey_t *key)
{
	uint8_t wire[4 + MS_DNSKEY_PUBKEY_MAX];
	size_t len = ms_dnskey_to_wire(key, wire, sizeof(wire));
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++) {
		ac += (i & 1) ? wire[i] : (uint32_t)wire[i] << 8;
	}
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

bool ms_dnskey_equal(const ms_dnskey_t *a, const ms_dnskey_t *b)
{
	return a->flags == b->flags && a->protocol == b->protocol &&
	       a->algorithm == b->algorithm && a->pubkey_len == b->pubkey_len &&
	       memcmp(a->pubkey, b->pubkey, a->pubkey_len) == 0;
}
