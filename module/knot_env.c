/*
 * Reads knotd's own configuration for the zone the module is loaded for
 * (glue side: only code linked into multisigner.so may call knotd_conf*).
 * Path rules follow knotd's: relative database paths are under
 * database.storage, a relative zone file is under the zone's storage, the
 * control socket is under server.rundir.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "knot_compat.h"
#include "knot_env.h"

#define C_SERVER      "\x06""server"
#define C_LISTEN      "\x06""listen"
#define C_RUNDIR      "\x06""rundir"
#define C_CONTROL     "\x07""control"
#define C_DATABASE    "\x08""database"
#define C_STORAGE     "\x07""storage"
#define C_KASP_DB     "\x07""kasp-db"
#define C_FILE        "\x04""file"
#define C_MASTER      "\x06""master"
#define C_SIGNING     "\x0e""dnssec-signing"
#define C_POLICY_REF  "\x0d""dnssec-policy"
#define C_POLICY      "\x06""policy"
#define C_ALGORITHM   "\x09""algorithm"
#define C_DNSKEY_TTL  "\x0a""dnskey-ttl"
#define C_MAX_TTL     "\x0c""zone-max-ttl"
#define C_PROPAGATION "\x11""propagation-delay"
#define C_ZF_SYNC     "\x0d""zonefile-sync"
#define C_CDS         "\x13""cds-cdnskey-publish"

/* base/rel unless rel is absolute or base is NULL (none), into buf
 * (MS_PATH_MAX); "" (unknown) when the result would not fit, or when rel is
 * relative to a base that is itself unknown: relative to knotd's working
 * directory it would name another place. */
static const char *join_path(char *buf, const char *base, const char *rel)
{
	if (rel == NULL) {
		rel = "";
	}
	int n = (rel[0] == '/' || base == NULL) ? snprintf(buf, MS_PATH_MAX, "%s", rel)
	      : !ms_path_known(base)           ? -1
	      : snprintf(buf, MS_PATH_MAX, "%s/%s", base, rel);
	if (n < 0 || n >= MS_PATH_MAX) {
		buf[0] = '\0';
	}
	return buf;
}

/* *dst = a copy of path, or NULL when path is unknown; false: out of memory. */
static bool keep_path(char **dst, const char *path)
{
	*dst = NULL;
	if (!ms_path_known(path)) {
		return true;
	}
	*dst = strdup(path);
	return *dst != NULL;
}

/* Zone name without the root dot, as knotd's %s formatter writes it. */
static void zone_text(const knot_dname_t *zone, char *buf, size_t cap)
{
	if (knot_dname_to_str(buf, zone, cap) == NULL) {
		buf[0] = '\0';
	}
	size_t len = strlen(buf);
	if (len > 1 && buf[len - 1] == '.') {
		buf[len - 1] = '\0';
	}
}

/* Expand %s and %%; any other formatter, or a result longer than
 * MS_PATH_MAX, makes the path unknown (empty), and the module then notices
 * zone changes by its periodic check only. */
static void expand_zone_file(const char *pattern, const char *zone, char *out)
{
	size_t o = 0;
	const char *p = pattern;
	for (; *p != '\0' && o < MS_PATH_MAX; p++) {
		if (*p != '%') {
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			out[o++] = '%';
		} else if (*p == 's') {
			o += (size_t)snprintf(out + o, MS_PATH_MAX - o, "%s", zone);
		} else {
			o = MS_PATH_MAX; /* unknown */
			break;
		}
	}
	out[(*p == '\0' && o < MS_PATH_MAX) ? o : 0] = '\0';
}

/* The first listen address, with a wildcard turned into loopback. */
static void read_listen(knotd_mod_t *mod, ms_knot_env_t *env)
{
	knotd_conf_t listen = knotd_conf(mod, C_SERVER, C_LISTEN, NULL);
	const struct sockaddr_storage *first = (listen.count > 0) ? &listen.multi[0].addr
	                                                            : &listen.single.addr;
	memcpy(&env->listen, first, sizeof(env->listen));
	knotd_conf_free(&listen);
	if (env->listen.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&env->listen;
		if (in->sin_addr.s_addr == htonl(INADDR_ANY)) {
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		}
	} else if (env->listen.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&env->listen;
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
			in6->sin6_addr = in6addr_loopback;
		}
	}
}

static bool read_paths(knotd_mod_t *mod, const knot_dname_t *zone, ms_knot_env_t *env)
{
	char storage[MS_PATH_MAX], path[MS_PATH_MAX];
	join_path(storage, NULL, knotd_conf(mod, C_DATABASE, C_STORAGE, NULL).single.string);
	bool ok = keep_path(&env->kasp_db, join_path(path, storage,
	                    knotd_conf(mod, C_DATABASE, C_KASP_DB, NULL).single.string));
	ok = ok && keep_path(&env->state_dir, join_path(path, storage, "multisigner"));

	const char *rundir = knotd_conf(mod, C_SERVER, C_RUNDIR, NULL).single.string;
	knotd_conf_t ctl = knotd_conf(mod, C_CONTROL, C_LISTEN, NULL);
	ok = ok && keep_path(&env->control_socket, join_path(path, rundir, ctl.single.string));

	char zone_storage[MS_PATH_MAX];
	join_path(zone_storage, NULL, knotd_conf_zone(mod, C_STORAGE, zone).single.string);
	const char *file = knotd_conf_zone(mod, C_FILE, zone).single.string;
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	zone_text(zone, name, sizeof(name));
	char expanded[MS_PATH_MAX];
	expand_zone_file(file != NULL ? file : "%s.zone", name, expanded);
	if (expanded[0] != '\0') {
		ok = ok && keep_path(&env->zone_file, join_path(path, zone_storage, expanded));
	}
	return ok;
}

static void read_policy(knotd_mod_t *mod, const knot_dname_t *zone, ms_knot_env_t *env)
{
	env->signing = knotd_conf_zone(mod, C_SIGNING, zone).single.boolean;
	knotd_conf_t ref = knotd_conf_zone(mod, C_POLICY_REF, zone);
	env->has_policy = (ref.count > 0 && ref.single.data != NULL);
	const knotd_conf_t *id = env->has_policy ? &ref : NULL;
	/* Without a policy, knotd uses its built-in default, which these
	 * items' schema defaults describe. */
	env->algorithm = (uint8_t)knotd_conf(mod, C_POLICY, C_ALGORITHM, id).single.option;
	int64_t ttl = knotd_conf(mod, C_POLICY, C_DNSKEY_TTL, id).single.integer;
	int64_t max = knotd_conf(mod, C_POLICY, C_MAX_TTL, id).single.integer;
	env->dnskey_ttl = (ttl > 0 && ttl <= INT32_MAX) ? (uint32_t)ttl : 0;
	env->zone_max_ttl = (max > 0 && max <= INT32_MAX) ? (uint32_t)max : 0;
	env->propagation_delay =
		(uint32_t)knotd_conf(mod, C_POLICY, C_PROPAGATION, id).single.integer;
	env->cds_cdnskey_publish = knotd_conf(mod, C_POLICY, C_CDS, id).single.option;
	env->zonefile_sync = knotd_conf_zone(mod, C_ZF_SYNC, zone).single.integer;
	knotd_conf_t masters = knotd_conf_zone(mod, C_MASTER, zone);
	env->secondary = masters.count > 0;
	knotd_conf_free(&masters);
}

bool ms_knot_env_read(knotd_mod_t *mod, ms_knot_env_t *env)
{
	memset(env, 0, sizeof(*env));
	const knot_dname_t *zone = knotd_mod_zone(mod);
	read_listen(mod, env);
	read_policy(mod, zone, env);
	if (!read_paths(mod, zone, env)) {
		ms_knot_env_clear(env);
		return false;
	}
	return true;
}
