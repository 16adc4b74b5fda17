#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"

void ms_settings_free(ms_settings_t *s)
{
	if (s == NULL) {
		return;
	}
	free(s->api_url);
	free(s->api_token_file);
	free(s->api_email);
	free(s->api_key_file);
	free(s->zone_id);
	free(s->ca_file);
	for (size_t i = 0; i < s->nameserver_count; i++) {
		free(s->nameservers[i]);
	}
	memset(s, 0, sizeof(*s));
}

bool ms_host_is_loopback(const char *host)
{
	if (host == NULL) {
		return false;
	}
	if (strcasecmp(host, "localhost") == 0) {
		return true;
	}
	/* curl hands IPv6 hosts back in brackets. */
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	struct in_addr v4;
	if (inet_pton(AF_INET, host, &v4) == 1) {
		return (ntohl(v4.s_addr) >> 24) == 127;
	}
	struct in6_addr v6;
	if (inet_pton(AF_INET6, host, &v6) == 1) {
		return IN6_IS_ADDR_LOOPBACK(&v6);
	}
	return false;
}

ms_rc_t ms_check_api_url(const char *url, ms_err_t *err)
{
	if (url == NULL || *url == '\0') {
		return ms_err_set(err, MS_EINVAL, "is empty");
	}
	CURLU *u = curl_url();
	if (u == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	char *scheme = NULL, *host = NULL;
	ms_rc_t rc = MS_OK;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = ms_err_set(err, MS_EINVAL, "'%s' is not a valid URL", url);
	} else if (strcmp(scheme, "https") == 0) {
		rc = MS_OK;
	} else if (strcmp(scheme, "http") == 0) {
		if (!ms_host_is_loopback(host)) {
			rc = ms_err_set(err, MS_EINVAL,
			                "plain http:// is allowed only to a loopback address "
			                "(127.0.0.0/8, ::1, localhost), not to '%s': use https://",
			                host);
		}
	} else {
		rc = ms_err_set(err, MS_EINVAL, "scheme '%s' is not supported: use https://", scheme);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

ms_rc_t ms_check_zone_id(const char *zone_id, ms_err_t *err)
{
	size_t len = (zone_id == NULL) ? 0 : strlen(zone_id);
	bool ok = (len == MS_ZONE_ID_LEN);
	for (size_t i = 0; ok && i < len; i++) {
		ok = isdigit((unsigned char)zone_id[i]) || (zone_id[i] >= 'a' && zone_id[i] <= 'f');
	}
	if (!ok) {
		return ms_err_set(err, MS_EINVAL,
		                  "'%s' is not a Cloudflare zone id (32 lowercase hex digits, "
		                  "shown on the zone's overview page)", zone_id ? zone_id : "");
	}
	return MS_OK;
}

static ms_rc_t check_range(int64_t v, int64_t min, int64_t max, const char *unit,
                           ms_err_t *err)
{
	if (v < min || v > max) {
		return ms_err_set(err, MS_EINVAL, "%lld%s is out of range: use %lld%s to %lld%s",
		                  (long long)v, unit, (long long)min, unit, (long long)max, unit);
	}
	return MS_OK;
}

ms_rc_t ms_check_interval(int64_t seconds, ms_err_t *err)
{
	return check_range(seconds, MS_MIN_CHECK_INTERVAL, MS_MAX_CHECK_INTERVAL, " s", err);
}

ms_rc_t ms_check_api_budget(int64_t requests, ms_err_t *err)
{
	return check_range(requests, MS_MIN_API_BUDGET, MS_MAX_API_BUDGET, "", err);
}

ms_rc_t ms_check_ca_file(const char *path, ms_err_t *err)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0) {
		return ms_err_set(err, MS_EINVAL, "'%s' is not a readable file", path);
	}
	return MS_OK;
}

ms_rc_t ms_check_auth_form(bool have_token_file, bool have_email, bool have_key_file,
                           ms_auth_kind_t *kind, ms_err_t *err)
{
	bool legacy = have_email || have_key_file;
	if (have_token_file && legacy) {
		return ms_err_set(err, MS_EINVAL,
		                  "set either api-token-file or api-email with api-key-file, not both");
	}
	if (have_token_file) {
		*kind = MS_AUTH_TOKEN;
		return MS_OK;
	}
	if (have_email && have_key_file) {
		*kind = MS_AUTH_GLOBAL_KEY;
		return MS_OK;
	}
	if (legacy) {
		return ms_err_set(err, MS_EINVAL, "api-email and api-key-file must be set together");
	}
	return ms_err_set(err, MS_EINVAL,
	                  "no credentials: set api-token-file (preferred) or api-email with api-key-file");
}
