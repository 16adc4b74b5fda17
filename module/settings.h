/*
 * The module's settings for one zone, as a plain value that the rest of the
 * module reads. The knotd glue fills it from knot.conf; the checks here are
 * the same for `knotc conf-check` and for knotd's start, so an operator sees
 * one message whichever ran first.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

#define MS_DEFAULT_API_URL        "https://api.cloudflare.com/client/v4"
#define MS_DEFAULT_CHECK_INTERVAL 60      /* seconds */
#define MS_MIN_CHECK_INTERVAL     10      /* below this the API budget melts */
#define MS_MAX_CHECK_INTERVAL     86400   /* a day: slower misses rollovers */
#define MS_DEFAULT_API_BUDGET     1200    /* requests per 5 min: Cloudflare's limit */
#define MS_MIN_API_BUDGET         10
#define MS_MAX_API_BUDGET         1000000
#define MS_ZONE_ID_LEN            32      /* Cloudflare ids: 32 lowercase hex */
#define MS_MAX_NAMESERVERS        16
#define MS_MAX_VERIFY_ADDRS       8
#define MS_MAX_VERIFY_RESOLVERS   3

typedef enum {
	MS_AUTH_TOKEN = 0,  /* Authorization: Bearer <token> */
	MS_AUTH_GLOBAL_KEY, /* X-Auth-Email + X-Auth-Key (legacy) */
} ms_auth_kind_t;

/* How Cloudflare takes part (cloudflare-setup). */
typedef enum {
	MS_SETUP_AUTO = 0,  /* from the Cloudflare zone's type */
	MS_SETUP_FULL,      /* Cloudflare holds the records: export through the API */
	MS_SETUP_SECONDARY, /* Cloudflare is a secondary of knotd: records by transfer */
} ms_cf_setup_t;

typedef struct {
	char *api_url;
	ms_auth_kind_t auth_kind;
	char *api_token_file;     /* MS_AUTH_TOKEN */
	char *api_email;          /* MS_AUTH_GLOBAL_KEY */
	char *api_key_file;       /* MS_AUTH_GLOBAL_KEY */
	char *zone_id;            /* NULL: look the zone up by name */
	char *ca_file;            /* NULL: the system's CA store */
	char *nameservers[MS_MAX_NAMESERVERS]; /* FQDN, no trailing dot */
	size_t nameserver_count;
	uint32_t check_interval;  /* seconds */
	uint32_t hold_time;       /* seconds; 0: DNSKEY TTL + largest zone TTL */
	uint32_t api_budget;      /* requests per 5 minutes the account allows */
	bool dry_run;
	ms_cf_setup_t setup;
	/* Cloudflare's nameservers to ask what they really serve; none: the
	 * zone's assigned ones, resolved (ns_resolve.h), unless verify_served is
	 * off (then the API's records are trusted). */
	struct sockaddr_storage verify_addrs[MS_MAX_VERIFY_ADDRS];
	size_t verify_addr_count;
	bool verify_served;
	/* Resolvers for the assigned names; none: /etc/resolv.conf's. */
	struct sockaddr_storage verify_resolvers[MS_MAX_VERIFY_RESOLVERS];
	size_t verify_resolver_count;
	uint16_t verify_port;     /* port of the resolved addresses (53) */
} ms_settings_t;

void ms_settings_free(ms_settings_t *s);

/* api-url: https://..., or http:// only to a loopback address. */
ms_rc_t ms_check_api_url(const char *url, ms_err_t *err);

/* zone-id: exactly 32 lowercase hex digits. */
ms_rc_t ms_check_zone_id(const char *zone_id, ms_err_t *err);

/* check-interval in seconds, within [MS_MIN_CHECK_INTERVAL, MS_MAX_CHECK_INTERVAL]. */
ms_rc_t ms_check_interval(int64_t seconds, ms_err_t *err);

/* api-budget in requests per 5 minutes, within [MS_MIN_API_BUDGET, MS_MAX_API_BUDGET]. */
ms_rc_t ms_check_api_budget(int64_t requests, ms_err_t *err);

/* ca-file: a readable regular file. */
ms_rc_t ms_check_ca_file(const char *path, ms_err_t *err);

/* Which credential form is configured; exactly one must be complete. */
ms_rc_t ms_check_auth_form(bool have_token_file, bool have_email, bool have_key_file,
                           ms_auth_kind_t *kind, ms_err_t *err);

/* Whether a URL host names this machine only (127.0.0.0/8, ::1, localhost). */
bool ms_host_is_loopback(const char *host);
