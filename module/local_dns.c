#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "key_tags.h"
#include "local_dns.h"

#define WIRE_MAX 65535

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *type_name(uint16_t qtype)
{
	switch (qtype) {
	case MS_RRTYPE_SOA:    return "SOA";
	case MS_RRTYPE_NS:     return "NS";
	case MS_RRTYPE_DNSKEY: return "DNSKEY";
	case MS_RRTYPE_CDS:    return "CDS";
	case MS_RRTYPE_CDNSKEY: return "CDNSKEY";
	}
	return "?";
}

/* ---- targets ---------------------------------------------------------- */

static ms_rc_t set_sockaddr(ms_local_dns_target_t *t, const struct sockaddr *sa, ms_err_t *err)
{
	memset(&t->addr, 0, sizeof(t->addr));
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&t->addr;
		memcpy(in, sa, sizeof(*in));
		if (in->sin_addr.s_addr == htonl(INADDR_ANY)) {
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		}
		if (in->sin_port == 0) {
			return ms_err_set(err, MS_EINVAL, "knotd's listen address has no port");
		}
		return MS_OK;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->addr;
		memcpy(in6, sa, sizeof(*in6));
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
			in6->sin6_addr = in6addr_loopback;
		}
		if (in6->sin6_port == 0) {
			return ms_err_set(err, MS_EINVAL, "knotd's listen address has no port");
		}
		return MS_OK;
	}
	return ms_err_set(err, MS_EINVAL, "knotd's listen address (family %d) is not IPv4 or IPv6: "
	                  "add an IP address to server.listen", (int)sa->sa_family);
}

ms_rc_t ms_local_dns_target_set(ms_local_dns_target_t *t, const char *addr, uint16_t port,
                                ms_err_t *err)
{
	if (t == NULL || addr == NULL) {
		return ms_err_set(err, MS_EINVAL, "no address for knotd's listener");
	}
	memset(t, 0, sizeof(*t));
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	if (inet_pton(AF_INET, addr, &in.sin_addr) == 1) {
		return set_sockaddr(t, (struct sockaddr *)&in, err);
	}
	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1) {
		return set_sockaddr(t, (struct sockaddr *)&in6, err);
	}
	return ms_err_set(err, MS_EINVAL, "'%s' is not an IPv4 or IPv6 address", addr);
}

ms_rc_t ms_local_dns_target_from_sockaddr(ms_local_dns_target_t *t,
                                          const struct sockaddr *sa, ms_err_t *err)
{
	if (t == NULL || sa == NULL) {
		return ms_err_set(err, MS_EINVAL, "no address for knotd's listener");
	}
	memset(t, 0, sizeof(*t));
	return set_sockaddr(t, sa, err);
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
	}
	snprintf(buf, cap, "%s@%u", ip, port);
}

/* ---- names ------------------------------------------------------------ */

static ms_rc_t zone_dname(const char *zone, knot_dname_storage_t out, ms_err_t *err)
{
	if (zone == NULL || zone[0] == '\0' || strlen(zone) > MS_LOCAL_DNS_NAME_MAX + 1) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a zone name", zone ? zone : "(null)");
	}
	if (knot_dname_from_str(out, zone, KNOT_DNAME_MAXLEN) == NULL) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a zone name", zone);
	}
	knot_dname_to_lower(out);
	return MS_OK;
}

/* Lowercase presentation form without the trailing dot. */
static ms_rc_t name_text(const knot_dname_t *name, char *buf, size_t cap, ms_err_t *err)
{
	char tmp[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(tmp, name, sizeof(tmp)) == NULL) {
		return ms_err_set(err, MS_EPARSE, "a name in the answer cannot be printed");
	}
	size_t n = strlen(tmp);
	if (n > 1 && tmp[n - 1] == '.') {
		tmp[--n] = '\0';
	}
	if (n == 0 || strcmp(tmp, ".") == 0 || n >= cap) {
		return ms_err_set(err, MS_EPARSE, "name '%s' in the answer is not usable", tmp);
	}
	for (size_t i = 0; i <= n; i++) {
		char c = tmp[i];
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	return MS_OK;
}

/* ---- query ------------------------------------------------------------ */

ms_rc_t ms_local_dns_build_query(const char *zone, uint16_t qtype, uint16_t id,
                                 uint8_t *buf, size_t cap, size_t *len, ms_err_t *err)
{
	knot_dname_storage_t qname;
	ms_rc_t rc = zone_dname(zone, qname, err);
	if (rc != MS_OK) {
		return rc;
	}
	if (cap > UINT16_MAX) {
		cap = UINT16_MAX;
	}
	if (cap < KNOT_WIRE_HEADER_SIZE) {
		return ms_err_set(err, MS_EINVAL, "no room for a DNS query");
	}
	/* knot_pkt_new() over a caller's buffer leaves the header as it finds it. */
	memset(buf, 0, cap);
	knot_pkt_t *pkt = knot_pkt_new(buf, (uint16_t)cap, NULL);
	if (pkt == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory building a DNS query");
	}
	knot_wire_set_id(pkt->wire, id);
	knot_rrset_t opt;
	int ret = knot_pkt_put_question(pkt, qname, KNOT_CLASS_IN, qtype);
	if (ret == KNOT_EOK) {
		ret = knot_edns_init(&opt, MS_LOCAL_DNS_UDP_PAYLOAD, 0, 0, &pkt->mm);
		if (ret == KNOT_EOK) {
			knot_edns_set_do(&opt);
			ret = knot_pkt_begin(pkt, KNOT_ADDITIONAL);
			if (ret == KNOT_EOK) {
				ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE);
			}
			if (ret != KNOT_EOK) {
				knot_rrset_clear(&opt, &pkt->mm);
			}
		}
	}
	if (ret != KNOT_EOK) {
		knot_pkt_free(pkt);
		return ms_err_set(err, MS_EINVAL, "cannot build the %s query for %s: %s",
		                  type_name(qtype), zone, knot_strerror(ret));
	}
	*len = pkt->size;
	knot_pkt_free(pkt);
	return MS_OK;
}

/* ---- answer ----------------------------------------------------------- */

typedef struct {
	uint32_t ttl;
	bool have_ttl;
	uint32_t serial;
	uint32_t refresh;
	size_t soa_count;
	uint16_t sig_tags[MS_LOCAL_DNS_MAX_SIGS];
	size_t sig_count;
	ms_dnskey_t keys[MS_LOCAL_DNS_MAX_KEYS];
	size_t key_count;
	char ns[MS_LOCAL_DNS_MAX_NS][MS_LOCAL_DNS_NAME_MAX + 1];
	size_t ns_count;
	uint16_t tags[MS_LOCAL_DNS_MAX_KEYS]; /* CDS, CDNSKEY */
	size_t tag_count;
} collect_t;

/* A CDS or CDNSKEY record's key tag, into c->tags. */
static ms_rc_t take_tag(collect_t *c, uint16_t qtype, const knot_rdata_t *rd, const char *what,
                        ms_err_t *err)
{
	uint16_t tag = 0;
	if (qtype == MS_RRTYPE_CDS) {
		if (rd->len < 4) {
			return ms_err_set(err, MS_EPARSE, "%s: a CDS record is too short", what);
		}
		tag = (uint16_t)((rd->data[0] << 8) | rd->data[1]);
	} else {
		ms_dnskey_t k;
		if (ms_dnskey_from_wire(rd->data, rd->len, &k, err) != MS_OK) {
			return ms_err_prefix(err, "%s", what);
		}
		tag = ms_dnskey_tag(&k);
	}
	for (size_t i = 0; i < c->tag_count; i++) {
		if (c->tags[i] == tag) {
			return MS_OK;
		}
	}
	if (c->tag_count >= MS_LOCAL_DNS_MAX_KEYS) {
		return ms_err_set(err, MS_ETOOBIG, "%s: more than %d %s records", what,
		                  MS_LOCAL_DNS_MAX_KEYS, type_name(qtype));
	}
	c->tags[c->tag_count++] = tag;
	return MS_OK;
}

static ms_rc_t take_record(collect_t *c, uint16_t qtype, const knot_rdata_t *rd,
                           const char *what, ms_err_t *err)
{
	ms_rc_t rc;
	switch (qtype) {
	case MS_RRTYPE_SOA:
		c->serial = knot_soa_serial(rd);
		c->refresh = knot_soa_refresh(rd);
		c->soa_count++;
		return MS_OK;
	case MS_RRTYPE_DNSKEY: {
		ms_dnskey_t k;
		rc = ms_dnskey_from_wire(rd->data, rd->len, &k, err);
		if (rc != MS_OK) {
			return ms_err_prefix(err, "%s", what);
		}
		for (size_t i = 0; i < c->key_count; i++) {
			if (ms_dnskey_equal(&c->keys[i], &k)) {
				return MS_OK;
			}
		}
		if (c->key_count >= MS_LOCAL_DNS_MAX_KEYS) {
			return ms_err_set(err, MS_ETOOBIG, "%s: more than %d DNSKEY records", what,
			                  MS_LOCAL_DNS_MAX_KEYS);
		}
		c->keys[c->key_count++] = k;
		return MS_OK;
	}
	case MS_RRTYPE_NS: {
		char name[MS_LOCAL_DNS_NAME_MAX + 1];
		rc = name_text(knot_ns_name(rd), name, sizeof(name), err);
		if (rc != MS_OK) {
			return ms_err_prefix(err, "%s", what);
		}
		for (size_t i = 0; i < c->ns_count; i++) {
			if (strcmp(c->ns[i], name) == 0) {
				return MS_OK;
			}
		}
		if (c->ns_count >= MS_LOCAL_DNS_MAX_NS) {
			return ms_err_set(err, MS_ETOOBIG, "%s: more than %d NS records", what,
			                  MS_LOCAL_DNS_MAX_NS);
		}
		memcpy(c->ns[c->ns_count++], name, sizeof(name));
		return MS_OK;
	}
	case MS_RRTYPE_CDS:
	case MS_RRTYPE_CDNSKEY:
		return take_tag(c, qtype, rd, what, err);
	}
	return ms_err_set(err, MS_EINVAL, "%s: query type %u is not supported", what, qtype);
}

static bool question_ok(const knot_pkt_t *pkt, const knot_dname_t *qname, uint16_t qtype)
{
	return knot_wire_get_qdcount(pkt->wire) == 1 && knot_pkt_qname(pkt) != NULL &&
	       knot_dname_is_case_equal(knot_pkt_qname(pkt), qname) &&
	       knot_pkt_qtype(pkt) == qtype && knot_pkt_qclass(pkt) == KNOT_CLASS_IN;
}

ms_rc_t ms_local_dns_parse(const uint8_t *wire, size_t len, const char *zone, uint16_t qtype,
                           uint16_t id, bool *truncated, ms_local_zone_t *out, ms_err_t *err)
{
	knot_dname_storage_t zname;
	ms_rc_t rc = zone_dname(zone, zname, err);
	if (rc != MS_OK) {
		return rc;
	}
	if (qtype != MS_RRTYPE_SOA && qtype != MS_RRTYPE_NS && qtype != MS_RRTYPE_DNSKEY &&
	    qtype != MS_RRTYPE_CDS && qtype != MS_RRTYPE_CDNSKEY) {
		return ms_err_set(err, MS_EINVAL, "query type %u is not supported", qtype);
	}
	char what[64 + MS_LOCAL_DNS_NAME_MAX];
	snprintf(what, sizeof(what), "knotd's answer to %s %s", type_name(qtype), zone);
	*truncated = false;
	if (wire == NULL || len < KNOT_WIRE_HEADER_SIZE) {
		return ms_err_set(err, MS_EPARSE, "%s is shorter than a DNS header", what);
	}
	if (len > WIRE_MAX) {
		return ms_err_set(err, MS_ETOOBIG, "%s is larger than a DNS message can be", what);
	}
	if (!knot_wire_get_qr(wire) || knot_wire_get_opcode(wire) != KNOT_OPCODE_QUERY) {
		return ms_err_set(err, MS_EPARSE, "%s is not a response to a query", what);
	}
	if (knot_wire_get_id(wire) != id) {
		return ms_err_set(err, MS_EPARSE, "%s has id %u, not %u", what,
		                  knot_wire_get_id(wire), id);
	}
	/* knot_pkt_parse() canonicalises what it parses: give it a copy. */
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory parsing %s", what);
	}
	memcpy(copy, wire, len);
	knot_pkt_t *pkt = knot_pkt_new(copy, (uint16_t)len, NULL);
	if (pkt == NULL) {
		free(copy);
		return ms_err_set(err, MS_ENOMEM, "out of memory parsing %s", what);
	}

	collect_t *c = NULL;
	if (knot_wire_get_tc(wire)) {
		int ret = knot_pkt_parse_question(pkt);
		if (ret != KNOT_EOK || !question_ok(pkt, zname, qtype)) {
			rc = ms_err_set(err, MS_EPARSE, "%s (truncated) does not repeat the question", what);
		} else {
			*truncated = true;
		}
		goto done;
	}
	int ret = knot_pkt_parse(pkt, 0);
	if (ret != KNOT_EOK) {
		rc = ms_err_set(err, MS_EPARSE, "%s is malformed: %s", what, knot_strerror(ret));
		goto done;
	}
	if (!question_ok(pkt, zname, qtype)) {
		rc = ms_err_set(err, MS_EPARSE, "%s does not repeat the question", what);
		goto done;
	}
	uint16_t rcode = knot_pkt_ext_rcode(pkt);
	if (rcode != KNOT_RCODE_NOERROR) {
		const char *name = knot_pkt_ext_rcode_name(pkt);
		if (rcode == KNOT_RCODE_REFUSED || rcode == KNOT_RCODE_NOTAUTH ||
		    rcode == KNOT_RCODE_NXDOMAIN) {
			rc = ms_err_set(err, MS_ENOTFOUND, "%s is %s: knotd does not serve the zone "
			                "(is it configured and loaded?)", what, name);
		} else {
			rc = ms_err_set(err, MS_ETRANSPORT, "%s is %s (is the zone loaded? see "
			                "knotd's log)", what, name);
		}
		goto done;
	}
	if (!knot_wire_get_aa(pkt->wire)) {
		rc = ms_err_set(err, MS_EPARSE, "%s is not authoritative (AA not set)", what);
		goto done;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = ms_err_set(err, MS_ENOMEM, "out of memory parsing %s", what);
		goto done;
	}
	const knot_pktsection_t *ans = knot_pkt_section(pkt, KNOT_ANSWER);
	for (uint16_t i = 0; i < ans->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(ans, i);
		if (!knot_dname_is_case_equal(rr->owner, zname) || rr->rclass != KNOT_CLASS_IN) {
			rc = ms_err_set(err, MS_EPARSE, "%s holds a record for another name or class",
			                what);
			goto done;
		}
		if (rr->type == KNOT_RRTYPE_RRSIG) {
			for (uint16_t j = 0; j < rr->rrs.count; j++) {
				const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, j);
				if (knot_rrsig_type_covered(rd) != qtype) {
					rc = ms_err_set(err, MS_EPARSE, "%s holds an RRSIG over type %u",
					                what, knot_rrsig_type_covered(rd));
					goto done;
				}
				if (!knot_dname_is_case_equal(knot_rrsig_signer_name(rd), zname)) {
					rc = ms_err_set(err, MS_EPARSE, "%s holds an RRSIG by another "
					                "signer", what);
					goto done;
				}
				if (!ms_key_tags_add(c->sig_tags, &c->sig_count, MS_LOCAL_DNS_MAX_SIGS,
				                     knot_rrsig_key_tag(rd))) {
					rc = ms_err_set(err, MS_ETOOBIG, "%s: more than %d RRSIGs", what,
					                MS_LOCAL_DNS_MAX_SIGS);
					goto done;
				}
			}
			continue;
		}
		if (rr->type != qtype) {
			rc = ms_err_set(err, MS_EPARSE, "%s holds an unexpected record of type %u",
			                what, rr->type);
			goto done;
		}
		if (c->have_ttl && rr->ttl != c->ttl) {
			rc = ms_err_set(err, MS_EPARSE, "%s: the %s records have different TTLs",
			                what, type_name(qtype));
			goto done;
		}
		c->ttl = rr->ttl;
		c->have_ttl = true;
		for (uint16_t j = 0; j < rr->rrs.count; j++) {
			rc = take_record(c, qtype, knot_rdataset_at(&rr->rrs, j), what, err);
			if (rc != MS_OK) {
				goto done;
			}
		}
	}

	switch (qtype) {
	case MS_RRTYPE_SOA:
		if (c->soa_count != 1) {
			rc = ms_err_set(err, MS_EPARSE, "%s holds %zu SOA records, not 1", what,
			                c->soa_count);
			goto done;
		}
		out->soa_serial = c->serial;
		out->soa_ttl = c->ttl;
		out->soa_refresh = c->refresh;
		memcpy(out->soa_sig_tags, c->sig_tags, sizeof(c->sig_tags));
		out->soa_sig_count = c->sig_count;
		break;
	case MS_RRTYPE_DNSKEY:
		/* No DNSKEY: the zone is not signed (yet); the caller decides. */
		memcpy(out->dnskeys, c->keys, c->key_count * sizeof(c->keys[0]));
		out->dnskey_count = c->key_count;
		out->dnskey_ttl = c->have_ttl ? c->ttl : 0;
		memcpy(out->dnskey_sig_tags, c->sig_tags, sizeof(c->sig_tags));
		out->dnskey_sig_count = c->sig_count;
		break;
	case MS_RRTYPE_NS:
		if (c->ns_count == 0) {
			rc = ms_err_set(err, MS_EPARSE, "%s holds no NS records", what);
			goto done;
		}
		memcpy(out->ns, c->ns, sizeof(c->ns));
		out->ns_count = c->ns_count;
		out->ns_ttl = c->ttl;
		break;
	case MS_RRTYPE_CDS:
		memcpy(out->cds_tags, c->tags, sizeof(c->tags));
		out->cds_count = c->tag_count;
		break;
	case MS_RRTYPE_CDNSKEY:
		memcpy(out->cdnskey_tags, c->tags, sizeof(c->tags));
		out->cdnskey_count = c->tag_count;
		break;
	}
	rc = MS_OK;
done:
	free(c);
	knot_pkt_free(pkt);
	free(copy);
	return rc;
}

/* ---- transport -------------------------------------------------------- */

/* Wait until fd is ready for events, in slices, minding abort and deadline. */
static ms_rc_t wait_fd(int fd, short events, long deadline, const atomic_bool *abort,
                       const char *what, ms_err_t *err)
{
	for (;;) {
		if (abort != NULL && atomic_load(abort)) {
			return ms_err_set(err, MS_EABORTED, "%s: stopped, shutting down", what);
		}
		long left = deadline - now_ms();
		if (left <= 0) {
			return ms_err_set(err, MS_ETIMEOUT, "%s: no answer in time", what);
		}
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)(left < MS_LOCAL_DNS_SLICE_MS ? left : MS_LOCAL_DNS_SLICE_MS));
		if (r > 0) {
			return MS_OK;
		}
		if (r < 0 && errno != EINTR) {
			char ebuf[128];
			return ms_err_set(err, MS_ETRANSPORT, "%s: poll: %s", what,
			                  strerror_r(errno, ebuf, sizeof(ebuf)));
		}
	}
}

static uint16_t random_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == sizeof(id)) {
		return id;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint16_t)(ts.tv_nsec ^ (ts.tv_nsec >> 16) ^ ts.tv_sec);
}

static ms_rc_t xfer_udp(const ms_local_dns_target_t *t, const uint8_t *q, size_t qlen,
                        uint16_t id, uint8_t *ans, size_t *alen, const char *what, ms_err_t *err)
{
	char ebuf[128];
	int fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return ms_err_set(err, MS_ETRANSPORT, "%s: socket: %s", what,
		                  strerror_r(errno, ebuf, sizeof(ebuf)));
	}
	ms_rc_t rc;
	long deadline = now_ms() + (t->timeout_ms > 0 ? t->timeout_ms : MS_LOCAL_DNS_TIMEOUT_MS);
	if (connect(fd, (const struct sockaddr *)&t->addr, addr_len(&t->addr)) != 0 ||
	    send(fd, q, qlen, MSG_NOSIGNAL) != (ssize_t)qlen) {
		rc = ms_err_set(err, MS_ETRANSPORT, "%s over UDP: %s", what,
		                strerror_r(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	for (;;) {
		rc = wait_fd(fd, POLLIN, deadline, t->abort, what, err);
		if (rc != MS_OK) {
			goto out;
		}
		ssize_t n = recv(fd, ans, WIRE_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				continue;
			}
			rc = ms_err_set(err, MS_ETRANSPORT, "%s over UDP: %s (is knotd listening "
			                "there?)", what, strerror_r(errno, ebuf, sizeof(ebuf)));
			goto out;
		}
		/* A late answer to an earlier query of ours: not this one. */
		if (n >= 2 && knot_wire_get_id(ans) != id) {
			continue;
		}
		*alen = (size_t)n;
		rc = MS_OK;
		goto out;
	}
out:
	close(fd);
	return rc;
}

static ms_rc_t tcp_io(int fd, bool sending, uint8_t *buf, size_t len, long deadline,
                      const ms_local_dns_target_t *t, const char *what, ms_err_t *err)
{
	char ebuf[128];
	size_t done = 0;
	while (done < len) {
		ms_rc_t rc = wait_fd(fd, sending ? POLLOUT : POLLIN, deadline, t->abort, what, err);
		if (rc != MS_OK) {
			return rc;
		}
		ssize_t n = sending ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
		                    : recv(fd, buf + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			continue;
		}
		if (n == 0) {
			return ms_err_set(err, MS_ETRANSPORT, "%s over TCP: knotd closed the connection",
			                  what);
		}
		return ms_err_set(err, MS_ETRANSPORT, "%s over TCP: %s", what,
		                  strerror_r(errno, ebuf, sizeof(ebuf)));
	}
	return MS_OK;
}

static ms_rc_t xfer_tcp(const ms_local_dns_target_t *t, const uint8_t *q, size_t qlen,
                        uint8_t *ans, size_t *alen, const char *what, ms_err_t *err)
{
	char ebuf[128];
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return ms_err_set(err, MS_ETRANSPORT, "%s: socket: %s", what,
		                  strerror_r(errno, ebuf, sizeof(ebuf)));
	}
	ms_rc_t rc;
	long deadline = now_ms() + (t->timeout_ms > 0 ? t->timeout_ms : MS_LOCAL_DNS_TIMEOUT_MS);
	if (connect(fd, (const struct sockaddr *)&t->addr, addr_len(&t->addr)) != 0) {
		if (errno != EINPROGRESS) {
			rc = ms_err_set(err, MS_ETRANSPORT, "%s over TCP: %s", what,
			                strerror_r(errno, ebuf, sizeof(ebuf)));
			goto out;
		}
		rc = wait_fd(fd, POLLOUT, deadline, t->abort, what, err);
		if (rc != MS_OK) {
			goto out;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			rc = ms_err_set(err, MS_ETRANSPORT, "%s over TCP: %s", what,
			                strerror_r(soerr ? soerr : errno, ebuf, sizeof(ebuf)));
			goto out;
		}
	}
	uint8_t msg[2 + 512];
	if (qlen > sizeof(msg) - 2) {
		rc = ms_err_set(err, MS_EINVAL, "%s: query too large", what);
		goto out;
	}
	msg[0] = (uint8_t)(qlen >> 8);
	msg[1] = (uint8_t)qlen;
	memcpy(msg + 2, q, qlen);
	rc = tcp_io(fd, true, msg, qlen + 2, deadline, t, what, err);
	if (rc != MS_OK) {
		goto out;
	}
	uint8_t lenbuf[2];
	rc = tcp_io(fd, false, lenbuf, 2, deadline, t, what, err);
	if (rc != MS_OK) {
		goto out;
	}
	size_t n = ((size_t)lenbuf[0] << 8) | lenbuf[1];
	rc = tcp_io(fd, false, ans, n, deadline, t, what, err);
	if (rc == MS_OK) {
		*alen = n;
	}
out:
	close(fd);
	return rc;
}

uint16_t ms_local_dns_new_id(void)
{
	return random_id();
}

ms_rc_t ms_local_dns_exchange(const ms_local_dns_target_t *t, const uint8_t *q, size_t qlen,
                              uint8_t *ans, size_t *alen, const char *what, ms_err_t *err)
{
	if (t == NULL || q == NULL || qlen < KNOT_WIRE_HEADER_SIZE || ans == NULL ||
	    (t->addr.ss_family != AF_INET && t->addr.ss_family != AF_INET6)) {
		return ms_err_set(err, MS_EINVAL, "%s: no query or no address", what);
	}
	uint16_t id = knot_wire_get_id(q);
	ms_rc_t rc = xfer_udp(t, q, qlen, id, ans, alen, what, err);
	if (rc == MS_OK && *alen >= KNOT_WIRE_HEADER_SIZE && knot_wire_get_tc(ans)) {
		rc = xfer_tcp(t, q, qlen, ans, alen, what, err);
	}
	return rc;
}

ms_rc_t ms_local_dns_query(const ms_local_dns_target_t *t, const char *zone, uint16_t qtype,
                           ms_local_zone_t *out, ms_err_t *err)
{
	if (t == NULL || out == NULL ||
	    (t->addr.ss_family != AF_INET && t->addr.ss_family != AF_INET6)) {
		return ms_err_set(err, MS_EINVAL, "no address for knotd's listener");
	}
	char where[INET6_ADDRSTRLEN + 8];
	addr_str(&t->addr, where, sizeof(where));
	char what[96 + MS_LOCAL_DNS_NAME_MAX];
	snprintf(what, sizeof(what), "querying knotd at %s for %s %s", where, type_name(qtype),
	         zone ? zone : "(null)");

	uint8_t q[512];
	size_t qlen = 0;
	uint16_t id = random_id();
	ms_rc_t rc = ms_local_dns_build_query(zone, qtype, id, q, sizeof(q), &qlen, err);
	if (rc != MS_OK) {
		return rc;
	}
	uint8_t *ans = malloc(WIRE_MAX);
	if (ans == NULL) {
		return ms_err_set(err, MS_ENOMEM, "%s: out of memory", what);
	}
	size_t alen = 0;
	bool truncated = false;
	rc = xfer_udp(t, q, qlen, id, ans, &alen, what, err);
	if (rc == MS_OK) {
		rc = ms_local_dns_parse(ans, alen, zone, qtype, id, &truncated, out, err);
	}
	if (rc == MS_OK && truncated) {
		id = random_id();
		rc = ms_local_dns_build_query(zone, qtype, id, q, sizeof(q), &qlen, err);
		if (rc == MS_OK) {
			rc = xfer_tcp(t, q, qlen, ans, &alen, what, err);
		}
		if (rc == MS_OK) {
			rc = ms_local_dns_parse(ans, alen, zone, qtype, id, &truncated, out, err);
		}
		if (rc == MS_OK && truncated) {
			rc = ms_err_set(err, MS_EPARSE, "%s: the answer over TCP is truncated too", what);
		}
	}
	free(ans);
	return rc;
}

static ms_rc_t query_types(const ms_local_dns_target_t *t, const char *zone,
                           const uint16_t *types, size_t count, ms_local_zone_t *out,
                           ms_err_t *err)
{
	if (out == NULL) {
		return ms_err_set(err, MS_EINVAL, "no result buffer");
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		ms_rc_t rc = ms_local_dns_query(t, zone, types[i], out, err);
		if (rc != MS_OK) {
			return rc;
		}
	}
	return MS_OK;
}

ms_rc_t ms_local_dns_read(const ms_local_dns_target_t *t, const char *zone,
                          ms_local_zone_t *out, ms_err_t *err)
{
	static const uint16_t types[] = { MS_RRTYPE_SOA, MS_RRTYPE_DNSKEY, MS_RRTYPE_NS };
	return query_types(t, zone, types, 3, out, err);
}

ms_rc_t ms_local_dns_read_cds(const ms_local_dns_target_t *t, const char *zone,
                              ms_local_zone_t *out, ms_err_t *err)
{
	static const uint16_t types[] = { MS_RRTYPE_CDS, MS_RRTYPE_CDNSKEY };
	return query_types(t, zone, types, 2, out, err);
}
