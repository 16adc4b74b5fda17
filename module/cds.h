/*
 * CDS/CDNSKEY with two signers (RFC 8901 rule 6, doc/cds-cdnskey.md): both
 * providers must publish the same CDS/CDNSKEY sets holding the union of both
 * providers' KSKs, or neither publishes any. A set that lacks the other
 * provider's KSK makes a parent that follows CDS (RFC 8078) drop that
 * provider's DS, and resolvers asking that provider then fail.
 *
 * Pure: the sets are what DNS answers showed (key tags of the CDS and the
 * CDNSKEY records served at the apex); the sync pass reads them and logs the
 * case when it changes. Keys are compared by key tag; a tag shared by two
 * keys is refused elsewhere (the tag-collision check).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "views.h"

#define MS_CDS_MAX_TAGS 16
#define MS_CDS_TEXT_MAX 1024
#define MS_CDS_KSK_TEXT_MAX 512  /* the KSK sharing sentence */

/* What one provider serves. A CDS record's tag is its key-tag field; the
 * delete form (RFC 8078 section 4, algorithm 0) counts as tag 0. */
typedef struct {
	uint16_t cds[MS_CDS_MAX_TAGS];
	size_t cds_count;
	uint16_t cdnskey[MS_CDS_MAX_TAGS];
	size_t cdnskey_count;
} ms_cds_set_t;

typedef enum {
	MS_CDS_SERVED_UNCHECKED = 0, /* verification off, or a side did not answer */
	MS_CDS_SERVED_NONE,          /* neither provider publishes CDS/CDNSKEY: fine */
	MS_CDS_SERVED_UNION,         /* both publish the same union of both KSKs: fine */
	MS_CDS_SERVED_MISMATCH,      /* anything else: a parent following CDS may break one side */
} ms_cds_case_t;

/* The same tags in both lists of both sets, in any order. */
bool ms_cds_set_equal(const ms_cds_set_t *a, const ms_cds_set_t *b);

/* Add tag to a set's list (no duplicates); false when full. */
bool ms_cds_add_tag(uint16_t *tags, size_t *count, uint16_t tag);

/*
 * Classify what knotd (ours) and Cloudflare's nameservers (theirs) serve.
 * ksk_tags are both providers' KSKs (ms_cds_ksk_tags()). cf_consistent is
 * false when Cloudflare's nameservers did not all serve the same sets (then
 * never fine). text (may be NULL) gets one sentence for the log: the case,
 * who publishes which key tags, and for a mismatch why it is dangerous and
 * what to do.
 */
ms_cds_case_t ms_cds_classify(const ms_cds_set_t *ours,
                              const ms_cds_set_t *theirs, bool cf_consistent,
                              const uint16_t *ksk_tags, size_t ksk_count, char *text,
                              size_t cap);

/* Both providers' KSKs: ours (keys in our key database with the KSK or CSK
 * role, not imported, published in the served DNSKEY RRset) and Cloudflare's
 * (from its DNSSEC details, when it reported one). Returns the count. */
size_t ms_cds_ksk_tags(const ms_local_view_t *local, const ms_cf_view_t *cf, uint16_t *tags,
                       size_t cap);

/* Rule 6 input: whether both providers' DNSKEY RRsets hold every KSK of
 * ksk_tags (ms_cds_ksk_tags()): knotd's served RRset, and Cloudflare's as
 * served by DNS when observed, else as its API shows it (its KSK plus the
 * apex DNSKEY records). text (may be NULL) gets one sentence for the log
 * ("KSK sharing: ..."), naming the KSK tags a side lacks. */
bool ms_cds_ksks_shared(const ms_local_view_t *local, const ms_cf_view_t *cf,
                        const uint16_t *ksk_tags, size_t ksk_count, char *text, size_t cap);

/* "none", "union", "mismatch", "unchecked" (the status file's value). */
const char *ms_cds_case_name(ms_cds_case_t c);
