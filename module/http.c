#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cf_wait.h"
#include "http.h"
#include "version.h"

/* How long one curl_multi_poll() may block: the abort flag is looked at
 * between polls, so this bounds the reaction time. */
#define POLL_SLICE_MS 20
#define LOW_SPEED_BYTES 1    /* below this many bytes per second... */
#define LOW_SPEED_TIME_S 20  /* ...for this long, the transfer is dead */

/* libcurl's handles, shared by the clients of one thread: one transfer
 * buffer, one connection cache, one DNS and TLS session cache, one CA store,
 * however many zones. Created at the first request. */
struct ms_http_pool {
	CURLM *multi;
	CURL *easy;
};

struct ms_http {
	ms_http_pool_t *pool;       /* the shared one, or own_pool */
	ms_http_pool_t *own_pool;   /* created for this client alone (no pool given) */
	struct curl_slist *headers; /* holds the credential: wiped on free */
	char *ca_file;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_body;
	const atomic_bool *abort_flag;
	/* per request */
	ms_http_response_t *resp;
	size_t body_cap;
	bool too_big;
	bool oom;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

ms_rc_t ms_http_global_init(ms_err_t *err)
{
	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK) {
		return ms_err_set(err, MS_EIO, "libcurl initialisation failed: %s",
		                  curl_easy_strerror(global_rc));
	}
	return MS_OK;
}

const char *ms_http_method_name(ms_http_method_t m)
{
	switch (m) {
	case MS_HTTP_GET:    return "GET";
	case MS_HTTP_POST:   return "POST";
	case MS_HTTP_PATCH:  return "PATCH";
	case MS_HTTP_DELETE: return "DELETE";
	}
	return "GET";
}

/* ---- headers ------------------------------------------------------------- */

static void wipe_slist(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next) {
		explicit_bzero(p->data, strlen(p->data));
	}
	curl_slist_free_all(l);
}

/* Append "name: value" to *list; the temporary copy is wiped. */
static bool append_header(struct curl_slist **list, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 3;
	char *line = malloc(len);
	if (line == NULL) {
		return false;
	}
	snprintf(line, len, "%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(*list, line);
	explicit_bzero(line, len);
	free(line);
	if (n == NULL) {
		return false;
	}
	*list = n;
	return true;
}

static bool header_value_ok(const char *v)
{
	if (v == NULL || *v == '\0') {
		return false;
	}
	for (; *v; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			return false; /* no header injection through a credential file */
		}
	}
	return true;
}

static ms_rc_t build_headers(ms_http_t *h, const ms_http_config_t *cfg, ms_err_t *err)
{
	if (!header_value_ok(cfg->secret) ||
	    (cfg->auth_kind == MS_AUTH_GLOBAL_KEY && !header_value_ok(cfg->email))) {
		return ms_err_set(err, MS_EINVAL, "the API credential is empty or contains control "
		                  "characters: check the credential file");
	}
	bool ok;
	if (cfg->auth_kind == MS_AUTH_TOKEN) {
		size_t len = strlen(cfg->secret) + sizeof("Bearer ");
		char *bearer = malloc(len);
		ok = bearer != NULL;
		if (ok) {
			snprintf(bearer, len, "Bearer %s", cfg->secret);
			ok = append_header(&h->headers, "Authorization", bearer);
			explicit_bzero(bearer, len);
			free(bearer);
		}
	} else {
		ok = append_header(&h->headers, "X-Auth-Email", cfg->email) &&
		     append_header(&h->headers, "X-Auth-Key", cfg->secret);
	}
	ok = ok && append_header(&h->headers, "Accept", "application/json") &&
	     append_header(&h->headers, "Content-Type", "application/json") &&
	     (h->headers = curl_slist_append(h->headers, "Expect:")) != NULL;
	return ok ? MS_OK : ms_err_set(err, MS_ENOMEM, "out of memory");
}

/* ---- callbacks ----------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	ms_http_t *h = ud;
	ms_http_response_t *r = h->resp;
	size_t n = size * nmemb;
	if (n > h->max_body || r->body_len > h->max_body - n) {
		h->too_big = true;
		return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
	}
	if (r->body_len + n + 1 > h->body_cap) {
		size_t cap = h->body_cap ? h->body_cap : 16384;
		while (cap < r->body_len + n + 1) {
			cap *= 2;
		}
		char *p = realloc(r->body, cap);
		if (p == NULL) {
			h->oom = true;
			return 0;
		}
		r->body = p;
		h->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return n;
}

long ms_http_parse_retry_after(const char *value, long now_epoch)
{
	while (*value == ' ' || *value == '\t') {
		value++;
	}
	if (isdigit((unsigned char)*value)) {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') {
			end++;
		}
		return (errno == 0 && *end == '\0' && v >= 0) ? v : -1;
	}
	time_t when = curl_getdate(value, NULL);
	if (when == -1) {
		return -1;
	}
	return when > now_epoch ? (long)(when - now_epoch) : 0;
}

static long header_number(const char *value)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	return (errno == 0 && end != value && v >= 0) ? v : -1;
}

void ms_http_parse_header(ms_http_response_t *resp, const char *data, size_t n, long now_epoch)
{
	char line[256];
	if (n >= sizeof(line)) {
		return; /* no header we want is that long */
	}
	memcpy(line, data, n);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): forget the previous one's headers. */
		resp->retry_after_s = resp->rl_limit = resp->rl_remaining = -1;
		resp->rl_reset_s = -1;
		return;
	}
	char *colon = strchr(line, ':');
	if (colon == NULL) {
		return;
	}
	*colon = '\0';
	const char *value = colon + 1;
	if (strcasecmp(line, "retry-after") == 0) {
		resp->retry_after_s = ms_http_parse_retry_after(value, now_epoch);
	} else if (strcasecmp(line, "x-ratelimit-limit") == 0) {
		resp->rl_limit = header_number(value);
	} else if (strcasecmp(line, "x-ratelimit-remaining") == 0) {
		resp->rl_remaining = header_number(value);
	} else if (strcasecmp(line, "x-ratelimit-reset") == 0) {
		resp->rl_reset_s = header_number(value);
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	ms_http_t *h = ud;
	size_t n = size * nmemb;
	ms_http_parse_header(h->resp, data, n, (long)time(NULL));
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	ms_http_t *h = ud;
	return ms_cf_aborted(h->abort_flag) ? 1 : 0;
}

/* ---- pool ------------------------------------------------------------------ */

ms_rc_t ms_http_pool_new(ms_http_pool_t **out, ms_err_t *err)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? MS_OK : ms_err_set(err, MS_ENOMEM, "out of memory");
}

void ms_http_pool_free(ms_http_pool_t *pool)
{
	if (pool == NULL) {
		return;
	}
	if (pool->easy != NULL) {
		curl_easy_cleanup(pool->easy);
	}
	if (pool->multi != NULL) {
		curl_multi_cleanup(pool->multi); /* closes the cached connections */
	}
	free(pool);
}

static ms_rc_t pool_ready(ms_http_pool_t *pool, ms_err_t *err)
{
	if (pool->multi == NULL) {
		pool->multi = curl_multi_init();
		if (pool->multi != NULL &&
		    curl_multi_setopt(pool->multi, CURLMOPT_MAXCONNECTS,
		                      (long)MS_HTTP_POOL_MAX_CONNS) != CURLM_OK) {
			curl_multi_cleanup(pool->multi);
			pool->multi = NULL;
		}
	}
	if (pool->easy == NULL) {
		pool->easy = curl_easy_init();
	}
	if (pool->multi == NULL || pool->easy == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory setting up libcurl");
	}
	return MS_OK;
}

/* ---- handle -------------------------------------------------------------- */

/* Every option a request of this client needs, on the pool's easy handle
 * (which curl_easy_reset() cleared after the previous request, of whichever
 * client). */
static ms_rc_t set_fixed_options(ms_http_t *h, CURL *e, ms_err_t *err)
{
	CURLcode c = CURLE_OK;
#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_VERBOSE, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form; the bitmask is deprecated */
	SET(CURLOPT_PROTOCOLS_STR, "https,http");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL) {
		SET(CURLOPT_CAINFO, h->ca_file);
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, h->timeout_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
	SET(CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME_S);
	SET(CURLOPT_USERAGENT, MS_USER_AGENT);
	SET(CURLOPT_HTTPHEADER, h->headers);
	SET(CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, h);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, h);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
#undef SET
	if (c != CURLE_OK) {
		return ms_err_set(err, MS_EIO, "libcurl refused an option: %s", curl_easy_strerror(c));
	}
	return MS_OK;
}

ms_rc_t ms_http_new(const ms_http_config_t *cfg, ms_http_t **out, ms_err_t *err)
{
	*out = NULL;
	ms_rc_t rc = ms_http_global_init(err);
	if (rc != MS_OK) {
		return rc;
	}
	ms_http_t *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	h->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
	                                                : MS_HTTP_CONNECT_TIMEOUT_MS;
	h->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : MS_HTTP_TIMEOUT_MS;
	h->max_body = cfg->max_body ? cfg->max_body : MS_HTTP_MAX_BODY_DEFAULT;
	h->abort_flag = cfg->abort_flag;
	h->pool = cfg->pool;
	if ((h->pool == NULL && ms_http_pool_new(&h->own_pool, err) != MS_OK) ||
	    (cfg->ca_file != NULL && (h->ca_file = strdup(cfg->ca_file)) == NULL)) {
		ms_http_free(h);
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	if (h->pool == NULL) {
		h->pool = h->own_pool;
	}
	rc = build_headers(h, cfg, err);
	if (rc != MS_OK) {
		ms_http_free(h);
		return rc;
	}
	*out = h;
	return MS_OK;
}

void ms_http_free(ms_http_t *h)
{
	if (h == NULL) {
		return;
	}
	ms_http_pool_free(h->own_pool); /* a shared pool is its owner's to free */
	wipe_slist(h->headers);
	free(h->ca_file);
	free(h);
}

void ms_http_response_free(ms_http_response_t *resp)
{
	if (resp != NULL) {
		/* Wiped: a body may carry key blobs (the ZSK list's SigningKey). */
		if (resp->body != NULL) {
			explicit_bzero(resp->body, resp->body_len);
		}
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
	}
}

/* ---- one request ----------------------------------------------------------- */

static ms_rc_t set_method(CURL *e, ms_http_method_t method, const char *body)
{
	CURLcode c = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (c == CURLE_OK) {
		c = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	}
	if (c == CURLE_OK && (method == MS_HTTP_POST || method == MS_HTTP_PATCH)) {
		const char *b = body ? body : "";
		c = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(b));
		if (c == CURLE_OK) {
			c = curl_easy_setopt(e, CURLOPT_POSTFIELDS, b);
		}
	}
	if (c == CURLE_OK && method != MS_HTTP_GET && method != MS_HTTP_POST) {
		c = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, ms_http_method_name(method));
	}
	return c == CURLE_OK ? MS_OK : MS_EIO;
}

/* Run the transfer on the multi handle, polling in short slices so that the
 * abort flag is obeyed even while curl waits on DNS, connect or a silent
 * server (the progress callback alone may only run once a second). */
static CURLcode run_transfer(ms_http_t *h, bool *aborted)
{
	CURLM *multi = h->pool->multi;
	CURL *easy = h->pool->easy;
	*aborted = false;
	if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
		return CURLE_FAILED_INIT;
	}
	CURLcode result = CURLE_OK;
	int running = 1;
	while (running) {
		if (ms_cf_aborted(h->abort_flag)) {
			*aborted = true;
			result = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			result = CURLE_FAILED_INIT;
			break;
		}
		if (running && curl_multi_poll(multi, NULL, 0, POLL_SLICE_MS, NULL) != CURLM_OK) {
			result = CURLE_FAILED_INIT;
			break;
		}
	}
	if (!*aborted && result == CURLE_OK) {
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
				result = msg->data.result;
			}
		}
	}
	curl_multi_remove_handle(multi, easy);
	return result;
}

static bool is_permanent(CURLcode c)
{
	switch (c) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return true;
	default:
		return false;
	}
}

static ms_rc_t transfer_error(ms_http_t *h, CURLcode c, bool aborted, ms_err_t *err)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(c);
	if (aborted || (c == CURLE_ABORTED_BY_CALLBACK && ms_cf_aborted(h->abort_flag))) {
		return ms_err_set(err, MS_EABORTED, "request abandoned: the module is shutting down");
	}
	if (h->oom) {
		return ms_err_set(err, MS_ENOMEM, "out of memory reading the response");
	}
	if (h->too_big) {
		return ms_err_set(err, MS_ETOOBIG, "response larger than %zu bytes: refused",
		                  h->max_body);
	}
	if (c == CURLE_OPERATION_TIMEDOUT) {
		return ms_err_set(err, MS_ETIMEOUT, "no complete answer within %ld ms (%s)",
		                  h->timeout_ms, why);
	}
	h->resp->permanent = is_permanent(c);
	if (h->resp->permanent) {
		return ms_err_set(err, MS_ETRANSPORT, "%s: check api-url and ca-file", why);
	}
	return ms_err_set(err, MS_ETRANSPORT, "%s", why);
}

static void reset_request(ms_http_t *h, ms_http_response_t *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = resp->rl_limit = resp->rl_remaining = resp->rl_reset_s = -1;
	h->resp = resp;
	h->body_cap = 0;
	h->too_big = false;
	h->oom = false;
	h->errbuf[0] = '\0';
}

ms_rc_t ms_http_perform(ms_http_t *h, ms_http_method_t method, const char *url,
                        const char *body, ms_http_response_t *resp, ms_err_t *err)
{
	reset_request(h, resp);
	ms_rc_t rc = ms_check_api_url(url, err);
	if (rc != MS_OK) {
		resp->permanent = true;
		return rc;
	}
	if (ms_cf_aborted(h->abort_flag)) {
		return ms_err_set(err, MS_EABORTED, "request not sent: the module is shutting down");
	}
	rc = pool_ready(h->pool, err);
	if (rc != MS_OK) {
		return rc;
	}
	CURL *e = h->pool->easy;
	rc = set_fixed_options(h, e, err);
	if (rc == MS_OK && (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	                    set_method(e, method, body) != MS_OK)) {
		rc = ms_err_set(err, MS_EIO, "libcurl refused the request's options");
	}
	if (rc != MS_OK) {
		curl_easy_reset(e);
		return rc;
	}
	bool aborted;
	CURLcode c = run_transfer(h, &aborted);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	/* Nothing of this client (callbacks' data, headers, error buffer) stays
	 * on the shared handle; connections and caches do. */
	curl_easy_reset(e);
	h->resp = NULL;
	if (c != CURLE_OK) {
		h->resp = resp;
		rc = transfer_error(h, c, aborted, err);
		h->resp = NULL;
		return rc;
	}
	return MS_OK;
}
