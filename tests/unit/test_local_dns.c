/*
 * local_dns: query building, strict answer parsing over recorded (knotd
 * 3.2.6) and constructed wire answers, and the UDP/TCP transport against a
 * fake server thread on loopback (TC fallback, stale ids, timeout, abort).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "local_dns.h"

/* ---- recorded answers: knotd 3.2.6, zone example.com, id 0x4242 -------- */

#define REC_ID 0x4242
static const char *REC_SOA =
	"424284000001000200000001076578616d706c6503636f6d0000060001c00c000600010000012c003d036e"
	"7331076578616d706c65036e6574000a686f73746d6173746572076578616d706c6503636f6d0000000003"
	"00000e1000000258000151800000012cc00c002e00010000012c005f00060d020000012c6b1cd4e26b0a4a"
	"ca2485076578616d706c6503636f6d00e99dd12a271f000a3b62a1641b151fb24d75d90629f8425edb7676"
	"2648aa3addc4fbbbcd04baa17a922e5fbfecdc39bd3cb482800ba6af6ad21a86010e7292ba00002904d000"
	"0080000000";
static const char *REC_DNSKEY =
	"424284000001000400000001076578616d706c6503636f6d0000300001c00c003000010000003c00440100"
	"030d84bca82a39bc45a7a46db70b3d0688567734c803c356b0b53d87d85c6c1962a505528ae3be3817c88b"
	"9036e752ae0569c2cc4a8f02ae2c8fa480530f0f8bf6f5c00c003000010000003c00440100030dc5ce1485"
	"3aa29ef4831003ce66d9af3723945092fcf5d2ddca1c26d4564b79e712a0c4cd0708d68b351da06871125d"
	"690f700b8f717ed52c28d85867e10882a2c00c003000010000003c00440101030d86230429af30dbe66bcb"
	"99f776a9f9e65383753f08634b2bb21402c0d0da62c2e96ce00bb2ec9164662ef57b3cc7a607eab38ff83f"
	"de475cfded86a190b42395c00c002e00010000003c005f00300d020000003c6b1cd4e26b0a4aca1b8c0765"
	"78616d706c6503636f6d00847e8b1a8b6c135c35487c3a53754c3087d17e6ec1e4202365586b452b5e4dfc"
	"9a31e620b48055abefc047504dac5589e3cf30870de78dca9076322b4b8a9d0600002904d0000080000000";
static const char *REC_NS =
	"424284000001000300000001076578616d706c6503636f6d0000020001c00c000200010000012c0011036e"
	"7331076578616d706c65036e657400c00c000200010000012c0006036e7332c02dc00c002e00010000012c"
	"005f00020d020000012c6b1cd4e26b0a4aca2485076578616d706c6503636f6d005723cfc266ab7416b9ea"
	"97099e84487c4cf8ec7a7aa145edb45ea63dee107c1d60752ce9ee9c20145f8bcbc55b86f2cb1e3d00a2e1"
	"8cf317d5e070a6feda1aaa00002904d0000080000000";

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ---- a tiny wire writer for constructed answers ------------------------ */

typedef struct {
	uint8_t b[65536];
	size_t len;
	size_t ancount_at;
} msg_t;

static void put8(msg_t *m, uint8_t v) { m->b[m->len++] = v; }
static void put16(msg_t *m, uint16_t v) { put8(m, (uint8_t)(v >> 8)); put8(m, (uint8_t)v); }
static void put32(msg_t *m, uint32_t v) { put16(m, (uint16_t)(v >> 16)); put16(m, (uint16_t)v); }
static void putbytes(msg_t *m, const void *p, size_t n) { memcpy(m->b + m->len, p, n); m->len += n; }

static void putname(msg_t *m, const char *name)
{
	uint8_t w[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(w, name, sizeof(w)));
	putbytes(m, w, knot_dname_size(w));
}

#define F_AA 0x0400
#define F_TC 0x0200
#define F_QR 0x8000

static void start(msg_t *m, uint16_t id, uint16_t flags, uint8_t rcode, const char *qname,
                  uint16_t qtype)
{
	m->len = 0;
	put16(m, id);
	put16(m, (uint16_t)(flags | rcode));
	put16(m, 1); /* qd */
	m->ancount_at = m->len;
	put16(m, 0); /* an */
	put16(m, 0);
	put16(m, 0);
	putname(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

static void bump_an(msg_t *m)
{
	uint16_t n = (uint16_t)((m->b[m->ancount_at] << 8) | m->b[m->ancount_at + 1]);
	n++;
	m->b[m->ancount_at] = (uint8_t)(n >> 8);
	m->b[m->ancount_at + 1] = (uint8_t)n;
}

static void rr(msg_t *m, const char *owner, uint16_t type, uint32_t ttl, const void *rdata,
               size_t rdlen)
{
	putname(m, owner);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (uint16_t)rdlen);
	putbytes(m, rdata, rdlen);
	bump_an(m);
}

static void rr_dnskey(msg_t *m, const char *owner, uint32_t ttl, uint16_t flags, uint8_t seed)
{
	uint8_t rd[4 + 64];
	rd[0] = (uint8_t)(flags >> 8);
	rd[1] = (uint8_t)flags;
	rd[2] = 3;
	rd[3] = 13;
	for (int i = 0; i < 64; i++) {
		rd[4 + i] = (uint8_t)(seed * 7 + i);
	}
	rr(m, owner, KNOT_RRTYPE_DNSKEY, ttl, rd, sizeof(rd));
}

static void rr_rrsig(msg_t *m, const char *owner, uint16_t covered, uint16_t tag,
                     const char *signer)
{
	uint8_t rd[512];
	size_t n = 0;
	rd[n++] = (uint8_t)(covered >> 8);
	rd[n++] = (uint8_t)covered;
	rd[n++] = 13;
	rd[n++] = 2;
	memcpy(rd + n, "\x00\x00\x00\x3c" "\x6b\x1c\xd4\xe2" "\x6b\x0a\x4a\xca", 12);
	n += 12;
	rd[n++] = (uint8_t)(tag >> 8);
	rd[n++] = (uint8_t)tag;
	uint8_t w[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(w, signer, sizeof(w)));
	memcpy(rd + n, w, knot_dname_size(w));
	n += knot_dname_size(w);
	memset(rd + n, 0xab, 64);
	n += 64;
	rr(m, owner, KNOT_RRTYPE_RRSIG, 60, rd, n);
}

static void rr_ns(msg_t *m, const char *owner, uint32_t ttl, const char *target)
{
	uint8_t w[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(w, target, sizeof(w)));
	rr(m, owner, KNOT_RRTYPE_NS, ttl, w, knot_dname_size(w));
}

static void rr_soa(msg_t *m, const char *owner, uint32_t serial)
{
	uint8_t rd[600];
	size_t n = 0;
	uint8_t w[KNOT_DNAME_MAXLEN];
	knot_dname_from_str(w, "ns1.example.net.", sizeof(w));
	memcpy(rd + n, w, knot_dname_size(w));
	n += knot_dname_size(w);
	knot_dname_from_str(w, "hostmaster.example.com.", sizeof(w));
	memcpy(rd + n, w, knot_dname_size(w));
	n += knot_dname_size(w);
	uint32_t f[5] = { serial, 3600, 600, 86400, 300 };
	for (int i = 0; i < 5; i++) {
		rd[n++] = (uint8_t)(f[i] >> 24);
		rd[n++] = (uint8_t)(f[i] >> 16);
		rd[n++] = (uint8_t)(f[i] >> 8);
		rd[n++] = (uint8_t)f[i];
	}
	rr(m, owner, KNOT_RRTYPE_SOA, 300, rd, n);
}

static ms_rc_t parse(const msg_t *m, uint16_t qtype, ms_local_zone_t *z, ms_err_t *err)
{
	bool tc = false;
	memset(z, 0, sizeof(*z));
	ms_rc_t rc = ms_local_dns_parse(m->b, m->len, "example.com", qtype, 7, &tc, z, err);
	if (rc == MS_OK) {
		assert_false(tc);
	}
	return rc;
}

/* ---- tests: query ------------------------------------------------------ */

static void query_is_what_we_mean(void **state)
{
	(void)state;
	uint8_t buf[512];
	memset(buf, 0xff, sizeof(buf)); /* garbage must not leak into the header */
	size_t len = 0;
	assert_int_equal(ms_local_dns_build_query("Example.COM.", MS_RRTYPE_DNSKEY, 0xbeef, buf,
	                                          sizeof(buf), &len, NULL), MS_OK);
	knot_pkt_t *pkt = knot_pkt_new(buf, (uint16_t)len, NULL);
	assert_int_equal(knot_pkt_parse(pkt, 0), KNOT_EOK);
	assert_int_equal(knot_wire_get_id(buf), 0xbeef);
	assert_false(knot_wire_get_qr(buf));
	assert_false(knot_wire_get_rd(buf));
	assert_int_equal(knot_wire_get_opcode(buf), 0);
	assert_int_equal(knot_wire_get_qdcount(buf), 1);
	assert_int_equal(knot_pkt_qtype(pkt), KNOT_RRTYPE_DNSKEY);
	char name[64];
	knot_dname_to_str(name, knot_pkt_qname(pkt), sizeof(name));
	assert_string_equal(name, "example.com.");
	assert_true(knot_pkt_has_dnssec(pkt));
	assert_int_equal(knot_edns_get_payload(pkt->opt_rr), MS_LOCAL_DNS_UDP_PAYLOAD);
	knot_pkt_free(pkt);

	ms_err_t err = { 0 };
	assert_int_equal(ms_local_dns_build_query("", 6, 1, buf, sizeof(buf), &len, &err), MS_EINVAL);
	assert_int_equal(ms_local_dns_build_query("a..b", 6, 1, buf, sizeof(buf), &len, &err),
	                 MS_EINVAL);
}

/* ---- tests: recorded answers ------------------------------------------- */

static void recorded_answers(void **state)
{
	(void)state;
	uint8_t w[2048];
	size_t n;
	bool tc;
	ms_local_zone_t z;
	memset(&z, 0, sizeof(z));
	ms_err_t err = { 0 };

	n = unhex(REC_SOA, w, sizeof(w));
	assert_int_equal(ms_local_dns_parse(w, n, "example.com", MS_RRTYPE_SOA, REC_ID, &tc, &z, &err),
	                 MS_OK);
	assert_false(tc);
	assert_int_equal(z.soa_serial, 3);
	assert_int_equal(z.soa_ttl, 300);
	assert_int_equal(z.soa_sig_count, 1);
	assert_int_equal(z.soa_sig_tags[0], 9349);

	n = unhex(REC_DNSKEY, w, sizeof(w));
	assert_int_equal(ms_local_dns_parse(w, n, "example.com.", MS_RRTYPE_DNSKEY, REC_ID, &tc, &z,
	                                    &err), MS_OK);
	assert_int_equal(z.dnskey_count, 3);
	assert_int_equal(z.dnskey_ttl, 60);
	assert_int_equal(ms_dnskey_tag(&z.dnskeys[0]), 9349);
	assert_int_equal(ms_dnskey_tag(&z.dnskeys[1]), 63901);
	assert_int_equal(ms_dnskey_tag(&z.dnskeys[2]), 7052);
	assert_true(ms_dnskey_is_ksk(&z.dnskeys[2]));
	assert_int_equal(z.dnskey_sig_count, 1);
	assert_int_equal(z.dnskey_sig_tags[0], 7052);

	n = unhex(REC_NS, w, sizeof(w));
	assert_int_equal(ms_local_dns_parse(w, n, "EXAMPLE.com", MS_RRTYPE_NS, REC_ID, &tc, &z, &err),
	                 MS_OK);
	assert_int_equal(z.ns_count, 2);
	assert_string_equal(z.ns[0], "ns1.example.net");
	assert_string_equal(z.ns[1], "ns2.example.net"); /* was compressed */
	assert_int_equal(z.ns_ttl, 300);
	/* The SOA part is left alone by an NS parse. */
	assert_int_equal(z.soa_serial, 3);
}

static void recorded_damaged(void **state)
{
	(void)state;
	uint8_t w[2048];
	bool tc;
	ms_local_zone_t z;
	ms_err_t err = { 0 };
	size_t n = unhex(REC_DNSKEY, w, sizeof(w));

	/* Cut anywhere inside: never accepted. */
	for (size_t cut = 0; cut < n - 11; cut += 7) {
		ms_rc_t rc = ms_local_dns_parse(w, cut, "example.com", MS_RRTYPE_DNSKEY, REC_ID, &tc,
		                                &z, &err);
		assert_int_equal(rc, MS_EPARSE);
	}
	/* Trailing garbage. */
	w[n] = 0;
	assert_int_equal(ms_local_dns_parse(w, n + 1, "example.com", MS_RRTYPE_DNSKEY, REC_ID, &tc,
	                                    &z, &err), MS_EPARSE);
	/* Another id, another question, another zone. */
	assert_int_equal(ms_local_dns_parse(w, n, "example.com", MS_RRTYPE_DNSKEY, REC_ID + 1, &tc,
	                                    &z, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "id"));
	assert_int_equal(ms_local_dns_parse(w, n, "example.com", MS_RRTYPE_SOA, REC_ID, &tc, &z,
	                                    &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "question"));
	assert_int_equal(ms_local_dns_parse(w, n, "example.org", MS_RRTYPE_DNSKEY, REC_ID, &tc, &z,
	                                    &err), MS_EPARSE);
	/* Flip a byte in each position of the first DNSKEY's algorithm and
	 * rdlength: the P-256 length check or the parser catches it. */
	uint8_t c[2048];
	memcpy(c, w, n);
	c[0x28] = 0x00; /* first DNSKEY rdlength 0x0044 -> 0x0000 */
	assert_int_equal(ms_local_dns_parse(c, n, "example.com", MS_RRTYPE_DNSKEY, REC_ID, &tc, &z,
	                                    &err), MS_EPARSE);
}

/* ---- tests: constructed answers ---------------------------------------- */

static msg_t M;

static void good_constructed(void **state)
{
	(void)state;
	ms_local_zone_t z;
	ms_err_t err = { 0 };
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_NS);
	rr_ns(&M, "Example.COM.", 3600, "NS1.Example.NET.");
	rr_ns(&M, "example.com.", 3600, "ns2.example.net.");
	rr_ns(&M, "example.com.", 3600, "ns1.example.net."); /* duplicate: one entry */
	assert_int_equal(parse(&M, KNOT_RRTYPE_NS, &z, &err), MS_OK);
	assert_int_equal(z.ns_count, 2);
	assert_string_equal(z.ns[0], "ns1.example.net");
	assert_string_equal(z.ns[1], "ns2.example.net");
	assert_int_equal(z.ns_ttl, 3600);
	assert_int_equal(z.dnskey_count, 0);

	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr_dnskey(&M, "example.com.", 60, 257, 1);
	rr_dnskey(&M, "example.com.", 60, 256, 2);
	rr_rrsig(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 111, "example.com.");
	rr_rrsig(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 222, "Example.Com.");
	rr_rrsig(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 111, "example.com.");
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_OK);
	assert_int_equal(z.dnskey_count, 2);
	assert_int_equal(z.dnskey_sig_count, 2);
	assert_int_equal(z.dnskey_sig_tags[0], 111);
	assert_int_equal(z.dnskey_sig_tags[1], 222);

	/* NODATA for DNSKEY: an unsigned zone, not an error. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_OK);
	assert_int_equal(z.dnskey_count, 0);
	assert_int_equal(z.dnskey_ttl, 0);
}

static void truncated_answer(void **state)
{
	(void)state;
	ms_local_zone_t z;
	memset(&z, 0x5a, sizeof(z));
	bool tc = false;
	start(&M, 7, F_QR | F_AA | F_TC, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	/* Even half a record after the header does not matter: TC is enough. */
	put16(&M, 0xc00c);
	assert_int_equal(ms_local_dns_parse(M.b, M.len, "example.com", KNOT_RRTYPE_DNSKEY, 7, &tc,
	                                    &z, NULL), MS_OK);
	assert_true(tc);
	assert_int_equal(z.dnskey_count, 0x5a5a5a5a5a5a5a5aULL); /* untouched */
	/* TC with another question is still refused. */
	start(&M, 7, F_QR | F_AA | F_TC, 0, "example.org.", KNOT_RRTYPE_DNSKEY);
	assert_int_equal(ms_local_dns_parse(M.b, M.len, "example.com", KNOT_RRTYPE_DNSKEY, 7, &tc,
	                                    &z, NULL), MS_EPARSE);
}

static void rcode_and_aa(void **state)
{
	(void)state;
	ms_local_zone_t z;
	ms_err_t err = { 0 };
	start(&M, 7, F_QR, KNOT_RCODE_REFUSED, "example.com.", KNOT_RRTYPE_SOA);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_ENOTFOUND);
	assert_non_null(strstr(err.msg, "REFUSED"));
	start(&M, 7, F_QR | F_AA, KNOT_RCODE_NXDOMAIN, "example.com.", KNOT_RRTYPE_SOA);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_ENOTFOUND);
	start(&M, 7, F_QR, KNOT_RCODE_SERVFAIL, "example.com.", KNOT_RRTYPE_SOA);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_ETRANSPORT);
	assert_non_null(strstr(err.msg, "SERVFAIL"));
	/* No AA: not knotd's own zone. */
	start(&M, 7, F_QR, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr_soa(&M, "example.com.", 5);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "AA"));
	/* With AA it is fine. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr_soa(&M, "example.com.", 5);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_OK);
	assert_int_equal(z.soa_serial, 5);
	/* Not a response. */
	start(&M, 7, F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr_soa(&M, "example.com.", 5);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
	/* Shorter than a header. */
	assert_int_equal(ms_local_dns_parse(M.b, 11, "example.com", 6, 7, &(bool){ 0 }, &z, &err),
	                 MS_EPARSE);
}

static void malformed_content(void **state)
{
	(void)state;
	ms_local_zone_t z;
	ms_err_t err = { 0 };

	/* DNSKEY rdata of 3 bytes. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 60, "\x01\x00\x03", 3);
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	/* P-256 key one byte short. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	uint8_t rd[67] = { 1, 0, 3, 13 };
	rr(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 60, rd, sizeof(rd));
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	/* Protocol 2. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	uint8_t rd2[68] = { 1, 0, 2, 13 };
	rr(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 60, rd2, sizeof(rd2));
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	/* SOA rdata too short. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr(&M, "example.com.", KNOT_RRTYPE_SOA, 300, "\x00\x00\x00\x00", 4);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
	/* NS rdata that is no name. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_NS);
	rr(&M, "example.com.", KNOT_RRTYPE_NS, 300, "\x05\x61\x62", 3);
	assert_int_equal(parse(&M, KNOT_RRTYPE_NS, &z, &err), MS_EPARSE);
	/* RRSIG rdata too short. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr_dnskey(&M, "example.com.", 60, 257, 1);
	rr(&M, "example.com.", KNOT_RRTYPE_RRSIG, 60, "\x00\x30\x0d", 3);
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	/* Answer count larger than what follows. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr_soa(&M, "example.com.", 1);
	bump_an(&M);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
}

static void wrong_content(void **state)
{
	(void)state;
	ms_local_zone_t z;
	ms_err_t err = { 0 };
	/* A record for another owner. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_NS);
	rr_ns(&M, "example.com.", 300, "ns1.example.net.");
	rr_ns(&M, "sub.example.com.", 300, "ns1.example.net.");
	assert_int_equal(parse(&M, KNOT_RRTYPE_NS, &z, &err), MS_EPARSE);
	/* An RRSIG over another type. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr_dnskey(&M, "example.com.", 60, 257, 1);
	rr_rrsig(&M, "example.com.", KNOT_RRTYPE_SOA, 1, "example.com.");
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	/* An RRSIG by another signer. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr_dnskey(&M, "example.com.", 60, 257, 1);
	rr_rrsig(&M, "example.com.", KNOT_RRTYPE_DNSKEY, 1, "com.");
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	/* Another type in the answer. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr_soa(&M, "example.com.", 1);
	rr_ns(&M, "example.com.", 300, "ns1.example.net.");
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
	/* TTLs differ within the RRset. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr_dnskey(&M, "example.com.", 60, 257, 1);
	rr_dnskey(&M, "example.com.", 61, 256, 2);
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_EPARSE);
	assert_non_null(strstr(err.msg, "TTL"));
	/* Two SOAs, no SOA, no NS. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	rr_soa(&M, "example.com.", 1);
	rr_soa(&M, "example.com.", 2);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_SOA);
	assert_int_equal(parse(&M, KNOT_RRTYPE_SOA, &z, &err), MS_EPARSE);
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_NS);
	assert_int_equal(parse(&M, KNOT_RRTYPE_NS, &z, &err), MS_EPARSE);
}

static void oversized(void **state)
{
	(void)state;
	ms_local_zone_t z;
	ms_err_t err = { 0 };
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	for (int i = 0; i <= MS_LOCAL_DNS_MAX_KEYS; i++) {
		rr_dnskey(&M, "example.com.", 60, 256, (uint8_t)i);
	}
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_ETOOBIG);
	/* Exactly at the cap is fine. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	for (int i = 0; i < MS_LOCAL_DNS_MAX_KEYS; i++) {
		rr_dnskey(&M, "example.com.", 60, 256, (uint8_t)i);
	}
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_OK);
	assert_int_equal(z.dnskey_count, MS_LOCAL_DNS_MAX_KEYS);
	/* Too many signatures, too many NS. */
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_DNSKEY);
	rr_dnskey(&M, "example.com.", 60, 257, 1);
	for (int i = 0; i <= MS_LOCAL_DNS_MAX_SIGS; i++) {
		rr_rrsig(&M, "example.com.", KNOT_RRTYPE_DNSKEY, (uint16_t)(1000 + i), "example.com.");
	}
	assert_int_equal(parse(&M, KNOT_RRTYPE_DNSKEY, &z, &err), MS_ETOOBIG);
	start(&M, 7, F_QR | F_AA, 0, "example.com.", KNOT_RRTYPE_NS);
	for (int i = 0; i <= MS_LOCAL_DNS_MAX_NS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ns%d.example.net.", i);
		rr_ns(&M, "example.com.", 300, name);
	}
	assert_int_equal(parse(&M, KNOT_RRTYPE_NS, &z, &err), MS_ETOOBIG);
	/* Longer than a DNS message can be. */
	assert_int_equal(ms_local_dns_parse(M.b, 65536, "example.com", KNOT_RRTYPE_NS, 7,
	                                    &(bool){ 0 }, &z, &err), MS_ETOOBIG);
}

static void targets(void **state)
{
	(void)state;
	ms_local_dns_target_t t;
	ms_err_t err = { 0 };
	assert_int_equal(ms_local_dns_target_set(&t, "0.0.0.0", 5300, &err), MS_OK);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&t.addr;
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(in->sin_port), 5300);
	assert_int_equal(ms_local_dns_target_set(&t, "::", 53, &err), MS_OK);
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&t.addr;
	assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
	assert_int_equal(ms_local_dns_target_set(&t, "192.0.2.7", 53, &err), MS_OK);
	assert_int_equal(ms_local_dns_target_set(&t, "localhost", 53, &err), MS_EINVAL);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", 0, &err), MS_EINVAL);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	assert_int_equal(ms_local_dns_target_from_sockaddr(&t, (struct sockaddr *)&un, &err),
	                 MS_EINVAL);
	assert_non_null(strstr(err.msg, "server.listen"));
}

/* ---- a fake server on loopback ----------------------------------------- */

typedef enum {
	SRV_NORMAL,     /* answer over UDP */
	SRV_TC,         /* UDP: TC; TCP: the full answer */
	SRV_TC_TWICE,   /* TC over TCP too */
	SRV_SILENT,     /* never answer */
	SRV_STALE_ID,   /* UDP: first an answer with another id, then the right one */
	SRV_TCP_CLOSE,  /* UDP: TC; TCP: close without answer */
} srv_mode_t;

typedef struct {
	int udp, tcp;
	uint16_t port;
	srv_mode_t mode;
	atomic_bool stop;
	int udp_queries, tcp_queries;
	pthread_t thread;
} srv_t;

static size_t answer_for(const uint8_t *q, size_t qlen, bool tc, int nkeys, uint16_t id_delta,
                         msg_t *m)
{
	knot_pkt_t *pkt = knot_pkt_new((void *)q, (uint16_t)qlen, NULL);
	assert_int_equal(knot_pkt_parse(pkt, 0), KNOT_EOK);
	uint16_t qtype = knot_pkt_qtype(pkt);
	char qname[256];
	knot_dname_to_str(qname, knot_pkt_qname(pkt), sizeof(qname));
	knot_pkt_free(pkt);
	start(m, (uint16_t)(knot_wire_get_id(q) + id_delta), F_QR | F_AA | (tc ? F_TC : 0), 0,
	      qname, qtype);
	if (tc) {
		return m->len;
	}
	switch (qtype) {
	case KNOT_RRTYPE_SOA:
		rr_soa(m, qname, 2024);
		rr_rrsig(m, qname, KNOT_RRTYPE_SOA, 4242, qname);
		break;
	case KNOT_RRTYPE_DNSKEY:
		for (int i = 0; i < nkeys; i++) {
			rr_dnskey(m, qname, 60, i == 0 ? 257 : 256, (uint8_t)i);
		}
		rr_rrsig(m, qname, KNOT_RRTYPE_DNSKEY, 777, qname);
		break;
	case KNOT_RRTYPE_NS:
		rr_ns(m, qname, 300, "ns1.example.net.");
		break;
	}
	return m->len;
}

static void *srv_main(void *arg)
{
	srv_t *s = arg;
	static msg_t m;
	uint8_t q[4096];
	while (!atomic_load(&s->stop)) {
		struct pollfd p[2] = { { .fd = s->udp, .events = POLLIN },
		                       { .fd = s->tcp, .events = POLLIN } };
		if (poll(p, 2, 20) <= 0) {
			continue;
		}
		if (p[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(s->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			if (n <= 0) {
				continue;
			}
			s->udp_queries++;
			if (s->mode == SRV_SILENT) {
				continue;
			}
			bool tc = s->mode != SRV_NORMAL && s->mode != SRV_STALE_ID;
			if (s->mode == SRV_STALE_ID) {
				size_t len = answer_for(q, (size_t)n, false, 2, 1, &m);
				sendto(s->udp, m.b, len, 0, (struct sockaddr *)&from, fl);
			}
			size_t len = answer_for(q, (size_t)n, tc, 20, 0, &m);
			sendto(s->udp, m.b, len, 0, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents & POLLIN) {
			int c = accept(s->tcp, NULL, NULL);
			if (c < 0) {
				continue;
			}
			s->tcp_queries++;
			uint8_t lb[2];
			if (recv(c, lb, 2, MSG_WAITALL) == 2 && s->mode != SRV_TCP_CLOSE) {
				size_t ql = ((size_t)lb[0] << 8) | lb[1];
				if (recv(c, q, ql, MSG_WAITALL) == (ssize_t)ql) {
					size_t len = answer_for(q, ql, s->mode == SRV_TC_TWICE, 20, 0, &m);
					uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
					send(c, hdr, 2, MSG_NOSIGNAL);
					send(c, m.b, len, MSG_NOSIGNAL);
				}
			}
			close(c);
		}
	}
	return NULL;
}

static void srv_start(srv_t *s, srv_mode_t mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	for (int attempt = 0; attempt < 50; attempt++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(bind(s->udp, (struct sockaddr *)&a, sizeof(a)) == 0);
		socklen_t al = sizeof(a);
		getsockname(s->udp, (struct sockaddr *)&a, &al);
		s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s->tcp, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s->tcp, 8) == 0) {
			s->port = ntohs(a.sin_port);
			break;
		}
		close(s->udp);
		close(s->tcp);
	}
	assert_int_not_equal(s->port, 0);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

static void srv_stop(srv_t *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->udp);
	close(s->tcp);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void transport_udp_and_tc_fallback(void **state)
{
	(void)state;
	srv_t s;
	ms_local_dns_target_t t;
	ms_err_t err = { 0 };
	ms_local_zone_t *z = calloc(1, sizeof(*z));

	srv_start(&s, SRV_NORMAL);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	assert_int_equal(ms_local_dns_read(&t, "example.com", z, &err), MS_OK);
	assert_int_equal(z->soa_serial, 2024);
	assert_int_equal(z->soa_sig_tags[0], 4242);
	assert_int_equal(z->dnskey_count, 20);
	assert_int_equal(z->dnskey_sig_tags[0], 777);
	assert_string_equal(z->ns[0], "ns1.example.net");
	assert_int_equal(s.udp_queries, 3);
	assert_int_equal(s.tcp_queries, 0);
	srv_stop(&s);

	srv_start(&s, SRV_TC);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	assert_int_equal(ms_local_dns_read(&t, "example.com", z, &err), MS_OK);
	assert_int_equal(z->dnskey_count, 20);
	assert_int_equal(s.tcp_queries, 3);
	srv_stop(&s);

	srv_start(&s, SRV_STALE_ID);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	assert_int_equal(ms_local_dns_query(&t, "example.com", MS_RRTYPE_DNSKEY, z, &err), MS_OK);
	assert_int_equal(z->dnskey_count, 20); /* not the stale 2 */
	srv_stop(&s);

	srv_start(&s, SRV_TC_TWICE);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	assert_int_equal(ms_local_dns_query(&t, "example.com", MS_RRTYPE_DNSKEY, z, &err), MS_EPARSE);
	srv_stop(&s);

	srv_start(&s, SRV_TCP_CLOSE);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	assert_int_equal(ms_local_dns_query(&t, "example.com", MS_RRTYPE_SOA, z, &err),
	                 MS_ETRANSPORT);
	assert_non_null(strstr(err.msg, "TCP"));
	srv_stop(&s);
	free(z);
}

static void transport_timeout_and_abort(void **state)
{
	(void)state;
	srv_t s;
	ms_local_dns_target_t t;
	ms_err_t err = { 0 };
	ms_local_zone_t *z = calloc(1, sizeof(*z));

	srv_start(&s, SRV_SILENT);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	t.timeout_ms = 300;
	long t0 = now_ms();
	assert_int_equal(ms_local_dns_read(&t, "example.com", z, &err), MS_ETIMEOUT);
	long took = now_ms() - t0;
	assert_true(took >= 290 && took < 800);

	/* Abort: noticed within a slice, long before the timeout. */
	atomic_bool abort_flag = false;
	t.timeout_ms = 10000;
	t.abort = &abort_flag;
	atomic_store(&abort_flag, true);
	t0 = now_ms();
	assert_int_equal(ms_local_dns_read(&t, "example.com", z, &err), MS_EABORTED);
	assert_true(now_ms() - t0 < 100);
	srv_stop(&s);

	/* Nothing listening: refused at once, not after the timeout. */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t al = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", ntohs(a.sin_port), &err), MS_OK);
	t.abort = NULL;
	t0 = now_ms();
	assert_int_equal(ms_local_dns_read(&t, "example.com", z, &err), MS_ETRANSPORT);
	assert_true(now_ms() - t0 < 1000);
	free(z);
}

typedef struct {
	atomic_bool *flag;
	int after_ms;
} setter_t;

static void *set_later(void *arg)
{
	setter_t *s = arg;
	struct timespec ts = { 0, s->after_ms * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(s->flag, true);
	return NULL;
}

static void transport_abort_midway(void **state)
{
	(void)state;
	srv_t s;
	ms_local_dns_target_t t;
	ms_err_t err = { 0 };
	ms_local_zone_t *z = calloc(1, sizeof(*z));
	srv_start(&s, SRV_SILENT);
	assert_int_equal(ms_local_dns_target_set(&t, "127.0.0.1", s.port, &err), MS_OK);
	atomic_bool flag = false;
	t.timeout_ms = 10000;
	t.abort = &flag;
	setter_t st = { &flag, 150 };
	pthread_t th;
	pthread_create(&th, NULL, set_later, &st);
	long t0 = now_ms();
	assert_int_equal(ms_local_dns_read(&t, "example.com", z, &err), MS_EABORTED);
	long took = now_ms() - t0;
	pthread_join(th, NULL);
	assert_true(took >= 140 && took < 150 + 100);
	srv_stop(&s);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_is_what_we_mean),
		cmocka_unit_test(recorded_answers),
		cmocka_unit_test(recorded_damaged),
		cmocka_unit_test(good_constructed),
		cmocka_unit_test(truncated_answer),
		cmocka_unit_test(rcode_and_aa),
		cmocka_unit_test(malformed_content),
		cmocka_unit_test(wrong_content),
		cmocka_unit_test(oversized),
		cmocka_unit_test(targets),
		cmocka_unit_test(transport_udp_and_tc_fallback),
		cmocka_unit_test(transport_timeout_and_abort),
		cmocka_unit_test(transport_abort_midway),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
