/*
 * mod-multisigner: the knotd glue. It declares the configuration schema,
 * checks it, turns it into ms_settings_t at load, registers the statistics
 * counters and owns the per-zone context. It does no work on the query path:
 * the module registers no query hook at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knot_compat.h"
#include "http.h"
#include "knot_env.h"
#include "policy_check.h"
#include "registry.h"
#include "secret.h"
#include "settings.h"
#include "stats.h"
#include "sync.h"
#include "version.h"
#include "zone.h"

#define MOD_API_URL        "\x07""api-url"
#define MOD_API_TOKEN_FILE "\x0e""api-token-file"
#define MOD_API_EMAIL      "\x09""api-email"
#define MOD_API_KEY_FILE   "\x0c""api-key-file"
#define MOD_ZONE_ID        "\x07""zone-id"
#define MOD_CA_FILE        "\x07""ca-file"
#define MOD_NAMESERVER     "\x0a""nameserver"
#define MOD_CHECK_INTERVAL "\x0e""check-interval"
#define MOD_DRY_RUN        "\x07""dry-run"
#define MOD_HOLD_TIME      "\x09""hold-time"
#define MOD_VERIFY_ADDRESS "\x0e""verify-address"
#define MOD_SETUP          "\x10""cloudflare-setup"
#define MOD_API_BUDGET     "\x0a""api-budget"

static const knot_lookup_t setup_opts[] = {
	{ MS_SETUP_AUTO,      "auto" },
	{ MS_SETUP_FULL,      "full" },
	{ MS_SETUP_SECONDARY, "secondary" },
	{ 0, NULL }
};
#define MOD_VERIFY_SERVED  "\x0d""verify-served"
#define MOD_VERIFY_RESOLVER "\x0f""verify-resolver"
#define MOD_VERIFY_PORT    "\x0b""verify-port"

const yp_item_t multisigner_conf[] = {
	{ MOD_API_URL,        YP_TSTR,   YP_VSTR = { MS_DEFAULT_API_URL } },
	{ MOD_API_TOKEN_FILE, YP_TSTR,   YP_VNONE },
	{ MOD_API_EMAIL,      YP_TSTR,   YP_VNONE },
	{ MOD_API_KEY_FILE,   YP_TSTR,   YP_VNONE },
	{ MOD_ZONE_ID,        YP_TSTR,   YP_VNONE },
	{ MOD_CA_FILE,        YP_TSTR,   YP_VNONE },
	{ MOD_NAMESERVER,     YP_TDNAME, YP_VNONE, YP_FMULTI },
	/* The range is checked below so the operator gets our message. */
	{ MOD_CHECK_INTERVAL, YP_TINT,   YP_VINT = { 0, INT32_MAX, MS_DEFAULT_CHECK_INTERVAL,
	                                             YP_STIME } },
	{ MOD_DRY_RUN,        YP_TBOOL,  YP_VBOOL = { false } },
	/* 0: DNSKEY TTL + the zone's largest TTL + check interval. */
	{ MOD_HOLD_TIME,      YP_TINT,   YP_VINT = { 0, 30 * 86400, 0, YP_STIME } },
	{ MOD_VERIFY_ADDRESS, YP_TADDR,  YP_VADDR = { 53 }, YP_FMULTI },
	{ MOD_SETUP,          YP_TOPT,   YP_VOPT = { setup_opts, MS_SETUP_AUTO } },
	{ MOD_API_BUDGET,     YP_TINT,   YP_VINT = { 0, INT32_MAX, MS_DEFAULT_API_BUDGET } },
	{ MOD_VERIFY_SERVED,  YP_TBOOL,  YP_VBOOL = { true } },
	{ MOD_VERIFY_RESOLVER, YP_TADDR, YP_VADDR = { 53 }, YP_FMULTI },
	{ MOD_VERIFY_PORT,    YP_TINT,   YP_VINT = { 1, 65535, 53 } },
	{ NULL }
};

/* knotd prints err_str after the check returns, so it must outlive the call;
 * checks run one at a time, in the thread that loads the configuration. */
static __thread char check_msg[MS_ERR_MSG_MAX + 64];

static int check_fail(knotd_conf_check_args_t *args, const char *item, const ms_err_t *err)
{
	snprintf(check_msg, sizeof(check_msg), "%s: %s", item, err->msg);
	args->err_str = check_msg;
	return KNOT_EINVAL;
}

/* A multi-valued item with more than cap values is refused. */
static int check_count(knotd_conf_check_args_t *args, const yp_name_t *item, const char *name,
                       const char *unit, size_t cap, size_t *count)
{
	knotd_conf_t c = knotd_conf_check_item(args, item);
	size_t n = c.count;
	knotd_conf_free(&c);
	if (count != NULL) {
		*count = n;
	}
	if (n > cap) {
		ms_err_t err = { 0 };
		ms_err_set(&err, MS_EINVAL, "%zu %s given, at most %zu are supported", n, unit, cap);
		return check_fail(args, name, &err);
	}
	return KNOT_EOK;
}

static const char *conf_str(knotd_conf_t c)
{
	return (c.count > 0 && c.single.string != NULL) ? c.single.string : NULL;
}

static int check_secret(knotd_conf_check_args_t *args, const char *item, const char *path)
{
	ms_err_t err = { 0 };
	char *secret = NULL;
	if (ms_secret_read(path, &secret, &err) != MS_OK) {
		return check_fail(args, item, &err);
	}
	ms_secret_free(secret);
	return KNOT_EOK;
}

static int check_credentials(knotd_conf_check_args_t *args)
{
	const char *token = conf_str(knotd_conf_check_item(args, MOD_API_TOKEN_FILE));
	const char *email = conf_str(knotd_conf_check_item(args, MOD_API_EMAIL));
	const char *key = conf_str(knotd_conf_check_item(args, MOD_API_KEY_FILE));
	ms_err_t err = { 0 };
	ms_auth_kind_t kind;
	if (ms_check_auth_form(token != NULL, email != NULL, key != NULL, &kind, &err) != MS_OK) {
		return check_fail(args, "credentials", &err);
	}
	if (kind == MS_AUTH_TOKEN) {
		return check_secret(args, "api-token-file", token);
	}
	if (*email == '\0' || strchr(email, '@') == NULL) {
		ms_err_set(&err, MS_EINVAL, "'%s' is not an e-mail address", email);
		return check_fail(args, "api-email", &err);
	}
	return check_secret(args, "api-key-file", key);
}

int multisigner_conf_check(knotd_conf_check_args_t *args)
{
	ms_err_t err = { 0 };
	const char *url = conf_str(knotd_conf_check_item(args, MOD_API_URL));
	if (url != NULL && ms_check_api_url(url, &err) != MS_OK) {
		return check_fail(args, "api-url", &err);
	}
	const char *zone_id = conf_str(knotd_conf_check_item(args, MOD_ZONE_ID));
	if (zone_id != NULL && ms_check_zone_id(zone_id, &err) != MS_OK) {
		return check_fail(args, "zone-id", &err);
	}
	const char *ca = conf_str(knotd_conf_check_item(args, MOD_CA_FILE));
	if (ca != NULL && ms_check_ca_file(ca, &err) != MS_OK) {
		return check_fail(args, "ca-file", &err);
	}
	knotd_conf_t interval = knotd_conf_check_item(args, MOD_CHECK_INTERVAL);
	if (interval.count > 0 && ms_check_interval(interval.single.integer, &err) != MS_OK) {
		return check_fail(args, "check-interval", &err);
	}
	knotd_conf_t budget = knotd_conf_check_item(args, MOD_API_BUDGET);
	if (budget.count > 0 && ms_check_api_budget(budget.single.integer, &err) != MS_OK) {
		return check_fail(args, "api-budget", &err);
	}
	size_t verify_count = 0;
	int ret = check_count(args, MOD_NAMESERVER, "nameserver", "names", MS_MAX_NAMESERVERS,
	                      NULL);
	if (ret == KNOT_EOK) {
		ret = check_count(args, MOD_VERIFY_ADDRESS, "verify-address", "addresses",
		                  MS_MAX_VERIFY_ADDRS, &verify_count);
	}
	if (ret == KNOT_EOK) {
		ret = check_count(args, MOD_VERIFY_RESOLVER, "verify-resolver", "addresses",
		                  MS_MAX_VERIFY_RESOLVERS, NULL);
	}
	if (ret != KNOT_EOK) {
		return ret;
	}
	knotd_conf_t served = knotd_conf_check_item(args, MOD_VERIFY_SERVED);
	if (served.count > 0 && !served.single.boolean && verify_count > 0) {
		ms_err_set(&err, MS_EINVAL, "verification is off, but verify-address lists "
		           "servers to verify against: remove one of the two");
		return check_fail(args, "verify-served", &err);
	}
	return check_credentials(args);
}

const char *const ms_counter_names[MS_CTR_COUNT] = {
	[MS_CTR_SYNC_PASSES] = "sync-passes",
	[MS_CTR_CHANGES]     = "changes",
	[MS_CTR_API_REQUESTS] = "api-requests",
	[MS_CTR_API_FAILURES] = "api-failures",
};

static void zone_free(ms_zone_t *zone)
{
	if (zone == NULL) {
		return;
	}
	ms_sync_zone_free(zone);
	ms_secret_free(zone->secret);
	ms_settings_free(&zone->settings);
	ms_knot_env_clear(&zone->env);
	free(zone->name);
	free(zone);
}

static char *dup_conf_str(knotd_mod_t *mod, const yp_name_t *item)
{
	knotd_conf_t c = knotd_conf_mod(mod, item);
	/* Items with a default report count 0 but carry the default value. */
	return (c.single.string != NULL) ? strdup(c.single.string) : NULL;
}

/* Names as Cloudflare writes them: no root dot. */
static char *name_without_dot(const knot_dname_t *dname)
{
	char *name = knot_dname_to_str_alloc(dname);
	size_t len = (name != NULL) ? strlen(name) : 0;
	if (len > 1 && name[len - 1] == '.') {
		name[len - 1] = '\0';
	}
	return name;
}

static int read_nameservers(knotd_mod_t *mod, ms_settings_t *s)
{
	knotd_conf_t ns = knotd_conf_mod(mod, MOD_NAMESERVER);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < ns.count && i < MS_MAX_NAMESERVERS; i++) {
		char *name = name_without_dot(ns.multi[i].dname);
		if (name == NULL) {
			ret = KNOT_ENOMEM;
			break;
		}
		s->nameservers[s->nameserver_count++] = name;
	}
	knotd_conf_free(&ns);
	return ret;
}

static void read_verify_addrs(knotd_mod_t *mod, ms_settings_t *s)
{
	knotd_conf_t addrs = knotd_conf_mod(mod, MOD_VERIFY_ADDRESS);
	for (size_t i = 0; i < addrs.count && i < MS_MAX_VERIFY_ADDRS; i++) {
		s->verify_addrs[s->verify_addr_count++] = addrs.multi[i].addr;
	}
	knotd_conf_free(&addrs);
	knotd_conf_t resolvers = knotd_conf_mod(mod, MOD_VERIFY_RESOLVER);
	for (size_t i = 0; i < resolvers.count && i < MS_MAX_VERIFY_RESOLVERS; i++) {
		s->verify_resolvers[s->verify_resolver_count++] = resolvers.multi[i].addr;
	}
	knotd_conf_free(&resolvers);
	s->verify_served = knotd_conf_mod(mod, MOD_VERIFY_SERVED).single.boolean;
	s->verify_port = (uint16_t)knotd_conf_mod(mod, MOD_VERIFY_PORT).single.integer;
}

static int read_settings(knotd_mod_t *mod, ms_settings_t *s)
{
	s->api_url = dup_conf_str(mod, MOD_API_URL);
	s->api_token_file = dup_conf_str(mod, MOD_API_TOKEN_FILE);
	s->api_email = dup_conf_str(mod, MOD_API_EMAIL);
	s->api_key_file = dup_conf_str(mod, MOD_API_KEY_FILE);
	s->zone_id = dup_conf_str(mod, MOD_ZONE_ID);
	s->ca_file = dup_conf_str(mod, MOD_CA_FILE);
	s->auth_kind = (s->api_token_file != NULL) ? MS_AUTH_TOKEN : MS_AUTH_GLOBAL_KEY;
	s->check_interval = (uint32_t)knotd_conf_mod(mod, MOD_CHECK_INTERVAL).single.integer;
	s->hold_time = (uint32_t)knotd_conf_mod(mod, MOD_HOLD_TIME).single.integer;
	s->api_budget = (uint32_t)knotd_conf_mod(mod, MOD_API_BUDGET).single.integer;
	s->dry_run = knotd_conf_mod(mod, MOD_DRY_RUN).single.boolean;
	s->setup = (ms_cf_setup_t)knotd_conf_mod(mod, MOD_SETUP).single.option;
	read_verify_addrs(mod, s);
	if (s->api_url == NULL) {
		return KNOT_ENOMEM;
	}
	return read_nameservers(mod, s);
}

static int register_counters(knotd_mod_t *mod)
{
	for (int i = 0; i < MS_CTR_COUNT; i++) {
		int ret = knotd_mod_stats_add(mod, ms_counter_names[i], 1, NULL);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

static int read_secret(knotd_mod_t *mod, ms_zone_t *zone)
{
	const ms_settings_t *s = &zone->settings;
	const char *path = (s->auth_kind == MS_AUTH_TOKEN) ? s->api_token_file : s->api_key_file;
	ms_err_t err = { 0 };
	if (ms_secret_read(path, &zone->secret, &err) != MS_OK) {
		knotd_mod_log(mod, LOG_ERR, "cannot load credentials, %s; the zone is served "
		              "but not synced until this is fixed and the zone reloaded", err.msg);
		return KNOT_EACCES;
	}
	return KNOT_EOK;
}

static void log_loaded(knotd_mod_t *mod, const ms_zone_t *zone)
{
	const ms_settings_t *s = &zone->settings;
	knotd_mod_log(mod, LOG_INFO,
	              "%s %s (ABI %d): syncing with Cloudflare at %s, zone id %s, %s auth, "
	              "%zu nameserver(s) to publish, check every %u s, API budget %u requests "
	              "per 5 min, %s%s",
	              MS_NAME, MS_VERSION, MS_KNOT_ABI, s->api_url,
	              s->zone_id != NULL ? s->zone_id : "looked up by name",
	              s->auth_kind == MS_AUTH_TOKEN ? "API token" : "e-mail + global key",
	              s->nameserver_count, s->check_interval, s->api_budget,
	              !s->verify_served ? "trusting the API's records (verify-served: off)"
	              : s->verify_addr_count > 0 ? "confirming by DNS what Cloudflare serves"
	                                           " (verify-address)"
	              : "confirming by DNS what Cloudflare serves (its assigned nameservers, "
	                "resolved)",
	              s->dry_run ? ", dry run: changes are logged, not made" : "");
}

/* ---- hooks the worker calls back through (only while the zone is registered) */

static void hook_log(void *opaque, int priority, const char *fmt, va_list ap)
{
	knotd_mod_vlog(opaque, priority, fmt, ap);
}

static void hook_count(void *opaque, ms_counter_t counter, uint64_t delta)
{
	/* Only the worker counts, so thread slot 0 is ours alone. */
	knotd_mod_stats_incr(opaque, 0, counter, 0, delta);
}

static int zone_init(knotd_mod_t *mod, ms_zone_t *zone)
{
	zone->name = name_without_dot(knotd_mod_zone(mod));
	if (zone->name == NULL) {
		return KNOT_ENOMEM;
	}
	atomic_init(&zone->abort, false);
	atomic_init(&zone->control_seen, false);
	zone->hooks = (ms_zone_hooks_t){ .opaque = mod, .log = hook_log, .count = hook_count };
	if (!ms_knot_env_read(mod, &zone->env)) {
		return KNOT_ENOMEM;
	}
	int ret = read_settings(mod, &zone->settings);
	if (ret == KNOT_EOK) {
		ret = read_secret(mod, zone);
	}
	if (ret == KNOT_EOK) {
		ret = register_counters(mod);
	}
	return ret;
}

/* Log what the zone's configuration means for multi-signing; false when
 * syncing would break the zone. */
static bool policy_allows_sync(knotd_mod_t *mod, const ms_zone_t *zone)
{
	ms_check_note_t notes[MS_CHECK_NOTES_MAX];
	size_t n = ms_policy_check(&zone->env, &zone->settings, notes, MS_CHECK_NOTES_MAX);
	bool refuse = false;
	for (size_t i = 0; i < n; i++) {
		knotd_mod_log(mod, notes[i].refuse ? LOG_ERR : notes[i].info ? LOG_INFO : LOG_WARNING,
		              "%s%s", notes[i].text, notes[i].refuse ? "; not syncing this zone" : "");
		refuse |= notes[i].refuse;
	}
	return !refuse;
}

static int start_sync(knotd_mod_t *mod, ms_zone_t *zone)
{
	if (!policy_allows_sync(mod, zone)) {
		return KNOT_EOK; /* knotd serves the zone; we stay out of it */
	}
	ms_err_t err = { 0 };
	if (ms_http_global_init(&err) != MS_OK ||
	    ms_registry_add(zone, ms_sync_pass, &err) != MS_OK) {
		knotd_mod_log(mod, LOG_ERR, "cannot start syncing: %s", err.msg);
		return KNOT_ERROR;
	}
	return KNOT_EOK;
}

int multisigner_load(knotd_mod_t *mod)
{
	ms_zone_t *zone = calloc(1, sizeof(*zone));
	if (zone == NULL) {
		return KNOT_ENOMEM;
	}
	int ret = zone_init(mod, zone);
	if (ret == KNOT_EOK) {
		knotd_mod_ctx_set(mod, zone);
		log_loaded(mod, zone);
		ret = start_sync(mod, zone);
	}
	if (ret != KNOT_EOK) {
		knotd_mod_ctx_set(mod, NULL);
		zone_free(zone);
	}
	return ret;
}

void multisigner_unload(knotd_mod_t *mod)
{
	/* No logging here: knotd (3.2 and 3.4) has freed the zone's name by now. */
	ms_zone_t *zone = knotd_mod_ctx(mod);
	if (zone != NULL) {
		ms_registry_remove(zone);
		zone_free(zone);
	}
}

KNOTD_MOD_API(multisigner, KNOTD_MOD_FLAG_SCOPE_ZONE,
              multisigner_load, multisigner_unload, multisigner_conf, multisigner_conf_check);
