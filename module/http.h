/*
 * HTTP adapter: the only part of the client that talks to libcurl.
 *
 * libcurl's handles (and what they cache: connections, DNS answers, TLS
 * sessions and the CA store) live in a pool, ms_http_pool_t, which any
 * number of clients can share as long as one thread at a time uses them all:
 * the module's single worker shares one pool among all zones, so that
 * per-zone clients hold a few hundred bytes, not a transfer buffer, a
 * connection and a CA store each. A client given no pool has its own.
 * The pool's handles are created at the first request and keep at most
 * MS_HTTP_POOL_MAX_CONNS idle connections. Every request:
 * - verifies TLS (peer and host, optional CA file) and refuses http:// except
 *   to a loopback address; never follows redirects (credentials stay with
 *   the host they were meant for);
 * - has a connect timeout, a whole-request timeout and a low-speed limit;
 * - is abandoned within MS_HTTP_ABORT_MS of the caller's abort flag being set;
 * - caps the response body (MS_ETOOBIG beyond it);
 * - sends User-Agent MS_USER_AGENT and the credential headers.
 * The credential is kept in this handle's memory only and wiped when it is
 * freed; request headers never go into messages, and curl's verbose mode is
 * never enabled.
 *
 * MS_OK means "an HTTP answer arrived", whatever its status: judging the
 * status and body is the envelope parser's job.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "settings.h"

#define MS_HTTP_MAX_BODY_DEFAULT   (4u * 1024 * 1024)
#define MS_HTTP_CONNECT_TIMEOUT_MS 10000
#define MS_HTTP_TIMEOUT_MS         30000
#define MS_HTTP_ABORT_MS           100   /* promised reaction to the abort flag */
#define MS_HTTP_POOL_MAX_CONNS     4     /* idle connections a pool keeps */

typedef enum {
	MS_HTTP_GET,
	MS_HTTP_POST,
	MS_HTTP_PATCH,
	MS_HTTP_DELETE,
} ms_http_method_t;

typedef struct {
	ms_auth_kind_t auth_kind;
	const char *secret;            /* API token, or global API key; copied */
	const char *email;             /* MS_AUTH_GLOBAL_KEY; copied */
	const char *ca_file;           /* NULL: the system's CA store */
	uint32_t connect_timeout_ms;   /* 0: MS_HTTP_CONNECT_TIMEOUT_MS */
	uint32_t timeout_ms;           /* whole request; 0: MS_HTTP_TIMEOUT_MS */
	size_t max_body;               /* 0: MS_HTTP_MAX_BODY_DEFAULT */
	const atomic_bool *abort_flag; /* owned by the caller; NULL: not abortable */
	struct ms_http_pool *pool;     /* shared handles; NULL: the client's own */
} ms_http_config_t;

typedef struct {
	long status;          /* HTTP status; 0 when no answer came */
	char *body;           /* NUL-terminated, heap; NULL when empty */
	size_t body_len;
	long retry_after_s;   /* retry-after in seconds, -1 when absent */
	long rl_limit;        /* x-ratelimit-limit, -1 when absent */
	long rl_remaining;    /* x-ratelimit-remaining, -1 when absent */
	long rl_reset_s;      /* x-ratelimit-reset (seconds), -1 when absent */
	bool permanent;       /* the failure is one retrying cannot fix (TLS trust, bad URL) */
} ms_http_response_t;

typedef struct ms_http ms_http_t;
typedef struct ms_http_pool ms_http_pool_t;

/* A pool of libcurl handles for the clients of one thread (see above). Its
 * handles are only created by the first request through it. Free it after
 * its last request; the clients that used it may be freed before or after
 * (they never touch it when freed). */
ms_rc_t ms_http_pool_new(ms_http_pool_t **out, ms_err_t *err);
void ms_http_pool_free(ms_http_pool_t *pool);

/* Process-wide libcurl set-up; call once before threads start (the module
 * load does). Safe to call more than once. */
ms_rc_t ms_http_global_init(ms_err_t *err);

ms_rc_t ms_http_new(const ms_http_config_t *cfg, ms_http_t **out, ms_err_t *err);

/* Wipe the credential and free; NULL is fine. */
void ms_http_free(ms_http_t *h);

/* One request. body (JSON) for POST and PATCH, else NULL. resp is reset
 * first and must be freed with ms_http_response_free in every case.
 * Errors: MS_EINVAL (URL refused), MS_ETRANSPORT, MS_ETIMEOUT, MS_EABORTED,
 * MS_ETOOBIG, MS_ENOMEM. */
ms_rc_t ms_http_perform(ms_http_t *h, ms_http_method_t method, const char *url,
                        const char *body, ms_http_response_t *resp, ms_err_t *err);

void ms_http_response_free(ms_http_response_t *resp);

const char *ms_http_method_name(ms_http_method_t m);

/* Parse a retry-after value: delta seconds, or an HTTP date (relative to
 * now_epoch). -1 when it is neither. Pure, for tests. */
long ms_http_parse_retry_after(const char *value, long now_epoch);

/* Take what the client uses from one response header line (data[0..n), as
 * curl hands it over, not NUL-terminated): retry-after and the
 * x-ratelimit-* numbers; a status line ("HTTP/...") resets them. Other and
 * over-long lines are ignored. Pure, for tests and fuzzing. */
void ms_http_parse_header(ms_http_response_t *resp, const char *data, size_t n, long now_epoch);
