/*
 * What knotd serves for one zone, read with DNS queries to knotd's own
 * listener: apex SOA serial, DNSKEY RRset (with the key tags of the RRSIGs
 * over it) and NS RRset, plus the key tags of the RRSIGs over the SOA.
 *
 * Queries go over UDP (EDNS, DO bit, 1232-byte payload) and are repeated
 * over TCP when the answer is truncated (a DNSKEY RRset with foreign keys
 * can be big). Every wait is a poll() of at most MS_LOCAL_DNS_SLICE_MS, after
 * which the abort flag and the per-query deadline are checked.
 *
 * DNS queries are served by knotd's worker threads, never its main thread,
 * so this is safe from a module thread at any time, also during a reload.
 *
 * Parsing is strict: an answer that is not an authoritative (AA) NOERROR
 * answer to exactly our question, whose answer section holds anything but
 * the asked RRset and RRSIGs over it by the zone, or whose records do not
 * parse, is refused.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnskey.h"
#include "error.h"

#define MS_LOCAL_DNS_MAX_KEYS   32  /* DNSKEY records in the apex RRset */
#define MS_LOCAL_DNS_MAX_SIGS   32  /* RRSIGs over one RRset */
#define MS_LOCAL_DNS_MAX_NS     32  /* NS records at the apex */
#define MS_LOCAL_DNS_NAME_MAX   253 /* presentation length, no trailing dot */
#define MS_LOCAL_DNS_TIMEOUT_MS 1000
#define MS_LOCAL_DNS_SLICE_MS   50
#define MS_LOCAL_DNS_UDP_PAYLOAD 1232

#define MS_RRTYPE_SOA    6
#define MS_RRTYPE_NS     2
#define MS_RRTYPE_DNSKEY 48
#define MS_RRTYPE_CDS    59
#define MS_RRTYPE_CDNSKEY 60

typedef struct {
	struct sockaddr_storage addr; /* knotd's listener, AF_INET or AF_INET6 */
	int timeout_ms;               /* per query (UDP and TCP each); <= 0: 1 s */
	const atomic_bool *abort;     /* may be NULL */
} ms_local_dns_target_t;

typedef struct {
	uint32_t soa_serial;
	uint32_t soa_ttl;
	uint32_t soa_refresh;
	uint16_t soa_sig_tags[MS_LOCAL_DNS_MAX_SIGS];   /* RRSIG(SOA) key tags, unique */
	size_t soa_sig_count;

	ms_dnskey_t dnskeys[MS_LOCAL_DNS_MAX_KEYS];     /* served DNSKEY RRset, unique */
	size_t dnskey_count;                            /* 0: the zone is not signed */
	uint32_t dnskey_ttl;
	uint16_t dnskey_sig_tags[MS_LOCAL_DNS_MAX_SIGS]; /* RRSIG(DNSKEY) key tags, unique */
	size_t dnskey_sig_count;

	char ns[MS_LOCAL_DNS_MAX_NS][MS_LOCAL_DNS_NAME_MAX + 1]; /* lowercase, no
	                                                           trailing dot */
	size_t ns_count;
	uint32_t ns_ttl;

	/* Only from ms_local_dns_read_cds(): key tags of the apex CDS records
	 * (their key-tag field; the delete form counts as 0) and CDNSKEY records. */
	uint16_t cds_tags[MS_LOCAL_DNS_MAX_KEYS];
	size_t cds_count;
	uint16_t cdnskey_tags[MS_LOCAL_DNS_MAX_KEYS];
	size_t cdnskey_count;
} ms_local_zone_t;

/* Target from an address literal ("127.0.0.1", "::1") and port. An
 * unspecified address (0.0.0.0, ::), as knotd may listen on, becomes the
 * loopback address of its family. */
ms_rc_t ms_local_dns_target_set(ms_local_dns_target_t *t, const char *addr, uint16_t port,
                                ms_err_t *err);

/* Same from a socket address (what knotd's `server.listen` gives); AF_UNIX
 * and other families are refused with MS_EINVAL. */
ms_rc_t ms_local_dns_target_from_sockaddr(ms_local_dns_target_t *t,
                                          const struct sockaddr *sa, ms_err_t *err);

/*
 * Read the zone's apex SOA, DNSKEY and NS (three queries, in that order).
 * zone: with or without trailing dot. out is fully rewritten.
 *
 * MS_OK; MS_ETIMEOUT (no answer in time); MS_EABORTED; MS_ETRANSPORT
 * (socket errors, SERVFAIL and other failure RCODEs); MS_ENOTFOUND (knotd
 * answered REFUSED/NOTAUTH/NXDOMAIN: it does not serve the zone);
 * MS_EPARSE (malformed or non-authoritative answer); MS_ETOOBIG (more
 * records than a cap above); MS_EINVAL.
 */
ms_rc_t ms_local_dns_read(const ms_local_dns_target_t *t, const char *zone,
                          ms_local_zone_t *out, ms_err_t *err);

/* Read the apex CDS and CDNSKEY RRsets (two queries; none is no error) into
 * out's cds and cdnskey fields. Same results as ms_local_dns_read(). */
ms_rc_t ms_local_dns_read_cds(const ms_local_dns_target_t *t, const char *zone,
                              ms_local_zone_t *out, ms_err_t *err);

/* One query (qtype SOA, DNSKEY, NS, CDS or CDNSKEY) for the apex; fills only the fields
 * of that type in out (the others are left alone). */
ms_rc_t ms_local_dns_query(const ms_local_dns_target_t *t, const char *zone, uint16_t qtype,
                           ms_local_zone_t *out, ms_err_t *err);

/* A fresh random query id. */
uint16_t ms_local_dns_new_id(void);

/* One exchange for a query the caller built (its id is the header's): over
 * UDP, repeated over TCP when the answer is truncated; bounded by the
 * target's timeout and abort flag like every query here. ans must hold
 * 65535 bytes; *alen gets the answer's length. `what` starts error messages.
 * The answer is not checked beyond its id: the caller parses it. */
ms_rc_t ms_local_dns_exchange(const ms_local_dns_target_t *t, const uint8_t *q, size_t qlen,
                              uint8_t *ans, size_t *alen, const char *what, ms_err_t *err);

/* ---- pieces, exposed for tests ---- */

/* Build our query (EDNS with DO, no RD) into buf; *len gets its size. */
ms_rc_t ms_local_dns_build_query(const char *zone, uint16_t qtype, uint16_t id,
                                 uint8_t *buf, size_t cap, size_t *len, ms_err_t *err);

/*
 * Parse an answer to ms_local_dns_build_query(zone, qtype, id). When the
 * answer has TC set, *truncated becomes true, MS_OK is returned and out is
 * not touched; otherwise fills the fields of qtype like ms_local_dns_query.
 */
ms_rc_t ms_local_dns_parse(const uint8_t *wire, size_t len, const char *zone, uint16_t qtype,
                           uint16_t id, bool *truncated, ms_local_zone_t *out, ms_err_t *err);
