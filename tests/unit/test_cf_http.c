#define _GNU_SOURCE /* strcasestr */
/* The HTTP adapter and the client's request loop against a scripted HTTP
 * server on 127.0.0.1 in a thread: headers sent and read, body cap,
 * timeouts, abort within 100 ms, dropped connections, retries, back-off,
 * 429 handling, paging, secret scrubbing and request counting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cf_client.h"
#include "cf_wait.h"
#include "http.h"

#define TOKEN "tok-3x4mple-S3CRET"
#define ZONE "0123456789abcdef0123456789abcdef"
#define CF_KEY "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="
#define OK_ENV(result) "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":" result "}"
#define DNSSEC_OK OK_ENV("{\"status\":\"active\",\"dnssec_multi_signer\":true}")

/* ---- scripted server ------------------------------------------------------ */

enum { HANG = 0, DROP = -1 };

typedef struct {
	int status;          /* HTTP status, or HANG / DROP */
	const char *headers; /* extra header lines, each ending in \r\n */
	const char *body;
	size_t repeat_len;   /* >0: the body is this many 'x' (for size caps) */
} step_t;

#define MAX_REQ 16

typedef struct {
	int fd;
	int port;
	pthread_t thread;
	step_t steps[MAX_REQ];
	size_t nsteps;
	size_t served;
	char requests[MAX_REQ][2048]; /* head and body of each request */
	atomic_bool stop;
} server_t;

static server_t srv;

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) > 0;
}

static void read_request(int c, char *buf, size_t cap)
{
	size_t len = 0;
	long want = -1;
	while (len + 1 < cap && wait_readable(c, 2000)) {
		ssize_t n = recv(c, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end != NULL && want < 0) {
			char *cl = strcasestr(buf, "Content-Length:");
			want = (long)(end + 4 - buf) + (cl && cl < end ? atol(cl + 15) : 0);
		}
		if (want >= 0 && (long)len >= want) {
			break;
		}
	}
	buf[len] = '\0';
}

static void send_all(int c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c, data, len, MSG_NOSIGNAL);
		if (n <= 0) {
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void answer(int c, const step_t *s)
{
	if (s->status == HANG) {
		/* Say nothing until the client gives up (or the test ends). */
		char b[256];
		while (!atomic_load(&srv.stop)) {
			if (wait_readable(c, 5) && recv(c, b, sizeof(b), 0) <= 0) {
				break;
			}
		}
		return;
	}
	if (s->status == DROP) {
		return;
	}
	char *big = NULL;
	const char *body = s->body ? s->body : "";
	size_t blen = strlen(body);
	if (s->repeat_len > 0) {
		big = malloc(s->repeat_len);
		memset(big, 'x', s->repeat_len);
		body = big;
		blen = s->repeat_len;
	}
	char head[1024];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d Scripted\r\nContent-Type: application/json"
	                 "\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", s->status, blen,
	                 s->headers ? s->headers : "");
	send_all(c, head, (size_t)n);
	send_all(c, body, blen);
	free(big);
}

static void *serve(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv.stop)) {
		if (!wait_readable(srv.fd, 20)) {
			continue;
		}
		int c = accept(srv.fd, NULL, NULL);
		if (c < 0) {
			continue;
		}
		size_t i = srv.served < MAX_REQ ? srv.served : MAX_REQ - 1;
		read_request(c, srv.requests[i], sizeof(srv.requests[i]));
		const step_t *s = &srv.steps[srv.served < srv.nsteps ? srv.served : srv.nsteps - 1];
		srv.served++;
		answer(c, s);
		close(c);
	}
	return NULL;
}

static void start_server(const step_t *steps, size_t n)
{
	memset(&srv, 0, sizeof(srv));
	memcpy(srv.steps, steps, n * sizeof(*steps));
	srv.nsteps = n;
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.fd, 16), 0);
	getsockname(srv.fd, (struct sockaddr *)&a, &alen);
	srv.port = ntohs(a.sin_port);
	pthread_create(&srv.thread, NULL, serve, NULL);
}

static void stop_server(void)
{
	atomic_store(&srv.stop, true);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
}

static char *url(const char *path)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d/client/v4%s", srv.port, path);
	return buf;
}

static char *base_url(void)
{
	return url("");
}

/* ---- abort helper ------------------------------------------------------------ */

static atomic_bool abort_flag;
static _Atomic uint64_t abort_at;

static void *abort_after(void *arg)
{
	usleep((useconds_t)(*(int *)arg) * 1000);
	atomic_store(&abort_at, ms_cf_now_ms());
	atomic_store(&abort_flag, true);
	return NULL;
}

/* ---- HTTP adapter -------------------------------------------------------------- */

static ms_http_t *new_http(const ms_http_config_t *extra)
{
	ms_http_config_t cfg = extra ? *extra : (ms_http_config_t){ 0 };
	if (cfg.secret == NULL) {
		cfg.secret = TOKEN;
	}
	ms_http_t *h = NULL;
	assert_int_equal(ms_http_new(&cfg, &h, NULL), MS_OK);
	return h;
}

static void sends_and_reads_headers(void **state)
{
	(void)state;
	step_t s[] = { { 200, "Retry-After: 3\r\nX-RateLimit-Limit: 1200\r\n"
	                      "x-ratelimit-remaining: 17\r\nx-ratelimit-reset: 250\r\n", "{}", 0 } };
	start_server(s, 1);
	ms_http_t *h = new_http(NULL);
	ms_http_response_t r;
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, NULL), MS_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{}");
	assert_int_equal(r.retry_after_s, 3);
	assert_int_equal(r.rl_limit, 1200);
	assert_int_equal(r.rl_remaining, 17);
	assert_int_equal(r.rl_reset_s, 250);
	ms_http_response_free(&r);
	ms_http_free(h);
	stop_server();
	const char *req = srv.requests[0];
	assert_non_null(strstr(req, "GET /client/v4/zones HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
	assert_non_null(strstr(req, "\r\nUser-Agent: knot-multisigner/"));
	assert_non_null(strstr(req, "\r\nAccept: application/json\r\n"));
}

static void global_key_and_methods(void **state)
{
	(void)state;
	step_t s[] = { { 200, NULL, "{}", 0 } };
	start_server(s, 1);
	ms_http_config_t cfg = { .auth_kind = MS_AUTH_GLOBAL_KEY, .secret = "k3y",
	                         .email = "ops@example.com" };
	ms_http_t *h = new_http(&cfg);
	ms_http_response_t r;
	assert_int_equal(ms_http_perform(h, MS_HTTP_PATCH, url("/zones/x/dnssec"),
	                                 "{\"status\":\"active\"}", &r, NULL), MS_OK);
	ms_http_response_free(&r);
	assert_int_equal(ms_http_perform(h, MS_HTTP_DELETE, url("/zones/x/dns_records/y"), NULL, &r,
	                                 NULL), MS_OK);
	ms_http_response_free(&r);
	assert_int_equal(ms_http_perform(h, MS_HTTP_POST, url("/zones/x/dns_records"), "{\"a\":1}",
	                                 &r, NULL), MS_OK);
	ms_http_response_free(&r);
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, NULL), MS_OK);
	ms_http_response_free(&r);
	ms_http_free(h);
	stop_server();
	assert_non_null(strstr(srv.requests[0], "PATCH /client/v4/zones/x/dnssec HTTP/1.1"));
	assert_non_null(strstr(srv.requests[0], "X-Auth-Email: ops@example.com\r\n"));
	assert_non_null(strstr(srv.requests[0], "X-Auth-Key: k3y\r\n"));
	assert_null(strstr(srv.requests[0], "Authorization:"));
	assert_non_null(strstr(srv.requests[0], "\r\n\r\n{\"status\":\"active\"}"));
	assert_non_null(strstr(srv.requests[1], "DELETE /client/v4/zones/x/dns_records/y HTTP"));
	assert_non_null(strstr(srv.requests[2], "POST /client/v4/zones/x/dns_records HTTP"));
	assert_non_null(strstr(srv.requests[2], "Content-Type: application/json\r\n"));
	assert_non_null(strstr(srv.requests[3], "GET /client/v4/zones HTTP"));
	assert_null(strstr(srv.requests[3], "{\"a\":1}"));
}

/* Clients of one thread share a pool: each request carries its own client's
 * credential and options only, whatever the client before it set, and a
 * client's abort flag stops its own requests alone. */
static void clients_share_a_pool(void **state)
{
	(void)state;
	step_t s[] = { { 200, NULL, "{}", 0 } };
	start_server(s, 1);
	ms_http_pool_t *pool = NULL;
	assert_int_equal(ms_http_pool_new(&pool, NULL), MS_OK);
	atomic_store(&abort_flag, false);
	ms_http_config_t ka = { .auth_kind = MS_AUTH_GLOBAL_KEY, .secret = "k3y",
	                        .email = "ops@example.com", .pool = pool, .max_body = 1,
	                        .abort_flag = &abort_flag };
	ms_http_config_t tb = { .pool = pool };
	ms_http_t *a = new_http(&ka);
	ms_http_t *b = new_http(&tb);
	ms_http_response_t r;
	ms_err_t err = { 0 };
	assert_int_equal(ms_http_perform(a, MS_HTTP_PATCH, url("/zones/a"), "{\"x\":1}", &r, &err),
	                 MS_ETOOBIG); /* a's body cap, 1 byte */
	ms_http_response_free(&r);
	assert_int_equal(ms_http_perform(b, MS_HTTP_GET, url("/zones/b"), NULL, &r, NULL), MS_OK);
	assert_string_equal(r.body, "{}"); /* b's own cap */
	ms_http_response_free(&r);
	atomic_store(&abort_flag, true);
	assert_int_equal(ms_http_perform(a, MS_HTTP_GET, url("/zones/a"), NULL, &r, &err),
	                 MS_EABORTED);
	ms_http_free(a); /* b and the pool go on without it */
	assert_int_equal(ms_http_perform(b, MS_HTTP_DELETE, url("/zones/b2"), NULL, &r, NULL), MS_OK);
	ms_http_response_free(&r);
	ms_http_pool_free(pool); /* before its last client: allowed */
	ms_http_free(b);
	ms_http_pool_free(NULL);
	stop_server();
	assert_int_equal(srv.served, 3);
	assert_non_null(strstr(srv.requests[0], "PATCH /client/v4/zones/a HTTP"));
	assert_non_null(strstr(srv.requests[0], "X-Auth-Key: k3y\r\n"));
	assert_non_null(strstr(srv.requests[1], "GET /client/v4/zones/b HTTP"));
	assert_non_null(strstr(srv.requests[1], "Authorization: Bearer " TOKEN "\r\n"));
	assert_null(strstr(srv.requests[1], "X-Auth"));
	assert_null(strstr(srv.requests[1], "{\"x\":1}"));
	assert_non_null(strstr(srv.requests[2], "DELETE /client/v4/zones/b2 HTTP"));
	assert_null(strstr(srv.requests[2], "X-Auth"));
}

static void refusals(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	ms_http_t *h = NULL;
	ms_http_config_t cfg = { .secret = "tok\r\nX-Evil: 1" };
	assert_int_equal(ms_http_new(&cfg, &h, &err), MS_EINVAL);
	assert_null(strstr(err.msg, "Evil"));
	cfg = (ms_http_config_t){ .secret = "" };
	assert_int_equal(ms_http_new(&cfg, &h, &err), MS_EINVAL);
	cfg = (ms_http_config_t){ .auth_kind = MS_AUTH_GLOBAL_KEY, .secret = "k" };
	assert_int_equal(ms_http_new(&cfg, &h, &err), MS_EINVAL); /* no email */
	h = new_http(NULL);
	ms_http_response_t r;
	/* Plain http only to loopback; nothing is sent. */
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, "http://192.0.2.1/client/v4/zones", NULL,
	                                 &r, &err), MS_EINVAL);
	assert_true(r.permanent);
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, "ftp://127.0.0.1/x", NULL, &r, &err),
	                 MS_EINVAL);
	ms_http_response_free(&r);
	ms_http_free(h);
}

static void body_cap(void **state)
{
	(void)state;
	step_t s[] = { { 200, NULL, NULL, 100000 } };
	start_server(s, 1);
	ms_http_config_t cfg = { .max_body = 4096 };
	ms_http_t *h = new_http(&cfg);
	ms_http_response_t r;
	ms_err_t err = { 0 };
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, &err), MS_ETOOBIG);
	assert_string_equal(err.msg, "response larger than 4096 bytes: refused");
	ms_http_response_free(&r);
	ms_http_free(h);
	stop_server();
}

static void timeout_and_drops(void **state)
{
	(void)state;
	step_t s[] = { { HANG, NULL, NULL, 0 }, { DROP, NULL, NULL, 0 } };
	start_server(s, 2);
	ms_http_config_t cfg = { .timeout_ms = 300 };
	ms_http_t *h = new_http(&cfg);
	ms_http_response_t r;
	ms_err_t err = { 0 };
	uint64_t t0 = ms_cf_now_ms();
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, &err), MS_ETIMEOUT);
	assert_in_range(ms_cf_now_ms() - t0, 280, 1000);
	assert_non_null(strstr(err.msg, "within 300 ms"));
	ms_http_response_free(&r);
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, &err),
	                 MS_ETRANSPORT);
	assert_false(r.permanent);
	ms_http_response_free(&r);
	ms_http_free(h);
	stop_server();
	/* Nobody listening at all. */
	h = new_http(NULL);
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, &err),
	                 MS_ETRANSPORT);
	ms_http_response_free(&r);
	ms_http_free(h);
}

static void abort_within_100ms(void **state)
{
	(void)state;
	step_t s[] = { { HANG, NULL, NULL, 0 } };
	start_server(s, 1);
	atomic_store(&abort_flag, false);
	ms_http_config_t cfg = { .timeout_ms = 20000, .abort_flag = &abort_flag };
	ms_http_t *h = new_http(&cfg);
	ms_http_response_t r;
	ms_err_t err = { 0 };
	pthread_t th;
	int after = 150;
	pthread_create(&th, NULL, abort_after, &after);
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, &err), MS_EABORTED);
	uint64_t latency = ms_cf_now_ms() - atomic_load(&abort_at);
	pthread_join(th, NULL);
	assert_true(latency < MS_HTTP_ABORT_MS);
	/* With the flag already set nothing is sent. */
	size_t served = srv.served;
	assert_int_equal(ms_http_perform(h, MS_HTTP_GET, url("/zones"), NULL, &r, &err), MS_EABORTED);
	ms_http_response_free(&r);
	ms_http_free(h);
	stop_server();
	assert_int_equal(srv.served, served);
}

static void retry_after_values(void **state)
{
	(void)state;
	assert_int_equal(ms_http_parse_retry_after(" 5", 0), 5);
	assert_int_equal(ms_http_parse_retry_after("120 \r\n", 0), 120);
	assert_int_equal(ms_http_parse_retry_after("soon", 0), -1);
	assert_int_equal(ms_http_parse_retry_after("5s", 0), -1);
	assert_int_equal(ms_http_parse_retry_after("-3", 0), -1);
	/* HTTP date: 1994-11-06 08:49:37 UTC is 784111777. */
	assert_int_equal(ms_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), 7);
	assert_int_equal(ms_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0);
}

/* Header lines as curl hands them over: not NUL-terminated, with CRLF. */
static void header_lines(void **state)
{
	(void)state;
	ms_http_response_t r = { .retry_after_s = -1, .rl_limit = -1, .rl_remaining = -1,
	                         .rl_reset_s = -1 };
	const char *lines[] = { "Retry-After: 30\r\n", "x-ratelimit-limit: 1200\r\n",
	                        "X-RateLimit-Remaining: 7\r\n", "x-ratelimit-reset: -4\r\n",
	                        "content-type: text/html\r\n", "no colon\r\n" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ms_http_parse_header(&r, lines[i], strlen(lines[i]), 0);
	}
	assert_int_equal(r.retry_after_s, 30);
	assert_int_equal(r.rl_limit, 1200);
	assert_int_equal(r.rl_remaining, 7);
	assert_int_equal(r.rl_reset_s, -1);
	/* Only the given bytes are read: "retry-after: 1" of "...: 12". */
	ms_http_parse_header(&r, "retry-after: 12", 14, 0);
	assert_int_equal(r.retry_after_s, 1);
	/* An over-long line is ignored, a new status line forgets them all. */
	char big[300];
	memset(big, 'x', sizeof(big));
	memcpy(big, "retry-after: ", 13);
	ms_http_parse_header(&r, big, sizeof(big), 0);
	assert_int_equal(r.retry_after_s, 1);
	ms_http_parse_header(&r, "HTTP/1.1 200 OK\r\n", 17, 0);
	assert_int_equal(r.retry_after_s, -1);
	assert_int_equal(r.rl_limit, -1);
	assert_int_equal(r.rl_remaining, -1);
}

/* ---- client request loop ------------------------------------------------------------ */

typedef struct {
	int requests, failures;
} counts_t;

static void count(void *ctx, ms_rc_t rc, long status, bool write)
{
	(void)status;
	(void)write;
	counts_t *c = ctx;
	c->requests++;
	c->failures += (rc != MS_OK);
}

static counts_t counts;

static ms_cf_client_t *new_client(ms_ratelimit_t *rl, uint32_t per_page)
{
	ms_cf_config_t cfg = {
		.api_url = base_url(), .secret = TOKEN, .per_page = per_page,
		.backoff = { .max_attempts = 4, .base_delay_ms = 10, .max_delay_ms = 2000,
		             .max_total_ms = 5000 },
		.abort_flag = &abort_flag, .ratelimit = rl, .on_request = count, .hook_ctx = &counts,
	};
	counts = (counts_t){ 0 };
	atomic_store(&abort_flag, false);
	ms_cf_client_t *c = NULL;
	ms_err_t err = { 0 };
	if (ms_cf_client_new(&cfg, &c, &err) != MS_OK) {
		fail_msg("client: %s", err.msg);
	}
	return c;
}

static void retries_transient_failures(void **state)
{
	(void)state;
	step_t s[] = {
		{ 503, NULL, "<html>Service Unavailable</html>", 0 },
		{ 500, NULL, "{\"success\":false,\"errors\":[{\"code\":10001,\"message\":\"boom\"}]}", 0 },
		{ DROP, NULL, NULL, 0 },
		{ 200, NULL, DNSSEC_OK, 0 },
	};
	start_server(s, 4);
	ms_cf_client_t *c = new_client(NULL, 0);
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_OK);
	assert_int_equal(d.status, MS_CF_DNSSEC_ACTIVE);
	assert_int_equal(counts.requests, 4);
	assert_int_equal(counts.failures, 3);
	ms_cf_client_free(c);
	stop_server();
}

static void gives_up_clearly(void **state)
{
	(void)state;
	step_t s[] = {
		{ 403, NULL, "{\"success\":false,\"errors\":[{\"code\":9109,\"message\":"
		             "\"Invalid access token " TOKEN "\"}],\"messages\":[],\"result\":null}", 0 },
		{ 503, NULL, "<html>x</html>", 0 },
	};
	start_server(s, 2);
	ms_cf_client_t *c = new_client(NULL, 0);
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	/* A 4xx: one request, no retry; the token the server echoed is masked. */
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_EAPI);
	assert_int_equal(counts.requests, 1);
	assert_int_equal(err.http_status, 403);
	assert_int_equal(err.api_codes[0], 9109);
	assert_null(strstr(err.msg, TOKEN));
	assert_non_null(strstr(err.msg, "GET /zones/" ZONE "/dnssec: Cloudflare error 9109"));
	/* 5xx every time: max_attempts, then the last error with a note. */
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_EHTTP);
	assert_int_equal(counts.requests, 1 + 4);
	assert_int_equal(err.http_status, 503);
	assert_int_equal(err.api_code_count, 0);
	assert_non_null(strstr(err.msg, "(gave up after 4 attempts)"));
	/* Arguments are checked before anything is sent. */
	assert_int_equal(ms_cf_get_dnssec(c, "../../user", &d, &err), MS_EINVAL);
	assert_int_equal(counts.requests, 5);
	ms_cf_client_free(c);
	stop_server();
}

static void parse_failures_retry_only_when_safe(void **state)
{
	(void)state;
	step_t s[] = {
		{ 200, NULL, "{\"success\":true,\"result\":{\"status\":", 0 },
		{ 200, NULL, DNSSEC_OK, 0 },
		{ 200, NULL, "not json at all", 0 },
	};
	start_server(s, 3);
	ms_cf_client_t *c = new_client(NULL, 0);
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_OK); /* GET: asked again */
	assert_int_equal(counts.requests, 2);
	ms_cf_record_t rec, created;
	ms_cf_record_ns(&rec, "example.com", 3600, "ns1.example.net", NULL);
	assert_int_equal(ms_cf_create_record(c, ZONE, &rec, &created, &err), MS_EPARSE);
	assert_int_equal(counts.requests, 3); /* POST: never twice on a doubtful answer */
	ms_cf_client_free(c);
	stop_server();
}

static void rate_limited_by_cloudflare(void **state)
{
	(void)state;
	step_t s[] = {
		{ 429, "Retry-After: 1\r\nx-ratelimit-remaining: 0\r\n",
		  "{\"success\":false,\"errors\":[{\"code\":971,\"message\":\"More than 1200 requests "
		  "per 300 seconds reached.\"}],\"result\":null}", 0 },
		{ 200, NULL, DNSSEC_OK, 0 },
		{ 429, "Retry-After: 300\r\n", "{\"success\":false,\"errors\":[{\"code\":971}]}", 0 },
	};
	start_server(s, 3);
	ms_ratelimit_t *rl;
	assert_int_equal(ms_ratelimit_new(NULL, &rl, NULL), MS_OK);
	ms_cf_client_t *c = new_client(rl, 0);
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	uint64_t t0 = ms_cf_now_ms();
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_OK);
	assert_in_range(ms_cf_now_ms() - t0, 1000, 1800); /* retry-after obeyed */
	assert_int_equal(counts.requests, 2);
	/* retry-after beyond what one call may wait: give up now, and the
	 * shared limiter holds every caller of this credential back. */
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_EAPI);
	assert_int_equal(err.http_status, 429);
	assert_int_equal(counts.requests, 3);
	assert_true(ms_ratelimit_try(rl, ms_cf_now_ms()) > 250000);
	ms_cf_client_free(c);
	ms_ratelimit_free(rl);
	stop_server();
}

static void own_budget_is_kept(void **state)
{
	(void)state;
	step_t s[] = { { 200, NULL, DNSSEC_OK, 0 } };
	start_server(s, 1);
	ms_ratelimit_config_t rc = { .budget = 2, .window_s = 3600, .use_pct = 100 };
	ms_ratelimit_t *rl;
	assert_int_equal(ms_ratelimit_new(&rc, &rl, NULL), MS_OK);
	ms_cf_config_t cfg = { .api_url = base_url(), .secret = TOKEN, .ratelimit = rl,
	                       .max_rate_wait_ms = 100, .on_request = count, .hook_ctx = &counts };
	counts = (counts_t){ 0 };
	ms_cf_client_t *c;
	assert_int_equal(ms_cf_client_new(&cfg, &c, NULL), MS_OK);
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_OK);
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_ERATELIMIT);
	assert_int_equal(counts.requests, 1); /* the second never left */
	assert_non_null(strstr(err.msg, "budget"));
	ms_cf_client_free(c);
	ms_ratelimit_free(rl);
	stop_server();
}

static void abort_during_backoff(void **state)
{
	(void)state;
	step_t s[] = { { 503, NULL, "{\"success\":false,\"errors\":[{\"code\":1}]}", 0 } };
	start_server(s, 1);
	ms_cf_config_t cfg = { .api_url = base_url(), .secret = TOKEN, .abort_flag = &abort_flag,
	                       .backoff = { .base_delay_ms = 10000, .max_delay_ms = 20000 } };
	atomic_store(&abort_flag, false);
	ms_cf_client_t *c;
	assert_int_equal(ms_cf_client_new(&cfg, &c, NULL), MS_OK);
	pthread_t th;
	int after = 200;
	pthread_create(&th, NULL, abort_after, &after);
	ms_cf_dnssec_t d;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_get_dnssec(c, ZONE, &d, &err), MS_EABORTED);
	uint64_t latency = ms_cf_now_ms() - atomic_load(&abort_at);
	pthread_join(th, NULL);
	assert_true(latency < MS_HTTP_ABORT_MS);
	ms_cf_client_free(c);
	stop_server();
}

#define NS_REC(id, host) "{\"id\":\"" id "\",\"name\":\"example.com\",\"type\":\"NS\"," \
	"\"ttl\":86400,\"content\":\"" host "\",\"comment\":null}"
#define PAGE(items, page, count, total) "{\"success\":true,\"errors\":[],\"result\":[" items \
	"],\"result_info\":{\"page\":" #page ",\"per_page\":2,\"count\":" #count \
	",\"total_count\":" #total "}}"

static void lists_every_page(void **state)
{
	(void)state;
	step_t s[] = {
		{ 200, NULL, PAGE(NS_REC("a1", "ns1.x") "," NS_REC("a2", "ns2.x"), 1, 2, 5), 0 },
		{ 200, NULL, PAGE(NS_REC("a3", "ns3.x") "," NS_REC("a4", "ns4.x"), 2, 2, 5), 0 },
		{ 200, NULL, PAGE(NS_REC("a5", "ns5.x"), 3, 1, 5), 0 },
	};
	start_server(s, 3);
	ms_cf_client_t *c = new_client(NULL, 2);
	ms_cf_record_list_t l;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_list_records(c, ZONE, MS_CF_RR_NS, "Example.com.", &l, &err), MS_OK);
	assert_int_equal(l.count, 5);
	assert_string_equal(l.items[4].ns_host, "ns5.x");
	assert_int_equal(counts.requests, 3);
	ms_cf_record_list_free(&l);
	ms_cf_client_free(c);
	stop_server();
	assert_non_null(strstr(srv.requests[0], "GET /client/v4/zones/" ZONE "/dns_records?type=NS"
	                       "&name=example.com&per_page=2&page=1 HTTP"));
	assert_non_null(strstr(srv.requests[2], "&page=3 HTTP"));
}

static void relists_a_list_that_changed(void **state)
{
	(void)state;
	step_t s[] = {
		/* First pass: a record appears between the pages and shifts a2 onto page 2. */
		{ 200, NULL, PAGE(NS_REC("a1", "ns1.x") "," NS_REC("a2", "ns2.x"), 1, 2, 3), 0 },
		{ 200, NULL, PAGE(NS_REC("a2", "ns2.x") "," NS_REC("a3", "ns3.x"), 2, 2, 4), 0 },
		/* Second pass: stable. */
		{ 200, NULL, PAGE(NS_REC("a0", "ns0.x") "," NS_REC("a1", "ns1.x"), 1, 2, 4), 0 },
		{ 200, NULL, PAGE(NS_REC("a2", "ns2.x") "," NS_REC("a3", "ns3.x"), 2, 2, 4), 0 },
	};
	start_server(s, 4);
	ms_cf_client_t *c = new_client(NULL, 2);
	ms_cf_record_list_t l;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_list_records(c, ZONE, MS_CF_RR_NS, "example.com", &l, &err), MS_OK);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.items[0].id, "a0");
	assert_int_equal(counts.requests, 4);
	ms_cf_record_list_free(&l);
	ms_cf_client_free(c);
	stop_server();
}

static void list_that_never_settles(void **state)
{
	(void)state;
	step_t s[] = {
		{ 200, NULL, PAGE(NS_REC("a1", "ns1.x") "," NS_REC("a2", "ns2.x"), 1, 2, 3), 0 },
		{ 200, NULL, PAGE(NS_REC("a2", "ns2.x"), 2, 1, 3), 0 },
	};
	/* Every page 2 repeats a2: three passes, then a clear error. */
	step_t all[6];
	for (int i = 0; i < 6; i++) {
		all[i] = s[i % 2];
	}
	start_server(all, 6);
	ms_cf_client_t *c = new_client(NULL, 2);
	ms_cf_record_list_t l;
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_list_records(c, ZONE, MS_CF_RR_NS, "example.com", &l, &err), MS_EAPI);
	assert_non_null(strstr(err.msg, "kept changing"));
	assert_null(l.items);
	assert_int_equal(counts.requests, 6);
	ms_cf_client_free(c);
	stop_server();
}

static void delete_find_and_batch(void **state)
{
	(void)state;
	step_t s[] = {
		{ 404, NULL, "{\"success\":false,\"errors\":[{\"code\":81044,\"message\":\"Record does "
		             "not exist.\"}],\"result\":null}", 0 },
		{ 200, NULL, OK_ENV("{\"id\":\"r1\"}"), 0 },
		{ 200, NULL, "{\"success\":true,\"errors\":[],\"result\":[],\"result_info\":"
		             "{\"count\":0,\"total_count\":0}}", 0 },
		{ 200, NULL, OK_ENV("[{\"id\":\"z1\",\"name\":\"example.com\",\"status\":\"active\"},"
		                    "{\"id\":\"z2\",\"name\":\"EXAMPLE.com\",\"status\":\"active\"}]"), 0 },
		{ 200, NULL, OK_ENV("{\"deletes\":[{\"id\":\"r1\"}],\"posts\":[{\"id\":\"n1\",\"name\":"
		                    "\"example.com\",\"type\":\"DNSKEY\",\"ttl\":3600,\"data\":{\"flags\":"
		                    "256,\"protocol\":3,\"algorithm\":13,\"public_key\":\"" CF_KEY "\"}}]}"),
		  0 },
	};
	start_server(s, 5);
	ms_cf_client_t *c = new_client(NULL, 0);
	ms_err_t err = { 0 };
	assert_int_equal(ms_cf_delete_record(c, ZONE, "r1", &err), MS_ENOTFOUND);
	assert_int_equal(err.api_codes[0], 81044);
	assert_int_equal(ms_cf_delete_record(c, ZONE, "r1", &err), MS_OK);
	ms_cf_zone_t z;
	assert_int_equal(ms_cf_find_zone(c, "example.com", &z, &err), MS_ENOTFOUND);
	assert_int_equal(ms_cf_find_zone(c, "example.com.", &z, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "configure zone-id"));
	ms_cf_record_t post;
	ms_dnskey_t k;
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, CF_KEY, &k, NULL), MS_OK);
	ms_cf_record_dnskey(&post, "example.com", 3600, &k, NULL);
	const char *dels[] = { "r1" };
	ms_cf_batch_t b = { .delete_ids = dels, .delete_count = 1, .posts = &post, .post_count = 1 };
	ms_cf_record_list_t created;
	assert_int_equal(ms_cf_batch(c, ZONE, &b, &created, &err), MS_OK);
	assert_int_equal(created.count, 1);
	assert_string_equal(created.items[0].id, "n1");
	ms_cf_record_list_free(&created);
	/* A global key cannot be verified as a token; nothing is sent. */
	int before = counts.requests;
	ms_cf_client_free(c);
	ms_cf_config_t cfg = { .api_url = base_url(), .auth_kind = MS_AUTH_GLOBAL_KEY,
	                       .secret = "k", .email = "a@b.c", .on_request = count,
	                       .hook_ctx = &counts };
	assert_int_equal(ms_cf_client_new(&cfg, &c, NULL), MS_OK);
	ms_cf_token_t t;
	assert_int_equal(ms_cf_verify_token(c, &t, &err), MS_EINVAL);
	assert_int_equal(counts.requests, before);
	ms_cf_client_free(c);
	stop_server();
	assert_non_null(strstr(srv.requests[0], "DELETE /client/v4/zones/" ZONE "/dns_records/r1 "));
	assert_non_null(strstr(srv.requests[2], "GET /client/v4/zones?name=example.com&per_page=50 "));
	assert_non_null(strstr(srv.requests[4], "POST /client/v4/zones/" ZONE "/dns_records/batch "));
	assert_non_null(strstr(srv.requests[4], "{\"deletes\":[{\"id\":\"r1\"}],\"posts\":[{"));
}

static void client_refuses_bad_config(void **state)
{
	(void)state;
	ms_cf_client_t *c = NULL;
	ms_err_t err = { 0 };
	ms_cf_config_t cfg = { .api_url = "http://api.cloudflare.com/client/v4", .secret = TOKEN };
	assert_int_equal(ms_cf_client_new(&cfg, &c, &err), MS_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "api-url: plain http:// is allowed only to a loopback"));
	cfg.api_url = NULL; /* the default, https://api.cloudflare.com/client/v4 */
	assert_int_equal(ms_cf_client_new(&cfg, &c, &err), MS_OK);
	ms_cf_client_free(c);
	ms_cf_client_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sends_and_reads_headers),
		cmocka_unit_test(global_key_and_methods),
		cmocka_unit_test(refusals),
		cmocka_unit_test(clients_share_a_pool),
		cmocka_unit_test(body_cap),
		cmocka_unit_test(timeout_and_drops),
		cmocka_unit_test(abort_within_100ms),
		cmocka_unit_test(retry_after_values),
		cmocka_unit_test(header_lines),
		cmocka_unit_test(retries_transient_failures),
		cmocka_unit_test(gives_up_clearly),
		cmocka_unit_test(parse_failures_retry_only_when_safe),
		cmocka_unit_test(rate_limited_by_cloudflare),
		cmocka_unit_test(own_budget_is_kept),
		cmocka_unit_test(abort_during_backoff),
		cmocka_unit_test(lists_every_page),
		cmocka_unit_test(relists_a_list_that_changed),
		cmocka_unit_test(list_that_never_settles),
		cmocka_unit_test(delete_find_and_batch),
		cmocka_unit_test(client_refuses_bad_config),
	};
	ms_http_global_init(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
