/*
 * Default verification (issue 5): the addresses of the zone's assigned
 * Cloudflare nameservers (the `name_servers` of its zone details), found by
 * small DNS queries (A, and AAAA for a name without A) to the resolvers of
 * /etc/resolv.conf, or to the `verify-resolver` setting. getaddrinfo() cannot
 * be interrupted; these queries go through the local_dns adapter, so every
 * wait is a poll() slice that minds the zone's abort flag and a deadline.
 *
 * Pure pieces (resolv.conf parsing, query, answer parsing, cache decisions)
 * are unit-tested; ms_ns_resolve() is the I/O.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"
#include "settings.h"
#include "views.h"

#define MS_RESOLVERS_MAX        3     /* as the C library's resolver reads */
#define MS_NS_ADDRS_PER_NAME    2     /* addresses asked per nameserver name */
#define MS_NS_CACHE_MIN         60    /* s: shortest cache lifetime */
#define MS_NS_CACHE_MAX         3600  /* s: longest, whatever the answers' TTL */
#define MS_NS_RESOLVE_TIMEOUT_MS 1000 /* per query */
#define MS_RESOLV_CONF          "/etc/resolv.conf"

/* The "nameserver" lines of resolv.conf text: IPv4 and IPv6 literals, at port
 * 53; a scoped IPv6 address (fe80::1%eth0) is skipped. Returns the count (at
 * most cap). */
size_t ms_resolv_conf_parse(const char *text, struct sockaddr_storage *out, size_t cap);

/* The same from a file (MS_RESOLV_CONF); 0 when it cannot be read. */
size_t ms_resolv_conf_read(const char *path, struct sockaddr_storage *out, size_t cap);

/* Query for name (no trailing dot needed) with RD set, no EDNS. */
ms_rc_t ms_ns_resolve_build_query(const char *name, uint16_t qtype, uint16_t id,
                                  uint8_t *buf, size_t cap, size_t *len, ms_err_t *err);

/* Addresses (qtype 1 = A, 28 = AAAA) for name in an answer to the query
 * above, following CNAMEs; port is set on each. *count gets how many (at most
 * cap), *ttl the smallest TTL of the records used. MS_OK with *count 0 when
 * the name has no such address (NODATA); MS_ENOTFOUND for NXDOMAIN;
 * MS_ETRANSPORT for SERVFAIL and other failures; MS_EPARSE for an answer
 * that is not an answer to our question. */
ms_rc_t ms_ns_resolve_parse(const uint8_t *wire, size_t len, const char *name, uint16_t qtype,
                            uint16_t id, uint16_t port, struct sockaddr_storage *out,
                            size_t cap, size_t *count, uint32_t *ttl, ms_err_t *err);

/* What was resolved, and for which names. */
typedef struct {
	char names[MS_MAX_NS][MS_DNAME_MAX + 1]; /* as Cloudflare gave them */
	size_t name_count;
	struct sockaddr_storage addrs[MS_MAX_VERIFY_ADDRS];
	size_t addr_count;
	double expires;                           /* monotonic seconds; 0: never resolved */
} ms_ns_cache_t;

/* Whether the cache holds addresses for exactly these names (in any order,
 * case-insensitively) that are still fresh at now. */
bool ms_ns_cache_fresh(const ms_ns_cache_t *cache, const char (*names)[MS_DNAME_MAX + 1],
                       size_t name_count, double now);

/* Lifetime of a resolution whose smallest TTL was ttl. */
uint32_t ms_ns_cache_lifetime(uint32_t ttl);

/*
 * Resolve names into out: for each name, its A records (at most
 * MS_NS_ADDRS_PER_NAME), or its AAAA records when it has no A. Asks each
 * resolver in turn until one answers. Every address gets port. Fails
 * (nothing in out->addrs) unless every name gave at least one address: a
 * nameserver left out would make keys count as served where it was not
 * asked. out->names gets names; out->expires is left to the caller
 * (*ttl: the smallest TTL seen). MS_ETOOBIG when the addresses do not fit
 * MS_MAX_VERIFY_ADDRS.
 */
ms_rc_t ms_ns_resolve(const struct sockaddr_storage *resolvers, size_t resolver_count,
                      const char (*names)[MS_DNAME_MAX + 1], size_t name_count, uint16_t port,
                      const atomic_bool *abort, ms_ns_cache_t *out, uint32_t *ttl,
                      ms_err_t *err);

/* "192.0.2.1, 2001:db8::1" (ports left out) for logs. */
void ms_ns_addrs_text(const struct sockaddr_storage *addrs, size_t count, char *buf,
                      size_t cap);
