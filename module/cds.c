#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cds.h"
#include "key_tags.h"

bool ms_cds_add_tag(uint16_t *tags, size_t *count, uint16_t tag)
{
	return ms_key_tags_add(tags, count, MS_CDS_MAX_TAGS, tag);
}

/* Same tags, in any order (lists hold no duplicates). */
static bool same_tags(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
	if (na != nb) {
		return false;
	}
	for (size_t i = 0; i < na; i++) {
		if (!ms_key_tags_has(b, nb, a[i])) {
			return false;
		}
	}
	return true;
}

bool ms_cds_set_equal(const ms_cds_set_t *a, const ms_cds_set_t *b)
{
	return same_tags(a->cds, a->cds_count, b->cds, b->cds_count) &&
	       same_tags(a->cdnskey, a->cdnskey_count, b->cdnskey, b->cdnskey_count);
}

static bool holds_all(const uint16_t *tags, size_t count, const uint16_t *want, size_t nwant)
{
	for (size_t i = 0; i < nwant; i++) {
		if (!ms_key_tags_has(tags, count, want[i])) {
			return false;
		}
	}
	return true;
}

static int cmp_tag(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* "none" or "1234 5678", tags in ascending order. */
static void tags_text(const uint16_t *tags, size_t count, char *buf, size_t cap)
{
	uint16_t sorted[MS_CDS_MAX_TAGS];
	size_t n = count < MS_CDS_MAX_TAGS ? count : MS_CDS_MAX_TAGS;
	memcpy(sorted, tags, n * sizeof(tags[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_tag);
	size_t used = 0;
	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, cap, "none");
		return;
	}
	for (size_t i = 0; i < n && used < cap; i++) {
		int w = snprintf(buf + used, cap - used, "%s%u", i > 0 ? " " : "", sorted[i]);
		if (w < 0) {
			return;
		}
		used += (size_t)w;
	}
}

static void side_text(const char *who, const ms_cds_set_t *s, char *buf, size_t cap)
{
	char cds[MS_CDS_MAX_TAGS * 6 + 8], cdnskey[MS_CDS_MAX_TAGS * 6 + 8];
	tags_text(s->cds, s->cds_count, cds, sizeof(cds));
	tags_text(s->cdnskey, s->cdnskey_count, cdnskey, sizeof(cdnskey));
	snprintf(buf, cap, "%s CDS %s, CDNSKEY %s", who, cds, cdnskey);
}

static bool side_empty(const ms_cds_set_t *s)
{
	return s->cds_count == 0 && s->cdnskey_count == 0;
}

/* One side publishes the union: CDS and CDNSKEY name the same keys, all KSKs. */
static bool side_union(const ms_cds_set_t *s, const uint16_t *ksk, size_t nksk)
{
	return same_tags(s->cds, s->cds_count, s->cdnskey, s->cdnskey_count) &&
	       holds_all(s->cds, s->cds_count, ksk, nksk);
}

ms_cds_case_t ms_cds_classify(const ms_cds_set_t *ours,
                              const ms_cds_set_t *theirs, bool cf_consistent,
                              const uint16_t *ksk_tags, size_t ksk_count, char *text,
                              size_t cap)
{
	char buf[MS_CDS_TEXT_MAX];
	if (text == NULL || cap == 0) {
		text = buf;
		cap = sizeof(buf);
	}
	char o[384], t[384], k[MS_CDS_MAX_TAGS * 6 + 8];
	side_text("knotd publishes", ours, o, sizeof(o));
	side_text("Cloudflare's nameservers", theirs, t, sizeof(t));
	tags_text(ksk_tags, ksk_count, k, sizeof(k));

	if (cf_consistent && side_empty(ours) && side_empty(theirs)) {
		snprintf(text, cap, "CDS/CDNSKEY: neither knotd nor Cloudflare's nameservers "
		         "publish any (fine for two signers; the registrar's DS is kept by hand; "
		         "KSKs %s)", k);
		return MS_CDS_SERVED_NONE;
	}
	if (cf_consistent && ksk_count >= 2 && side_union(ours, ksk_tags, ksk_count) &&
	    ms_cds_set_equal(ours, theirs)) {
		snprintf(text, cap, "CDS/CDNSKEY: knotd and Cloudflare's nameservers publish the "
		         "same sets with both providers' KSKs %s (fine for two signers)", k);
		return MS_CDS_SERVED_UNION;
	}
	snprintf(text, cap, "CDS/CDNSKEY differ between the providers: %s; %s%s (KSKs %s); a "
	         "parent following CDS (RFC 8078) would drop the DS of a provider missing from "
	         "the set it reads; set `cds-cdnskey-publish: none` in the Knot policy and use "
	         "no CDS scanning at the registrar, or publish the union at both", o, t,
	         cf_consistent ? "" : " (not at all of them)", k);
	return MS_CDS_SERVED_MISMATCH;
}

size_t ms_cds_ksk_tags(const ms_local_view_t *local, const ms_cf_view_t *cf, uint16_t *tags,
                       size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < local->key_count && n < cap; i++) {
		const ms_local_key_t *key = &local->keys[i];
		if (key->role == MS_ROLE_ZSK || key->public_only) {
			continue;
		}
		bool served = false;
		for (size_t j = 0; j < local->dnskey_count; j++) {
			served |= ms_dnskey_equal(&local->dnskeys[j], &key->key);
		}
		uint16_t tag = ms_dnskey_tag(&key->key);
		if (served && !ms_key_tags_has(tags, n, tag)) {
			tags[n++] = tag;
		}
	}
	if (cf->has_ksk && n < cap) {
		uint16_t tag = ms_dnskey_tag(&cf->ksk);
		if (!ms_key_tags_has(tags, n, tag)) {
			tags[n++] = tag;
		}
	}
	return n;
}

static bool has_ksk_tag(const ms_dnskey_t *keys, size_t count, uint16_t tag)
{
	for (size_t i = 0; i < count; i++) {
		if (ms_dnskey_is_ksk(&keys[i]) && ms_dnskey_tag(&keys[i]) == tag) {
			return true;
		}
	}
	return false;
}

static bool cf_has_ksk_tag(const ms_cf_view_t *cf, uint16_t tag)
{
	if (cf->served_observed) {
		return has_ksk_tag(cf->served_dnskeys, cf->served_dnskey_count, tag);
	}
	if (cf->has_ksk && has_ksk_tag(&cf->ksk, 1, tag)) {
		return true;
	}
	for (size_t i = 0; i < cf->dnskey_count; i++) {
		if (has_ksk_tag(&cf->dnskeys[i].key, 1, tag)) {
			return true;
		}
	}
	return false;
}

bool ms_cds_ksks_shared(const ms_local_view_t *local, const ms_cf_view_t *cf,
                        const uint16_t *ksk_tags, size_t ksk_count, char *text, size_t cap)
{
	uint16_t local_lacks[MS_CDS_MAX_TAGS], cf_lacks[MS_CDS_MAX_TAGS];
	size_t nl = 0, nc = 0;
	for (size_t i = 0; i < ksk_count && i < MS_CDS_MAX_TAGS; i++) {
		if (!has_ksk_tag(local->dnskeys, local->dnskey_count, ksk_tags[i])) {
			local_lacks[nl++] = ksk_tags[i];
		}
		if (!cf_has_ksk_tag(cf, ksk_tags[i])) {
			cf_lacks[nc++] = ksk_tags[i];
		}
	}
	char buf[MS_CDS_TEXT_MAX], k[MS_CDS_MAX_TAGS * 6 + 8], l[sizeof(k)], c[sizeof(k)];
	if (text == NULL || cap == 0) {
		text = buf;
		cap = sizeof(buf);
	}
	tags_text(ksk_tags, ksk_count, k, sizeof(k));
	if (nl == 0 && nc == 0) {
		snprintf(text, cap, "KSK sharing: both DNSKEY RRsets hold the KSKs %s", k);
		return true;
	}
	tags_text(local_lacks, nl, l, sizeof(l));
	tags_text(cf_lacks, nc, c, sizeof(c));
	snprintf(text, cap, "KSK sharing: the DNSKEY RRsets do not both hold the KSKs %s: "
	         "knotd lacks %s, "
	         "Cloudflare lacks %s (the module adds them on its next passes; if this lasts, "
	         "look for a failed KSK import or export in the log)", k, l, c);
	return false;
}

const char *ms_cds_case_name(ms_cds_case_t c)
{
	switch (c) {
	case MS_CDS_SERVED_NONE:     return "none";
	case MS_CDS_SERVED_UNION:    return "union";
	case MS_CDS_SERVED_MISMATCH: return "mismatch";
	case MS_CDS_SERVED_UNCHECKED: break;
	}
	return "unchecked";
}
