/*
 * Default verification's resolution (module/ns_resolve.h): resolv.conf,
 * the query, the answer (hand-made wire answers), the cache decisions, and
 * that a resolver that never answers can neither stall nor outlast an abort.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ns_resolve.h"
#include "unit_fixtures.h"

/* ---- a tiny wire writer for answers ---- */

typedef struct {
	uint8_t b[1024];
	size_t n;
} wire_t;

static void u8(wire_t *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void u16(wire_t *w, unsigned v) { u8(w, v >> 8); u8(w, v & 0xff); }
static void u32(wire_t *w, uint32_t v) { u16(w, v >> 16); u16(w, v & 0xffff); }

static void name(wire_t *w, const char *n)
{
	while (*n != '\0') {
		const char *dot = strchr(n, '.');
		size_t len = dot != NULL ? (size_t)(dot - n) : strlen(n);
		u8(w, (unsigned)len);
		memcpy(w->b + w->n, n, len);
		w->n += len;
		n += len + (dot != NULL);
	}
	u8(w, 0);
}

/* Header + question; ancount answers follow. */
static void header(wire_t *w, uint16_t id, unsigned rcode, const char *qname, uint16_t qtype,
                   unsigned ancount)
{
	w->n = 0;
	u16(w, id);
	u16(w, 0x8180 | rcode);  /* QR, RD, RA */
	u16(w, 1);
	u16(w, ancount);
	u16(w, 0);
	u16(w, 0);
	name(w, qname);
	u16(w, qtype);
	u16(w, 1);
}

static void rr(wire_t *w, const char *owner, uint16_t type, uint32_t ttl, const void *rdata,
               size_t len)
{
	name(w, owner);
	u16(w, type);
	u16(w, 1);
	u32(w, ttl);
	u16(w, (unsigned)len);
	memcpy(w->b + w->n, rdata, len);
	w->n += len;
}

static void rr_a(wire_t *w, const char *owner, uint32_t ttl, const char *ip)
{
	uint8_t a[4];
	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	rr(w, owner, 1, ttl, a, 4);
}

static void rr_cname(wire_t *w, const char *owner, uint32_t ttl, const char *target)
{
	wire_t t = { .n = 0 };
	name(&t, target);
	rr(w, owner, 5, ttl, t.b, t.n);
}

static const char *ip_of(const struct sockaddr_storage *ss, char *buf)
{
	const void *a = ss->ss_family == AF_INET6
	              ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
	              : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	return inet_ntop(ss->ss_family, a, buf, INET6_ADDRSTRLEN);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
	                                      : ((const struct sockaddr_in *)ss)->sin_port);
}

/* ---- resolv.conf ---- */

static void resolv_conf_lines(void **state)
{
	(void)state;
	const char *text = "# generated\n"
	                   "search example.net\n"
	                   "nameserver 192.0.2.53\n"
	                   "  nameserver\t2001:db8::53  # comment\n"
	                   "nameserver fe80::1%eth0\n"
	                   "nameserver not-an-address\n"
	                   "; nameserver 192.0.2.99\n"
	                   "options edns0\n"
	                   "nameserver 198.51.100.53";
	struct sockaddr_storage out[3];
	char ip[INET6_ADDRSTRLEN];
	assert_int_equal(ms_resolv_conf_parse(text, out, 3), 3);
	assert_string_equal(ip_of(&out[0], ip), "192.0.2.53");
	assert_string_equal(ip_of(&out[1], ip), "2001:db8::53");
	assert_string_equal(ip_of(&out[2], ip), "198.51.100.53");
	assert_int_equal(port_of(&out[1]), 53);
	assert_int_equal(ms_resolv_conf_parse(text, out, 1), 1);
	assert_int_equal(ms_resolv_conf_parse("", out, 3), 0);
	assert_int_equal(ms_resolv_conf_read("/nonexistent/resolv.conf", out, 3), 0);
}

/* ---- query ---- */

static void query_asks_recursion(void **state)
{
	(void)state;
	uint8_t q[512];
	size_t len = 0;
	assert_int_equal(ms_ns_resolve_build_query("Kai.NS.cloudflare.com", 1, 0x1234, q,
	                                           sizeof(q), &len, NULL), MS_OK);
	wire_t want;
	header(&want, 0x1234, 0, "kai.ns.cloudflare.com", 1, 0);
	want.b[2] = 0x01;   /* a query: RD only */
	want.b[3] = 0x00;
	assert_int_equal(len, want.n);
	assert_memory_equal(q, want.b, len);
	assert_int_equal(ms_ns_resolve_build_query("bad..name", 1, 1, q, sizeof(q), &len, NULL),
	                 MS_EINVAL);
}

/* ---- answers ---- */

#define NS "kai.ns.cloudflare.com"

/* What ms_ns_resolve_parse() fills (room for 2 addresses), and text for one. */
typedef struct {
	struct sockaddr_storage out[2];
	size_t count;
	uint32_t ttl;
	char ip[INET6_ADDRSTRLEN];
} answer_t;

static ms_rc_t parse(const wire_t *w, uint16_t qtype, answer_t *a)
{
	return ms_ns_resolve_parse(w->b, w->n, NS, qtype, 7, 5353, a->out, 2, &a->count, &a->ttl,
	                           NULL);
}

static void answer_addresses_and_ttl(void **state)
{
	(void)state;
	wire_t w;
	header(&w, 7, 0, NS, 1, 4);
	rr_a(&w, "Kai.ns.Cloudflare.com", 300, "192.0.2.1");
	rr_a(&w, "other.example", 10, "192.0.2.66");   /* not ours: ignored */
	rr_a(&w, NS, 120, "192.0.2.2");
	rr_a(&w, NS, 120, "192.0.2.3");                /* over the cap of 2 */
	answer_t a = { .count = 0 };
	assert_int_equal(parse(&w, 1, &a), MS_OK);
	assert_int_equal(a.count, 2);
	assert_string_equal(ip_of(&a.out[0], a.ip), "192.0.2.1");
	assert_string_equal(ip_of(&a.out[1], a.ip), "192.0.2.2");
	assert_int_equal(port_of(&a.out[0]), 5353);
	assert_int_equal(a.ttl, 120);
}

static void answer_follows_cname(void **state)
{
	(void)state;
	wire_t w;
	header(&w, 7, 0, NS, 1, 3);
	rr_cname(&w, NS, 50, "alias.example");
	rr_cname(&w, "alias.example", 3600, "host.example");
	rr_a(&w, "host.example", 600, "203.0.113.9");
	answer_t a = { .count = 0 };
	assert_int_equal(parse(&w, 1, &a), MS_OK);
	assert_int_equal(a.count, 1);
	assert_string_equal(ip_of(&a.out[0], a.ip), "203.0.113.9");
	assert_int_equal(a.ttl, 50);
}

static void answer_nodata_nxdomain_servfail(void **state)
{
	(void)state;
	wire_t w;
	answer_t a = { .count = 9 };
	header(&w, 7, 0, NS, 28, 0);
	assert_int_equal(parse(&w, 28, &a), MS_OK);
	assert_int_equal(a.count, 0);
	header(&w, 7, 3, NS, 1, 0);
	assert_int_equal(parse(&w, 1, &a), MS_ENOTFOUND);
	header(&w, 7, 2, NS, 1, 0);
	assert_int_equal(parse(&w, 1, &a), MS_ETRANSPORT);
}

static void answer_not_to_our_question(void **state)
{
	(void)state;
	wire_t w;
	answer_t a = { .count = 0 };
	header(&w, 8, 0, NS, 1, 1);                        /* another id */
	rr_a(&w, NS, 60, "192.0.2.1");
	assert_int_equal(parse(&w, 1, &a), MS_EPARSE);
	header(&w, 7, 0, "lia.ns.cloudflare.com", 1, 1);   /* another name */
	rr_a(&w, "lia.ns.cloudflare.com", 60, "192.0.2.1");
	assert_int_equal(parse(&w, 1, &a), MS_EPARSE);
	header(&w, 7, 0, NS, 1, 1);
	rr(&w, NS, 1, 60, "\x01\x02\x03", 3);             /* a short A record */
	assert_int_equal(parse(&w, 1, &a), MS_EPARSE);
	assert_int_equal(a.count, 0);
	header(&w, 7, 0, NS, 1, 0);
	w.b[2] &= 0x7f;                                    /* not a response */
	assert_int_equal(parse(&w, 1, &a), MS_EPARSE);
}

/* ---- cache ---- */

static void cache_fresh_only_for_same_names(void **state)
{
	(void)state;
	ms_ns_cache_t c;
	memset(&c, 0, sizeof(c));
	char names[2][MS_DNAME_MAX + 1] = { "kai.ns.cloudflare.com", "lia.ns.cloudflare.com" };
	assert_false(ms_ns_cache_fresh(&c, names, 2, 0)); /* never resolved */
	strcpy(c.names[0], "LIA.ns.cloudflare.com.");
	strcpy(c.names[1], "kai.ns.cloudflare.com");
	c.name_count = 2;
	c.addr_count = 1;
	c.expires = 100;
	assert_true(ms_ns_cache_fresh(&c, names, 2, 99));
	assert_false(ms_ns_cache_fresh(&c, names, 2, 100));     /* expired */
	assert_false(ms_ns_cache_fresh(&c, names, 1, 50));      /* a name less */
	strcpy(names[1], "max.ns.cloudflare.com");
	assert_false(ms_ns_cache_fresh(&c, names, 2, 50));      /* a name changed */
	assert_int_equal(ms_ns_cache_lifetime(5), MS_NS_CACHE_MIN);
	assert_int_equal(ms_ns_cache_lifetime(600), 600);
	assert_int_equal(ms_ns_cache_lifetime(86400), MS_NS_CACHE_MAX);
}

/* ---- bounded and abortable ---- */

static void silent_resolver_abort_and_timeout(void **state)
{
	(void)state;
	/* A bound UDP socket that never answers. */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t sl = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	struct sockaddr_storage resolver;
	memset(&resolver, 0, sizeof(resolver));
	memcpy(&resolver, &sin, sizeof(sin));
	char names[1][MS_DNAME_MAX + 1] = { NS };
	ms_ns_cache_t out;
	uint32_t ttl;
	ms_err_t err = { 0 };

	/* Unload: the worker must stop within 100 ms. */
	atomic_bool abort_flag = false;
	fx_flag_later_t l;
	fx_flag_later_start(&l, &abort_flag, 30);
	double t0 = fx_mono();
	assert_int_equal(ms_ns_resolve(&resolver, 1, names, 1, 53, &abort_flag, &out, &ttl, &err),
	                 MS_EABORTED);
	double took = fx_mono() - l.after_ms / 1000.0 - t0;
	fx_flag_later_join(&l);
	assert_true(took < 0.1);
	assert_int_equal(out.addr_count, 0);

	/* No abort: bounded by the per-query timeout. */
	atomic_store(&abort_flag, false);
	t0 = fx_mono();
	assert_int_equal(ms_ns_resolve(&resolver, 1, names, 1, 53, &abort_flag, &out, &ttl, &err),
	                 MS_ETIMEOUT);
	took = fx_mono() - t0;
	assert_true(took < MS_NS_RESOLVE_TIMEOUT_MS / 1000.0 + 0.5);
	assert_non_null(strstr(err.msg, NS));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolv_conf_lines),
		cmocka_unit_test(query_asks_recursion),
		cmocka_unit_test(answer_addresses_and_ttl),
		cmocka_unit_test(answer_follows_cname),
		cmocka_unit_test(answer_nodata_nxdomain_servfail),
		cmocka_unit_test(answer_not_to_our_question),
		cmocka_unit_test(cache_fresh_only_for_same_names),
		cmocka_unit_test(silent_resolver_abort_and_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
