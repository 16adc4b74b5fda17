#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "local_dns.h"
#include "ns_resolve.h"

#define WIRE_MAX    65535
#define CNAME_HOPS  8
#define RRTYPE_A    1
#define RRTYPE_AAAA 28

/* ---- resolv.conf ------------------------------------------------------- */

static bool set_addr(const char *text, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return true;
	}
	return false;
}

size_t ms_resolv_conf_parse(const char *text, struct sockaddr_storage *out, size_t cap)
{
	size_t count = 0;
	const char *line = text;
	while (line != NULL && *line != '\0' && count < cap) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char buf[256];
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			char word[16], addr[INET6_ADDRSTRLEN + 1];
			/* "nameserver ADDR", leading blanks allowed; '#'/';' comments. */
			if (sscanf(buf, " %15s %46s", word, addr) == 2 &&
			    strcmp(word, "nameserver") == 0 && set_addr(addr, 53, &out[count])) {
				count++;
			}
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return count;
}

size_t ms_resolv_conf_read(const char *path, struct sockaddr_storage *out, size_t cap)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return 0;
	}
	char text[4096];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return ms_resolv_conf_parse(text, out, cap);
}

/* ---- query and answer -------------------------------------------------- */

static bool name_to_dname(const char *name, knot_dname_storage_t out)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > MS_DNAME_MAX + 1 ||
	    knot_dname_from_str(out, name, KNOT_DNAME_MAXLEN) == NULL) {
		return false;
	}
	knot_dname_to_lower(out);
	return true;
}

static const char *qtype_name(uint16_t qtype)
{
	return qtype == RRTYPE_A ? "A" : qtype == RRTYPE_AAAA ? "AAAA" : "?";
}

ms_rc_t ms_ns_resolve_build_query(const char *name, uint16_t qtype, uint16_t id,
                                  uint8_t *buf, size_t cap, size_t *len, ms_err_t *err)
{
	knot_dname_storage_t qname;
	if (!name_to_dname(name, qname)) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a nameserver name",
		                  name != NULL ? name : "(null)");
	}
	if (cap > UINT16_MAX) {
		cap = UINT16_MAX;
	}
	memset(buf, 0, cap);
	knot_pkt_t *pkt = knot_pkt_new(buf, (uint16_t)cap, NULL);
	if (pkt == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory building a DNS query");
	}
	knot_wire_set_id(pkt->wire, id);
	knot_wire_set_rd(pkt->wire);
	int ret = knot_pkt_put_question(pkt, qname, KNOT_CLASS_IN, qtype);
	*len = pkt->size;
	knot_pkt_free(pkt);
	if (ret != KNOT_EOK) {
		return ms_err_set(err, MS_EINVAL, "cannot build the %s query for %s: %s",
		                  qtype_name(qtype), name, knot_strerror(ret));
	}
	return MS_OK;
}

static bool question_ok(const knot_pkt_t *pkt, const knot_dname_t *qname, uint16_t qtype)
{
	return knot_wire_get_qdcount(pkt->wire) == 1 && knot_pkt_qname(pkt) != NULL &&
	       knot_dname_is_equal(knot_pkt_qname(pkt), qname) &&
	       knot_pkt_qtype(pkt) == qtype && knot_pkt_qclass(pkt) == KNOT_CLASS_IN;
}

static void put_addr(const knot_rdata_t *rd, uint16_t qtype, uint16_t port,
                     struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (qtype == RRTYPE_A) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, rd->data, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, rd->data, 16);
	}
}

/* The answer's records for owner after following CNAMEs from qname. */
static ms_rc_t collect(const knot_pktsection_t *ans, knot_dname_t *owner, uint16_t qtype,
                       uint16_t port, struct sockaddr_storage *out, size_t cap, size_t *count,
                       uint32_t *ttl, const char *what, ms_err_t *err)
{
	for (int hop = 0; hop < CNAME_HOPS; hop++) {
		bool moved = false;
		for (uint16_t i = 0; i < ans->count && !moved; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(ans, i);
			if (rr->type == KNOT_RRTYPE_CNAME && rr->rrs.count == 1 &&
			    knot_dname_is_case_equal(rr->owner, owner)) {
				const knot_dname_t *target = knot_cname_name(rr->rrs.rdata);
				if (knot_dname_size(target) > KNOT_DNAME_MAXLEN) {
					return ms_err_set(err, MS_EPARSE, "%s has a bad CNAME", what);
				}
				memcpy(owner, target, knot_dname_size(target));
				knot_dname_to_lower(owner);
				*ttl = rr->ttl < *ttl ? rr->ttl : *ttl;
				moved = true;
			}
		}
		if (!moved) {
			break;
		}
	}
	size_t want = qtype == RRTYPE_A ? 4 : 16;
	for (uint16_t i = 0; i < ans->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(ans, i);
		if (rr->type != qtype || rr->rclass != KNOT_CLASS_IN ||
		    !knot_dname_is_case_equal(rr->owner, owner)) {
			continue;
		}
		for (uint16_t j = 0; j < rr->rrs.count && *count < cap; j++) {
			const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, j);
			if (rd->len != want) {
				return ms_err_set(err, MS_EPARSE, "%s has a malformed %s record", what,
				                  qtype_name(qtype));
			}
			put_addr(rd, qtype, port, &out[(*count)++]);
			*ttl = rr->ttl < *ttl ? rr->ttl : *ttl;
		}
	}
	return MS_OK;
}

ms_rc_t ms_ns_resolve_parse(const uint8_t *wire, size_t len, const char *name, uint16_t qtype,
                            uint16_t id, uint16_t port, struct sockaddr_storage *out,
                            size_t cap, size_t *count, uint32_t *ttl, ms_err_t *err)
{
	*count = 0;
	*ttl = UINT32_MAX;
	knot_dname_storage_t qname;
	if (!name_to_dname(name, qname) || (qtype != RRTYPE_A && qtype != RRTYPE_AAAA)) {
		return ms_err_set(err, MS_EINVAL, "cannot parse an answer for %s %s",
		                  name != NULL ? name : "(null)", qtype_name(qtype));
	}
	char what[64 + MS_DNAME_MAX];
	snprintf(what, sizeof(what), "the resolver's answer to %s %s", qtype_name(qtype), name);
	if (wire == NULL || len < KNOT_WIRE_HEADER_SIZE || len > WIRE_MAX) {
		return ms_err_set(err, MS_EPARSE, "%s is not a DNS message", what);
	}
	if (!knot_wire_get_qr(wire) || knot_wire_get_id(wire) != id) {
		return ms_err_set(err, MS_EPARSE, "%s is not a response to our query", what);
	}
	/* knot_pkt_parse() rewrites what it parses: it gets a buffer of its own. */
	knot_pkt_t *pkt = knot_pkt_new(NULL, (uint16_t)len, NULL);
	if (pkt == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory parsing %s", what);
	}
	memcpy(pkt->wire, wire, len);
	pkt->size = len;
	ms_rc_t rc = MS_OK;
	int ret = knot_pkt_parse(pkt, 0);
	if (ret != KNOT_EOK) {
		rc = ms_err_set(err, MS_EPARSE, "%s is malformed: %s", what, knot_strerror(ret));
	} else if (!question_ok(pkt, qname, qtype)) {
		rc = ms_err_set(err, MS_EPARSE, "%s does not repeat the question", what);
	} else if (knot_wire_get_tc(pkt->wire)) {
		rc = ms_err_set(err, MS_EPARSE, "%s is truncated", what);
	} else if (knot_pkt_ext_rcode(pkt) == KNOT_RCODE_NXDOMAIN) {
		rc = ms_err_set(err, MS_ENOTFOUND, "%s is NXDOMAIN: the name does not exist", what);
	} else if (knot_pkt_ext_rcode(pkt) != KNOT_RCODE_NOERROR) {
		rc = ms_err_set(err, MS_ETRANSPORT, "%s is %s", what, knot_pkt_ext_rcode_name(pkt));
	} else {
		rc = collect(knot_pkt_section(pkt, KNOT_ANSWER), qname, qtype, port, out, cap, count,
		             ttl, what, err);
	}
	knot_pkt_free(pkt);
	if (rc != MS_OK) {
		*count = 0;
	}
	return rc;
}

/* ---- cache ------------------------------------------------------------- */

static bool has_name(const char (*names)[MS_DNAME_MAX + 1], size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (ms_dname_equal(names[i], name)) {
			return true;
		}
	}
	return false;
}

bool ms_ns_cache_fresh(const ms_ns_cache_t *cache, const char (*names)[MS_DNAME_MAX + 1],
                       size_t name_count, double now)
{
	if (cache->addr_count == 0 || now >= cache->expires || name_count != cache->name_count) {
		return false;
	}
	for (size_t i = 0; i < name_count; i++) {
		if (!has_name(cache->names, cache->name_count, names[i]) ||
		    !has_name(names, name_count, cache->names[i])) {
			return false;
		}
	}
	return true;
}

uint32_t ms_ns_cache_lifetime(uint32_t ttl)
{
	return ttl < MS_NS_CACHE_MIN ? MS_NS_CACHE_MIN : ttl > MS_NS_CACHE_MAX ? MS_NS_CACHE_MAX : ttl;
}

/* ---- resolution -------------------------------------------------------- */

static ms_rc_t ask(const struct sockaddr_storage *resolver, const char *name, uint16_t qtype,
                   uint16_t port, const atomic_bool *abort, uint8_t *ans,
                   struct sockaddr_storage *out, size_t cap, size_t *count, uint32_t *ttl,
                   ms_err_t *err)
{
	ms_local_dns_target_t t;
	ms_rc_t rc = ms_local_dns_target_from_sockaddr(&t, (const struct sockaddr *)resolver, err);
	if (rc != MS_OK) {
		return rc;
	}
	t.timeout_ms = MS_NS_RESOLVE_TIMEOUT_MS;
	t.abort = abort;
	uint8_t q[512];
	size_t qlen = 0, alen = 0;
	uint16_t id = ms_local_dns_new_id();
	rc = ms_ns_resolve_build_query(name, qtype, id, q, sizeof(q), &qlen, err);
	if (rc == MS_OK) {
		char what[64 + MS_DNAME_MAX];
		snprintf(what, sizeof(what), "asking the resolver for %s %s", qtype_name(qtype), name);
		rc = ms_local_dns_exchange(&t, q, qlen, ans, &alen, what, err);
	}
	if (rc == MS_OK) {
		rc = ms_ns_resolve_parse(ans, alen, name, qtype, id, port, out, cap, count, ttl, err);
	}
	return rc;
}

/* One name: A, or AAAA when it has no A; the first resolver that answers. */
static ms_rc_t resolve_name(const struct sockaddr_storage *resolvers, size_t resolver_count,
                            const char *name, uint16_t port, const atomic_bool *abort,
                            uint8_t *ans, struct sockaddr_storage *out, size_t *count,
                            uint32_t *ttl, ms_err_t *err)
{
	ms_rc_t rc = ms_err_set(err, MS_EINVAL, "no resolver to ask");
	for (size_t r = 0; r < resolver_count; r++) {
		static const uint16_t types[] = { RRTYPE_A, RRTYPE_AAAA };
		for (size_t k = 0; k < 2; k++) {
			rc = ask(&resolvers[r], name, types[k], port, abort, ans, out,
			         MS_NS_ADDRS_PER_NAME, count, ttl, err);
			if (rc != MS_OK || *count > 0) {
				break;
			}
		}
		if (rc == MS_OK || rc == MS_EABORTED || rc == MS_ENOTFOUND) {
			break; /* an answer (even "no such name") is the answer */
		}
	}
	if (rc == MS_OK && *count == 0) {
		rc = ms_err_set(err, MS_ENOTFOUND, "%s has no A or AAAA record", name);
	}
	return rc;
}

ms_rc_t ms_ns_resolve(const struct sockaddr_storage *resolvers, size_t resolver_count,
                      const char (*names)[MS_DNAME_MAX + 1], size_t name_count, uint16_t port,
                      const atomic_bool *abort, ms_ns_cache_t *out, uint32_t *ttl,
                      ms_err_t *err)
{
	memset(out, 0, sizeof(*out));
	*ttl = UINT32_MAX;
	if (name_count == 0) {
		return ms_err_set(err, MS_ENOTFOUND, "Cloudflare assigned no nameservers to the zone");
	}
	if (name_count > MS_MAX_NS) {
		return ms_err_set(err, MS_ETOOBIG, "more than %d nameserver names", MS_MAX_NS);
	}
	uint8_t *ans = malloc(WIRE_MAX);
	if (ans == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t rc = MS_OK;
	for (size_t i = 0; i < name_count && rc == MS_OK; i++) {
		struct sockaddr_storage found[MS_NS_ADDRS_PER_NAME];
		size_t n = 0;
		uint32_t t = UINT32_MAX;
		ms_err_t e = { 0 };
		rc = resolve_name(resolvers, resolver_count, names[i], port, abort, ans, found, &n,
		                  &t, &e);
		if (rc != MS_OK) {
			ms_err_set(err, rc, "%s", e.msg); /* it names the name */
		} else if (out->addr_count + n > MS_MAX_VERIFY_ADDRS) {
			rc = ms_err_set(err, MS_ETOOBIG, "Cloudflare's nameservers have more than %d "
			                "addresses", MS_MAX_VERIFY_ADDRS);
		} else {
			memcpy(&out->addrs[out->addr_count], found, n * sizeof(found[0]));
			out->addr_count += n;
			*ttl = t < *ttl ? t : *ttl;
			snprintf(out->names[out->name_count++], MS_DNAME_MAX + 1, "%s", names[i]);
		}
	}
	free(ans);
	if (rc != MS_OK) {
		out->addr_count = 0;
		out->name_count = 0;
	}
	return rc;
}

void ms_ns_addrs_text(const struct sockaddr_storage *addrs, size_t count, char *buf,
                      size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < count && used < cap; i++) {
		char ip[INET6_ADDRSTRLEN] = "?";
		if (addrs[i].ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&addrs[i])->sin6_addr, ip,
			          sizeof(ip));
		} else {
			inet_ntop(AF_INET, &((const struct sockaddr_in *)&addrs[i])->sin_addr, ip,
			          sizeof(ip));
		}
		int w = snprintf(buf + used, cap - used, "%s%s", i > 0 ? ", " : "", ip);
		if (w < 0) {
			break;
		}
		used += (size_t)w;
	}
}
