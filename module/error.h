/*
 * One error convention for the whole project (after curl's CURLcode plus
 * error buffer): every fallible function returns an ms_rc_t and, when the
 * caller passes one, fills an ms_err_t with what happened in words an
 * operator can act on. Callers that log add the zone name; nothing below
 * the knotd glue logs by itself.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

typedef enum {
	MS_OK = 0,
	MS_ENOMEM,     /* allocation failed */
	MS_EINVAL,     /* bad argument or configuration value */
	MS_EIO,        /* local file or process failure */
	MS_ETRANSPORT, /* connection, TLS or DNS failure talking to the API */
	MS_ETIMEOUT,   /* a request or wait ran out of time */
	MS_EABORTED,   /* shutdown asked us to stop */
	MS_EHTTP,      /* the API answered with an HTTP error status */
	MS_EAPI,       /* the API answered success:false */
	MS_EPARSE,     /* a response or file is not what the contract says */
	MS_ERATELIMIT, /* our own request budget is spent for now */
	MS_ENOTFOUND,  /* the thing asked for does not exist */
	MS_ETOOBIG,    /* an input exceeded a size cap */
} ms_rc_t;

#define MS_ERR_MSG_MAX 256
#define MS_ERR_CODES_MAX 4

typedef struct {
	ms_rc_t rc;
	long http_status;                /* 0 when no HTTP answer was had */
	int api_codes[MS_ERR_CODES_MAX]; /* Cloudflare error codes, in order */
	size_t api_code_count;
	char msg[MS_ERR_MSG_MAX];        /* never holds a secret */
} ms_err_t;

/* Short, stable name of a return code, for logs and tests. */
const char *ms_rc_name(ms_rc_t rc);

/* Record an error in err (may be NULL) and return rc, so that
 * `return ms_err_set(err, MS_EINVAL, "...")` is the one error path. */
ms_rc_t ms_err_set(ms_err_t *err, ms_rc_t rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with context ("reading DNSKEY records: ..."). */
ms_rc_t ms_err_prefix(ms_err_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void ms_err_clear(ms_err_t *err);
