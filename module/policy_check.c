#include <stdarg.h>
#include <stdio.h>

#include "policy_check.h"

typedef struct {
	ms_check_note_t *notes;
	size_t cap, count;
} sink_t;

static void add(sink_t *sink, bool refuse, bool info, const char *fmt, va_list ap)
{
	if (sink->count == sink->cap) {
		return;
	}
	ms_check_note_t *n = &sink->notes[sink->count++];
	n->refuse = refuse;
	n->info = info;
	vsnprintf(n->text, sizeof(n->text), fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static void note(sink_t *sink, bool refuse, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(sink, refuse, false, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void sink_info(sink_t *sink, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(sink, false, true, fmt, ap);
	va_end(ap);
}

static void check_signing(const ms_knot_env_t *env, sink_t *sink)
{
	if (!env->signing) {
		note(sink, true, "the zone is not signed by knotd (dnssec-signing is off): "
		     "there is nothing to share with Cloudflare; set dnssec-signing: on");
	} else if (env->algorithm != MS_CF_ALGORITHM) {
		note(sink, true, "the zone's policy signs with algorithm %u, Cloudflare only with "
		     "%d (ECDSAP256SHA256), and RFC 8901 needs one algorithm: set the policy's "
		     "algorithm to ecdsap256sha256", env->algorithm, MS_CF_ALGORITHM);
	}
}

/* Rule 6: CDS/CDNSKEY must be the same at both providers and hold both KSKs.
 * Measured on Knot 3.2.6 (doc/cds-cdnskey.md): a KSK imported with keymgr
 * import-pub is published in the DNSKEY RRset but left out of CDS/CDNSKEY
 * (with 'always' too) unless its `ready` timer is set; this module does not
 * import Cloudflare's KSK, so only 'none' keeps knotd from publishing a set
 * without it. Which case holds is stated for every zone. */
static void check_cds(const ms_knot_env_t *env, sink_t *sink)
{
	if (!env->signing) {
		return;
	}
	if (env->cds_cdnskey_publish == MS_CDS_NONE) {
		sink_info(sink, "CDS/CDNSKEY: knotd publishes none (cds-cdnskey-publish: none), so "
		          "it never offers the parent a set without Cloudflare's KSK (RFC 8901 "
		          "rule 6); keep DS updates at the registrar manual for this zone (no "
		          "CDS/CDNSKEY scanning, since Cloudflare's own set lacks our KSK) and give "
		          "it the DS records of both KSKs that this module logs");
		return;
	}
	note(sink, false, "the policy's cds-cdnskey-publish is not 'none': knotd publishes "
	     "CDS/CDNSKEY with its own KSK only (Knot leaves out Cloudflare's KSK), which can "
	     "make a parent that follows CDS drop Cloudflare's DS; set cds-cdnskey-publish: none");
}

/* Rule 3: a new ZSK must be in every provider's DNSKEY RRset for TTL_K (the
 * largest DNSKEY TTL) before it signs. knotd signs with it at publish +
 * propagation-delay + its own DNSKEY TTL; it reaches Cloudflare within one
 * check interval + the API round trips at worst. So propagation-delay must
 * cover that lag plus whatever Cloudflare's DNSKEY TTL exceeds ours by. An
 * unknown local TTL (0: taken from the SOA) counts as 0, the safe side. */
static void check_timing(const ms_knot_env_t *env, const ms_settings_t *s, sink_t *sink)
{
	unsigned ttl_k = env->dnskey_ttl > MS_CF_DNSKEY_TTL ? env->dnskey_ttl : MS_CF_DNSKEY_TTL;
	unsigned need = s->check_interval + MS_API_LATENCY_ALLOWANCE + ttl_k - env->dnskey_ttl;
	if (env->signing && env->propagation_delay < need) {
		note(sink, false, "the policy's propagation-delay (%u s) is shorter than check "
		     "interval (%u s) + API latency (%d s) + largest DNSKEY TTL (%u s) - the "
		     "policy's dnskey-ttl (%u s) = %u s: a new ZSK may sign before resolvers "
		     "holding Cloudflare's DNSKEY RRset know it; raise propagation-delay",
		     env->propagation_delay, s->check_interval, MS_API_LATENCY_ALLOWANCE,
		     ttl_k, env->dnskey_ttl, need);
	}
}

size_t ms_policy_check(const ms_knot_env_t *env, const ms_settings_t *s,
                       ms_check_note_t *notes, size_t cap)
{
	sink_t sink = { .notes = notes, .cap = cap };
	check_signing(env, &sink);
	check_cds(env, &sink);
	check_timing(env, s, &sink);
	return sink.count;
}
