#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_client.h"
#include "cf_names.h"
#include "cf_paging.h"
#include "cf_parse.h"
#include "cf_request.h"
#include "cf_wait.h"
#include "http.h"

#define LIST_RESTARTS 2       /* re-reads of a list that changed while paged */
#define URL_MAX 2048
#define PATH_MAX_LEN 192     /* the longest path: /zones/<id>/dns_records/<id> */

struct ms_cf_client {
	char *base_url;               /* without a trailing slash */
	ms_http_t *http;
	ms_ratelimit_t *rl;
	bool own_rl;
	ms_auth_kind_t auth_kind;
	char *secret;                 /* only to scrub it from messages; wiped on free */
	uint32_t per_page;
	uint32_t max_rate_wait_ms;
	ms_backoff_policy_t backoff;
	ms_jitter_fn jitter;
	void *jitter_ctx;
	const atomic_bool *abort_flag;
	ms_cf_request_hook_t on_request;
	void *hook_ctx;
};

/* One request: what goes on the wire, and how messages name it. */
typedef struct {
	ms_http_method_t method;
	char url[URL_MAX];
	char what[PATH_MAX_LEN + 8]; /* "GET /zones/<id>/dnssec": no query, no secrets */
	const char *body;
} cf_req_t;

/* ---- set-up ---------------------------------------------------------------- */

void ms_cf_client_free(ms_cf_client_t *c)
{
	if (c == NULL) {
		return;
	}
	ms_http_free(c->http);
	if (c->own_rl) {
		ms_ratelimit_free(c->rl);
	}
	if (c->secret != NULL) {
		explicit_bzero(c->secret, strlen(c->secret));
		free(c->secret);
	}
	free(c->base_url);
	free(c);
}

static ms_rc_t client_copy_config(ms_cf_client_t *c, const ms_cf_config_t *cfg, ms_err_t *err)
{
	const char *url = cfg->api_url ? cfg->api_url : MS_DEFAULT_API_URL;
	ms_rc_t rc = ms_check_api_url(url, err);
	if (rc != MS_OK) {
		return ms_err_prefix(err, "api-url");
	}
	c->base_url = strdup(url);
	c->secret = cfg->secret ? strdup(cfg->secret) : NULL;
	if (c->base_url == NULL || (cfg->secret != NULL && c->secret == NULL)) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	size_t len = strlen(c->base_url);
	while (len > 0 && c->base_url[len - 1] == '/') {
		c->base_url[--len] = '\0';
	}
	c->auth_kind = cfg->auth_kind;
	c->per_page = cfg->per_page ? cfg->per_page : MS_CF_PER_PAGE_DEFAULT;
	c->max_rate_wait_ms = cfg->max_rate_wait_ms ? cfg->max_rate_wait_ms
	                                            : MS_CF_RATE_WAIT_DEFAULT_MS;
	c->backoff = ms_backoff_policy_or_default(&cfg->backoff);
	c->jitter = cfg->jitter ? cfg->jitter : ms_backoff_system_jitter;
	c->jitter_ctx = cfg->jitter_ctx;
	c->abort_flag = cfg->abort_flag;
	c->on_request = cfg->on_request;
	c->hook_ctx = cfg->hook_ctx;
	return MS_OK;
}

ms_rc_t ms_cf_client_new(const ms_cf_config_t *cfg, ms_cf_client_t **out, ms_err_t *err)
{
	*out = NULL;
	ms_cf_client_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t rc = client_copy_config(c, cfg, err);
	if (rc == MS_OK) {
		ms_http_config_t hc = {
			.auth_kind = cfg->auth_kind, .secret = cfg->secret, .email = cfg->email,
			.ca_file = cfg->ca_file, .connect_timeout_ms = cfg->connect_timeout_ms,
			.timeout_ms = cfg->timeout_ms, .max_body = cfg->max_body,
			.abort_flag = cfg->abort_flag, .pool = cfg->http_pool,
		};
		rc = ms_http_new(&hc, &c->http, err);
	}
	if (rc == MS_OK && cfg->ratelimit != NULL) {
		c->rl = cfg->ratelimit;
	} else if (rc == MS_OK) {
		c->own_rl = true;
		rc = ms_ratelimit_new(NULL, &c->rl, err);
	}
	if (rc != MS_OK) {
		ms_cf_client_free(c);
		return rc;
	}
	*out = c;
	return MS_OK;
}

/* ---- error reporting --------------------------------------------------------- */

/* Belt and braces: whatever a server or library put into a message, the
 * credential does not leave it. */
static void scrub_secret(const ms_cf_client_t *c, ms_err_t *e)
{
	if (c->secret == NULL || strlen(c->secret) < 4) {
		return;
	}
	char *hit;
	while ((hit = strstr(e->msg, c->secret)) != NULL) {
		size_t slen = strlen(c->secret);
		memset(hit, '*', slen);
	}
}

static void append_note(ms_err_t *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append_note(ms_err_t *e, const char *fmt, ...)
{
	size_t len = strlen(e->msg);
	if (len + 1 >= sizeof(e->msg)) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg + len, sizeof(e->msg) - len, fmt, ap);
	va_end(ap);
}

/* Hand the local error to the caller's (which may be NULL). */
static ms_rc_t give_error(const ms_cf_client_t *c, ms_err_t *local, ms_rc_t rc, ms_err_t *err)
{
	if (rc == MS_OK) {
		return MS_OK;
	}
	local->rc = rc;
	scrub_secret(c, local);
	if (err != NULL) {
		*err = *local;
	}
	return rc;
}

/* ---- requests ------------------------------------------------------------------ */

static ms_rc_t check_zone_id(const char *zone_id, ms_err_t *err)
{
	if (!ms_cf_id_is_safe(zone_id)) {
		return ms_err_set(err, MS_EINVAL, "the zone id is not valid: expected 32 hex digits "
		                  "as shown on the zone's overview page");
	}
	return MS_OK;
}

static ms_rc_t make_req(const ms_cf_client_t *c, cf_req_t *req, ms_http_method_t method,
                        const char *body, const char *query, ms_err_t *err,
                        const char *path_fmt, ...) __attribute__((format(printf, 7, 8)));

static ms_rc_t make_req(const ms_cf_client_t *c, cf_req_t *req, ms_http_method_t method,
                        const char *body, const char *query, ms_err_t *err,
                        const char *path_fmt, ...)
{
	char path[PATH_MAX_LEN];
	va_list ap;
	va_start(ap, path_fmt);
	int n = vsnprintf(path, sizeof(path), path_fmt, ap);
	va_end(ap);
	req->method = method;
	req->body = body;
	int m = snprintf(req->url, sizeof(req->url), "%s%s%s%s", c->base_url, path,
	                 query ? "?" : "", query ? query : "");
	if (n < 0 || (size_t)n >= sizeof(path) || m < 0 || (size_t)m >= sizeof(req->url)) {
		return ms_err_set(err, MS_EINVAL, "request URL too long");
	}
	snprintf(req->what, sizeof(req->what), "%s %s", ms_http_method_name(method), path);
	return MS_OK;
}

/* One attempt: budget, HTTP, envelope. o describes it for the back-off. */
static ms_rc_t attempt(ms_cf_client_t *c, const cf_req_t *req, ms_cf_envelope_t *env,
                       ms_backoff_outcome_t *o, ms_err_t *e)
{
	memset(env, 0, sizeof(*env));
	e->http_status = 0;
	e->api_code_count = 0;
	*o = (ms_backoff_outcome_t){ .retry_after_s = -1, .idempotent = req->method != MS_HTTP_POST };
	o->rc = ms_ratelimit_acquire(c->rl, c->abort_flag, c->max_rate_wait_ms, e);
	if (o->rc != MS_OK) {
		return o->rc;
	}
	ms_http_response_t resp;
	o->rc = ms_http_perform(c->http, req->method, req->url, req->body, &resp, e);
	uint64_t now = ms_cf_now_ms();
	ms_ratelimit_observe(c->rl, now, resp.rl_remaining, resp.rl_reset_s);
	if (resp.status == 429 && resp.retry_after_s > 0) {
		/* Everyone on this credential waits, not just this call. */
		ms_ratelimit_pause(c->rl, now, (uint64_t)resp.retry_after_s * 1000);
	}
	if (o->rc == MS_OK) {
		o->rc = ms_cf_envelope_parse(resp.body, resp.body_len, resp.status, env, e);
	}
	o->http_status = resp.status;
	o->retry_after_s = resp.retry_after_s;
	o->permanent = resp.permanent;
	e->http_status = resp.status;
	ms_http_response_free(&resp);
	if (c->on_request != NULL) {
		c->on_request(c->hook_ctx, o->rc, o->http_status, req->method != MS_HTTP_GET);
	}
	return o->rc;
}

/* A request with retries. On success env holds the answer (free it). */
static ms_rc_t cf_call(ms_cf_client_t *c, const cf_req_t *req, ms_cf_envelope_t *env,
                       ms_err_t *e)
{
	ms_backoff_state_t bs = { 0 };
	for (;;) {
		ms_backoff_outcome_t o;
		ms_rc_t rc = attempt(c, req, env, &o, e);
		if (rc == MS_OK) {
			return MS_OK;
		}
		uint64_t delay;
		if (!ms_backoff_next(&c->backoff, &bs, &o, c->jitter, c->jitter_ctx, &delay)) {
			ms_err_prefix(e, "%s", req->what);
			if (bs.attempts > 1) {
				append_note(e, " (gave up after %u attempts)", bs.attempts);
			}
			return rc;
		}
		ms_err_t wait_err = { 0 };
		if (ms_cf_sleep(delay, c->abort_flag, &wait_err) != MS_OK) {
			*e = wait_err;
			return ms_err_prefix(e, "%s", req->what);
		}
	}
}

/* A call whose result one typed reader turns into a value. */
typedef ms_rc_t (*reader_fn)(const json_object *result, void *out, ms_err_t *err);

static ms_rc_t call_and_read(ms_cf_client_t *c, const cf_req_t *req, reader_fn read,
                             void *out, ms_err_t *e)
{
	ms_cf_envelope_t env;
	ms_rc_t rc = cf_call(c, req, &env, e);
	if (rc == MS_OK && read != NULL) {
		rc = read(env.result, out, e);
		if (rc != MS_OK) {
			ms_err_prefix(e, "%s", req->what);
		}
	}
	ms_cf_envelope_free(&env);
	return rc;
}

/* ---- operations -------------------------------------------------------------------- */

static ms_rc_t read_token(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_token_from_json(r, out, e);
}

ms_rc_t ms_cf_verify_token(ms_cf_client_t *c, ms_cf_token_t *out, ms_err_t *err)
{
	ms_err_t e = { 0 };
	cf_req_t req;
	ms_rc_t rc;
	if (c->auth_kind != MS_AUTH_TOKEN) {
		rc = ms_err_set(&e, MS_EINVAL, "only API tokens can be verified, not a global API key");
	} else {
		rc = make_req(c, &req, MS_HTTP_GET, NULL, NULL, &e, "/user/tokens/verify");
	}
	if (rc == MS_OK) {
		rc = call_and_read(c, &req, read_token, out, &e);
	}
	return give_error(c, &e, rc, err);
}

/* One request about a zone (/zones/<id><suffix>), the common shape of most
 * calls: check the id, send (with body when given), read the result. A body
 * builder's failure arrives as build_rc and stops the call before sending. */
static ms_rc_t zone_call(ms_cf_client_t *c, ms_http_method_t method, const char *zone_id,
                         const char *suffix, ms_rc_t build_rc, const char *body,
                         reader_fn read, void *out, ms_err_t *e)
{
	cf_req_t req;
	ms_rc_t rc = check_zone_id(zone_id, e);
	if (rc == MS_OK) {
		rc = build_rc;
	}
	if (rc == MS_OK) {
		rc = make_req(c, &req, method, body, NULL, e, "/zones/%s%s", zone_id, suffix);
	}
	if (rc == MS_OK) {
		rc = call_and_read(c, &req, read, out, e);
	}
	return rc;
}

static ms_rc_t read_zone(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_zone_from_json(r, "zone", out, e);
}

ms_rc_t ms_cf_get_zone(ms_cf_client_t *c, const char *zone_id, ms_cf_zone_t *out,
                       ms_err_t *err)
{
	ms_err_t e = { 0 };
	ms_rc_t rc = zone_call(c, MS_HTTP_GET, zone_id, "", MS_OK, NULL, read_zone, out, &e);
	return give_error(c, &e, rc, err);
}

ms_rc_t ms_cf_find_zone(ms_cf_client_t *c, const char *name, ms_cf_zone_t *out, ms_err_t *err)
{
	ms_err_t e = { 0 };
	char norm[MS_CF_NAME_MAX + 2];
	ms_cf_name_copy(norm, sizeof(norm), name);
	if (norm[0] == '\0' || strlen(norm) > MS_CF_NAME_MAX) {
		return give_error(c, &e, ms_err_set(&e, MS_EINVAL, "zone name is empty or too long"),
		                  err);
	}
	char *esc = curl_easy_escape(NULL, norm, 0);
	char query[MS_CF_NAME_MAX * 3 + 32];
	cf_req_t req;
	ms_rc_t rc = esc ? MS_OK : ms_err_set(&e, MS_ENOMEM, "out of memory");
	if (rc == MS_OK) {
		snprintf(query, sizeof(query), "name=%s&per_page=50", esc);
		rc = make_req(c, &req, MS_HTTP_GET, NULL, query, &e, "/zones");
	}
	curl_free(esc);
	ms_cf_envelope_t env = { 0 };
	if (rc == MS_OK) {
		rc = cf_call(c, &req, &env, &e);
	}
	if (rc == MS_OK) {
		rc = ms_cf_zone_pick_from_json(env.result, norm, out, &e);
		if (rc != MS_OK) {
			ms_err_prefix(&e, "GET /zones?name=%s", norm);
		}
	}
	ms_cf_envelope_free(&env);
	return give_error(c, &e, rc, err);
}

static ms_rc_t read_dnssec(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_dnssec_from_json(r, out, e);
}

ms_rc_t ms_cf_get_dnssec(ms_cf_client_t *c, const char *zone_id, ms_cf_dnssec_t *out,
                         ms_err_t *err)
{
	ms_err_t e = { 0 };
	ms_rc_t rc = zone_call(c, MS_HTTP_GET, zone_id, "/dnssec", MS_OK, NULL, read_dnssec,
	                       out, &e);
	return give_error(c, &e, rc, err);
}

ms_rc_t ms_cf_patch_dnssec(ms_cf_client_t *c, const char *zone_id,
                           const ms_cf_dnssec_patch_t *patch, ms_cf_dnssec_t *out,
                           ms_err_t *err)
{
	ms_err_t e = { 0 };
	char *body = NULL;
	ms_cf_dnssec_t ignored;
	ms_rc_t built = ms_cf_body_dnssec_patch(patch, &body, &e);
	ms_rc_t rc = zone_call(c, MS_HTTP_PATCH, zone_id, "/dnssec", built, body, read_dnssec,
	                       out ? out : &ignored, &e);
	free(body);
	return give_error(c, &e, rc, err);
}

static ms_rc_t read_settings(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_dns_settings_from_json(r, out, e);
}

ms_rc_t ms_cf_get_dns_settings(ms_cf_client_t *c, const char *zone_id,
                               ms_cf_dns_settings_t *out, ms_err_t *err)
{
	ms_err_t e = { 0 };
	ms_rc_t rc = zone_call(c, MS_HTTP_GET, zone_id, "/dns_settings", MS_OK, NULL,
	                       read_settings, out, &e);
	return give_error(c, &e, rc, err);
}

ms_rc_t ms_cf_set_multi_provider(ms_cf_client_t *c, const char *zone_id, bool on,
                                 ms_cf_dns_settings_t *out, ms_err_t *err)
{
	ms_err_t e = { 0 };
	char *body = NULL;
	ms_cf_dns_settings_t ignored;
	ms_rc_t built = ms_cf_body_dns_settings_patch(on, &body, &e);
	ms_rc_t rc = zone_call(c, MS_HTTP_PATCH, zone_id, "/dns_settings", built, body,
	                       read_settings, out ? out : &ignored, &e);
	free(body);
	return give_error(c, &e, rc, err);
}

/* ---- listing ------------------------------------------------------------------ */

static bool list_has_id(const ms_cf_record_list_t *l, const char *id)
{
	for (size_t i = 0; i < l->count; i++) {
		if (strcmp(l->items[i].id, id) == 0) {
			return true;
		}
	}
	return false;
}

/* Is r one of the records a listing of `type` wants? MS_CF_RR_OTHER stands
 * for both types this module reads (NS and DNSKEY, listed together). */
static bool wanted_type(const ms_cf_record_t *r, ms_cf_rrtype_t type)
{
	return type == MS_CF_RR_OTHER ? r->type != MS_CF_RR_OTHER : r->type == type;
}

/* Keep the page's records of the wanted type and owner; count repeats. */
static ms_rc_t merge_page(ms_cf_record_list_t *out, const ms_cf_record_list_t *page,
                          ms_cf_rrtype_t type, const char *name, size_t *repeated,
                          ms_err_t *e)
{
	*repeated = 0;
	ms_cf_record_t *items = realloc(out->items, (out->count + page->count + 1) *
	                                                    sizeof(*items));
	if (items == NULL) {
		return ms_err_set(e, MS_ENOMEM, "out of memory");
	}
	out->items = items;
	for (size_t i = 0; i < page->count; i++) {
		const ms_cf_record_t *r = &page->items[i];
		if (list_has_id(out, r->id)) {
			(*repeated)++;
		} else if (wanted_type(r, type) && ms_cf_name_equal(r->name, name)) {
			out->items[out->count++] = *r;
		}
	}
	return MS_OK;
}

/* One page: fetch, parse, merge, decide. */
static ms_rc_t list_page(ms_cf_client_t *c, const char *zone_id, ms_cf_rrtype_t type,
                         const char *name, const char *esc_name, ms_cf_pager_t *pager,
                         ms_cf_record_list_t *out, ms_cf_page_step_t *step, ms_err_t *e)
{
	char query[MS_CF_NAME_MAX * 3 + 96];
	cf_req_t req;
	if (type == MS_CF_RR_OTHER) { /* every type: the owner's whole set */
		snprintf(query, sizeof(query), "name=%s&per_page=%u&page=%u", esc_name,
		         c->per_page, pager->page);
	} else {
		snprintf(query, sizeof(query), "type=%s&name=%s&per_page=%u&page=%u",
		         ms_cf_rrtype_name(type), esc_name, c->per_page, pager->page);
	}
	ms_rc_t rc = make_req(c, &req, MS_HTTP_GET, NULL, query, e, "/zones/%s/dns_records",
	                      zone_id);
	ms_cf_envelope_t env = { 0 };
	ms_cf_record_list_t page = { 0 };
	size_t repeated = 0;
	if (rc == MS_OK) {
		rc = cf_call(c, &req, &env, e);
	}
	if (rc == MS_OK) {
		char what[48];
		snprintf(what, sizeof(what), "page %u", pager->page);
		rc = ms_cf_records_from_json(env.result, what, &page, e);
	}
	if (rc == MS_OK) {
		rc = merge_page(out, &page, type, name, &repeated, e);
	}
	if (rc == MS_OK) {
		rc = ms_cf_pager_step(pager, &env.info, page.count, repeated, MS_CF_MAX_PAGES, step, e);
	}
	if (rc != MS_OK && rc != MS_EABORTED && env.root != NULL) {
		ms_err_prefix(e, "%s", req.what);
	}
	ms_cf_record_list_free(&page);
	ms_cf_envelope_free(&env);
	return rc;
}

static ms_rc_t list_all(ms_cf_client_t *c, const char *zone_id, ms_cf_rrtype_t type,
                        const char *name, const char *esc_name, ms_cf_record_list_t *out,
                        ms_err_t *e)
{
	for (unsigned pass = 0; pass <= LIST_RESTARTS; pass++) {
		ms_cf_record_list_free(out);
		ms_cf_pager_t pager;
		ms_cf_pager_start(&pager);
		ms_cf_page_step_t step = MS_CF_PAGE_MORE;
		while (step == MS_CF_PAGE_MORE) {
			ms_rc_t rc = list_page(c, zone_id, type, name, esc_name, &pager, out, &step, e);
			if (rc != MS_OK) {
				return rc;
			}
		}
		if (step == MS_CF_PAGE_DONE) {
			return MS_OK;
		}
	}
	return ms_err_set(e, MS_EAPI, "the %s records of %s kept changing while being listed: "
	                  "will try again later",
	                  type == MS_CF_RR_OTHER ? "NS and DNSKEY" : ms_cf_rrtype_name(type), name);
}

/* type MS_CF_RR_OTHER: NS and DNSKEY together (see wanted_type()). */
static ms_rc_t list_owner(ms_cf_client_t *c, const char *zone_id, ms_cf_rrtype_t type,
                          const char *name, ms_cf_record_list_t *out, ms_err_t *err)
{
	ms_err_t e = { 0 };
	memset(out, 0, sizeof(*out));
	char norm[MS_CF_NAME_MAX + 2];
	ms_cf_name_copy(norm, sizeof(norm), name);
	ms_rc_t rc = check_zone_id(zone_id, &e);
	if (rc == MS_OK && (norm[0] == '\0' || strlen(norm) > MS_CF_NAME_MAX)) {
		rc = ms_err_set(&e, MS_EINVAL, "record name is empty or too long");
	}
	char *esc = (rc == MS_OK) ? curl_easy_escape(NULL, norm, 0) : NULL;
	if (rc == MS_OK && esc == NULL) {
		rc = ms_err_set(&e, MS_ENOMEM, "out of memory");
	}
	if (rc == MS_OK) {
		rc = list_all(c, zone_id, type, norm, esc, out, &e);
	}
	curl_free(esc);
	if (rc != MS_OK) {
		ms_cf_record_list_free(out);
	}
	return give_error(c, &e, rc, err);
}

ms_rc_t ms_cf_list_records(ms_cf_client_t *c, const char *zone_id, ms_cf_rrtype_t type,
                           const char *name, ms_cf_record_list_t *out, ms_err_t *err)
{
	if (type == MS_CF_RR_OTHER) {
		memset(out, 0, sizeof(*out));
		return ms_err_set(err, MS_EINVAL, "only NS and DNSKEY records are listed");
	}
	return list_owner(c, zone_id, type, name, out, err);
}

ms_rc_t ms_cf_list_ns_dnskey(ms_cf_client_t *c, const char *zone_id, const char *name,
                             ms_cf_record_list_t *out, ms_err_t *err)
{
	return list_owner(c, zone_id, MS_CF_RR_OTHER, name, out, err);
}

/* ---- changes ------------------------------------------------------------------ */

static ms_rc_t read_record(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_record_from_json(r, "created record", out, e);
}

ms_rc_t ms_cf_create_record(ms_cf_client_t *c, const char *zone_id, const ms_cf_record_t *rec,
                            ms_cf_record_t *created, ms_err_t *err)
{
	ms_err_t e = { 0 };
	char *body = NULL;
	cf_req_t req;
	ms_cf_record_t *tmp = created ? created : malloc(sizeof(*tmp));
	ms_rc_t rc = tmp ? check_zone_id(zone_id, &e) : ms_err_set(&e, MS_ENOMEM, "out of memory");
	if (rc == MS_OK) {
		rc = ms_cf_body_record(rec, &body, &e);
	}
	if (rc == MS_OK) {
		rc = make_req(c, &req, MS_HTTP_POST, body, NULL, &e, "/zones/%s/dns_records", zone_id);
	}
	if (rc == MS_OK) {
		rc = call_and_read(c, &req, read_record, tmp, &e);
	}
	if (tmp != created) {
		free(tmp);
	}
	free(body);
	return give_error(c, &e, rc, err);
}

static bool is_not_found(const ms_err_t *e)
{
	for (size_t i = 0; i < e->api_code_count; i++) {
		if (e->api_codes[i] == 81044) {
			return true;
		}
	}
	return e->http_status == 404;
}

static ms_rc_t read_deleted(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_deleted_from_json(r, out, e);
}

ms_rc_t ms_cf_delete_record(ms_cf_client_t *c, const char *zone_id, const char *record_id,
                            ms_err_t *err)
{
	ms_err_t e = { 0 };
	char id[MS_CF_ID_MAX + 1];
	cf_req_t req;
	ms_rc_t rc = check_zone_id(zone_id, &e);
	if (rc == MS_OK && !ms_cf_id_is_safe(record_id)) {
		rc = ms_err_set(&e, MS_EINVAL, "the record id is not valid");
	}
	if (rc == MS_OK) {
		rc = make_req(c, &req, MS_HTTP_DELETE, NULL, NULL, &e, "/zones/%s/dns_records/%s",
		              zone_id, record_id);
	}
	if (rc == MS_OK) {
		rc = call_and_read(c, &req, read_deleted, id, &e);
	}
	if (rc == MS_EAPI && is_not_found(&e)) {
		rc = MS_ENOTFOUND; /* already gone: what the caller wanted */
	}
	return give_error(c, &e, rc, err);
}

static ms_rc_t read_batch(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_batch_from_json(r, out, e);
}

ms_rc_t ms_cf_batch(ms_cf_client_t *c, const char *zone_id, const ms_cf_batch_t *batch,
                    ms_cf_record_list_t *created, ms_err_t *err)
{
	ms_err_t e = { 0 };
	char *body = NULL;
	ms_cf_record_list_t tmp = { 0 };
	if (created != NULL) {
		memset(created, 0, sizeof(*created));
	}
	ms_rc_t built = ms_cf_body_batch(batch, &body, &e);
	ms_rc_t rc = zone_call(c, MS_HTTP_POST, zone_id, "/dns_records/batch", built, body,
	                       read_batch, &tmp, &e);
	if (rc == MS_OK && created != NULL) {
		*created = tmp;
	} else {
		ms_cf_record_list_free(&tmp);
	}
	free(body);
	return give_error(c, &e, rc, err);
}

static ms_rc_t read_zsks(const json_object *r, void *out, ms_err_t *e)
{
	return ms_cf_zsks_from_json(r, out, e);
}

ms_rc_t ms_cf_list_zsks(ms_cf_client_t *c, const char *zone_id, ms_cf_zsk_list_t *out,
                        ms_err_t *err)
{
	ms_err_t e = { 0 };
	memset(out, 0, sizeof(*out));
	ms_rc_t rc = zone_call(c, MS_HTTP_GET, zone_id, "/dnssec/zsk", MS_OK, NULL, read_zsks,
	                       out, &e);
	return give_error(c, &e, rc, err);
}
