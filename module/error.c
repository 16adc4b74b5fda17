#include <stdio.h>
#include <string.h>

#include "error.h"

const char *ms_rc_name(ms_rc_t rc)
{
	switch (rc) {
	case MS_OK:         return "ok";
	case MS_ENOMEM:     return "out of memory";
	case MS_EINVAL:     return "invalid value";
	case MS_EIO:        return "I/O error";
	case MS_ETRANSPORT: return "transport error";
	case MS_ETIMEOUT:   return "timed out";
	case MS_EABORTED:   return "aborted";
	case MS_EHTTP:      return "HTTP error";
	case MS_EAPI:       return "API error";
	case MS_EPARSE:     return "malformed input";
	case MS_ERATELIMIT: return "rate limited";
	case MS_ENOTFOUND:  return "not found";
	case MS_ETOOBIG:    return "too large";
	}
	return "unknown error";
}

ms_rc_t ms_err_set(ms_err_t *err, ms_rc_t rc, const char *fmt, ...)
{
	if (err == NULL) {
		return rc;
	}
	err->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

ms_rc_t ms_err_prefix(ms_err_t *err, const char *fmt, ...)
{
	if (err == NULL) {
		return MS_OK;
	}
	char prefix[MS_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n > 0) {
		/* Truncation of a long message is fine; its head says the most. */
		char joined[2 * MS_ERR_MSG_MAX + 2];
		snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg);
		snprintf(err->msg, sizeof(err->msg), "%.*s", (int)sizeof(err->msg) - 1, joined);
	}
	return err->rc;
}

void ms_err_clear(ms_err_t *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
}
