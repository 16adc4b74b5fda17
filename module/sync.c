#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "apply.h"
#include "cf_client.h"
#include "ds.h"
#include "keys_cache.h"
#include "ns_resolve.h"
#include "observe_cf.h"
#include "observe_local.h"
#include "plan.h"
#include "state_file.h"
#include "sync.h"
#include "sync_status.h"
#include "sync_writers.h"
#include "zone_state.h"

#define RECHECK_AFTER_CHANGE 2.0   /* s: see a change through promptly */
#define RETRY_MIN            5.0   /* s: first retry after a failed pass */
#define MAX_WARNINGS         32

struct ms_sync_zone {
	ms_cf_client_t *client;
	ms_cf_cache_t cf_cache;     /* zone object and settings, between passes */
	ms_keys_cache_t keys_cache; /* the key listing, between passes */
	unsigned pass_requests;     /* API requests of the running pass... */
	unsigned pass_writes;       /* ...and how many of them changed something */
	ms_zone_state_packed_t state; /* as of the last pass (unpacked: ~140 KiB) */
	bool state_loaded;
	bool saved_known;           /* the state file holds what saved_digest says */
	uint64_t saved_digest;      /* ms_zone_state_digest() of the file's content */
	char *state_path;           /* <state dir>/<zone>.json */
	char marker[MS_CF_COMMENT_MAX + 1];
	uint64_t last_fingerprint;
	unsigned failures;          /* consecutive failed passes */
	bool recheck;               /* changes were made: the next pass is a full one */
	bool holding;               /* a new ZSK is held back: every pass is a full one */
	bool join_waiting;          /* NS records wait for the keys to settle: the
	                               follow-up at that time is a full pass */
	uint32_t warned[MAX_WARNINGS]; /* digests of warnings logged last pass */
	size_t warned_count;
	uint32_t ds_logged;         /* digest of the DS report logged last */
	ms_status_memo_t status;    /* for the status file */
	ms_ns_cache_t *ns_cache;    /* Cloudflare's assigned nameservers, resolved; only
	                               allocated once resolved (5 KiB, verify-served) */
	uint32_t resolve_warned;    /* digest of the resolution failure logged last */
	double resolve_after;       /* monotonic: no new attempt before, after a failure */
	ms_err_t resolve_err;       /* that failure */
	uint32_t resolve_names;     /* digest of the names it was for */
};

/* ---- per-zone setup ---------------------------------------------------------- */

static void count_request(void *ctx, ms_rc_t rc, long http_status, bool write)
{
	(void)http_status;
	ms_zone_t *zone = ctx;
	if (zone->sync != NULL) {
		zone->sync->pass_requests++;
		zone->sync->pass_writes += write;
	}
	ms_zone_count(zone, MS_CTR_API_REQUESTS, 1);
	if (rc != MS_OK) {
		ms_zone_count(zone, MS_CTR_API_FAILURES, 1);
	}
}

static ms_rc_t make_client(ms_zone_t *zone, ms_cf_client_t **out, ms_err_t *err)
{
	const ms_settings_t *s = &zone->settings;
	ms_cf_config_t cfg = {
		.api_url = s->api_url,
		.auth_kind = s->auth_kind,
		.secret = zone->secret,
		.email = s->api_email,
		.ca_file = s->ca_file,
		.abort_flag = &zone->abort,
		.ratelimit = zone->ratelimit,
		.http_pool = zone->http_pool,
		.on_request = count_request,
		.hook_ctx = zone,
	};
	return ms_cf_client_new(&cfg, out, err);
}

static ms_rc_t sync_zone_init(ms_zone_t *zone, ms_err_t *err)
{
	struct ms_sync_zone *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	if (!ms_path_known(zone->env.state_dir)) {
		free(s);
		return ms_err_set(err, MS_EINVAL, "knotd's database.storage path is longer than "
		                  "%d characters, so the module has nowhere to keep its state: use a "
		                  "shorter path", MS_PATH_MAX - 1);
	}
	if (asprintf(&s->state_path, "%s/%s.json", zone->env.state_dir, zone->name) < 0) {
		free(s);
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	ms_rc_t rc = make_client(zone, &s->client, err);
	if (rc != MS_OK) {
		free(s->state_path);
		free(s);
		return rc;
	}
	ms_plan_owner_marker(zone->name, s->marker, sizeof(s->marker));
	zone->sync = s;
	return MS_OK;
}

void ms_sync_zone_free(ms_zone_t *zone)
{
	struct ms_sync_zone *s = zone->sync;
	if (s != NULL) {
		ms_cf_client_free(s->client);
		ms_keys_cache_clear(&s->keys_cache);
		ms_zone_state_packed_free(&s->state);
		free(s->state_path);
		free(s->ns_cache);
		free(s);
		zone->sync = NULL;
	}
}

/* ---- saved state ------------------------------------------------------------- */

/* Read the saved state (scratch: room to parse it in). Leaves state_loaded
 * false when memory ran out: the pass must not go on and overwrite it. */
static void load_state(ms_zone_t *zone, struct ms_sync_zone *s, ms_zone_state_t *scratch)
{
	char *buf = malloc(MS_STATE_TEXT_MAX);
	if (buf == NULL) {
		return; /* try again next pass */
	}
	size_t len = 0;
	ms_err_t err = { 0 };
	ms_rc_t rc = ms_state_file_read(s->state_path, buf, MS_STATE_TEXT_MAX, &len, &err);
	if (rc == MS_OK) {
		rc = ms_zone_state_parse(buf, len, zone->name, scratch, &err);
	}
	free(buf);
	if (rc != MS_OK && rc != MS_ENOTFOUND) {
		ms_zone_log(zone, LOG_WARNING, "cannot use saved state %s: %s; starting afresh: "
		            "records are only treated as ours again once proven",
		            s->state_path, err.msg);
	}
	if (rc == MS_OK && ms_zone_state_pack(scratch, &s->state, &err) != MS_OK) {
		return; /* out of memory: try again next pass */
	}
	s->saved_known = (rc == MS_OK);
	s->saved_digest = ms_zone_state_digest(scratch);
	s->state_loaded = true;
}

/* Keep state (packed) for the next pass, and write it (crash-safe: fsync,
 * rename, fsync of the directory) only when what the file keeps changed,
 * not for every pass. */
static ms_rc_t save_state(ms_zone_t *zone, struct ms_sync_zone *s, const ms_zone_state_t *state,
                          ms_err_t *err)
{
	ms_rc_t rc = ms_zone_state_pack(state, &s->state, err);
	if (rc != MS_OK) {
		return rc;
	}
	uint64_t d = ms_zone_state_digest(state);
	if (s->saved_known && d == s->saved_digest) {
		return MS_OK;
	}
	s->saved_known = false;
	rc = ms_state_dir_ensure(zone->env.state_dir, err);
	if (rc == MS_OK) {
		rc = ms_state_file_write(s->state_path, s->state.text, s->state.len, err);
	}
	if (rc == MS_OK) {
		s->saved_known = true;
		s->saved_digest = d;
	}
	return rc;
}

/* ---- warnings: logged when they appear, not every pass ----------------------- */

static uint32_t digest(const char *text)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = text; *p != '\0'; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
	}
	return h;
}

static bool was_warned(const struct ms_sync_zone *s, uint32_t d)
{
	for (size_t i = 0; i < s->warned_count; i++) {
		if (s->warned[i] == d) {
			return true;
		}
	}
	return false;
}

static void log_warnings(ms_zone_t *zone, struct ms_sync_zone *s, const ms_plan_t *plan)
{
	uint32_t now_warned[MAX_WARNINGS];
	size_t count = 0;
	for (size_t i = 0; i < plan->count; i++) {
		const ms_action_t *a = &plan->actions[i];
		if (a->kind != MS_ACT_WARN) {
			continue;
		}
		uint32_t d = digest(a->reason);
		if (!was_warned(s, d)) {
			/* A tag collision is an error the operator must act on. */
			ms_zone_log(zone, a->warn == MS_WARN_TAG_COLLISION ? LOG_ERR : LOG_WARNING, "%s",
			            a->reason);
		}
		if (count < MAX_WARNINGS) {
			now_warned[count++] = d;
		}
	}
	memcpy(s->warned, now_warned, count * sizeof(now_warned[0]));
	s->warned_count = count;
}

/* ---- the pass ---------------------------------------------------------------- */

/* Default verification: the zone's assigned Cloudflare nameservers, resolved
 * and cached until the names change or the answers' TTL (clamped) runs out.
 * After a failure, no new attempt for MS_NS_CACHE_MIN (a resolver that does
 * not answer must not stall every pass); meanwhile the last addresses for the
 * same names are used, if any. */
static ms_rc_t resolve_assigned(ms_zone_t *zone, struct ms_sync_zone *s, const ms_cf_view_t *cf,
                                double now, ms_err_t *err)
{
	const ms_settings_t *set = &zone->settings;
	struct sockaddr_storage resolvers[MS_RESOLVERS_MAX];
	size_t nres = set->verify_resolver_count;
	const char *via = "verify-resolver";
	if (nres > 0) {
		memcpy(resolvers, set->verify_resolvers, nres * sizeof(resolvers[0]));
	} else {
		nres = ms_resolv_conf_read(MS_RESOLV_CONF, resolvers, MS_RESOLVERS_MAX);
		via = MS_RESOLV_CONF;
	}
	ms_ns_cache_t fresh;
	uint32_t ttl = 0;
	ms_err_t e = { 0 };
	ms_rc_t rc = nres == 0
	           ? ms_err_set(&e, MS_EINVAL, "no resolver to ask")
	           : ms_ns_resolve(resolvers, nres, cf->name_servers, cf->name_server_count,
	                           set->verify_port, &zone->abort, &fresh, &ttl, &e);
	if (rc != MS_OK) {
		return ms_err_set(err, rc, "cannot resolve Cloudflare's nameservers (via %s): %s", via,
		                  e.msg);
	}
	fresh.expires = now + ms_ns_cache_lifetime(ttl);
	if (s->ns_cache == NULL && (s->ns_cache = malloc(sizeof(*s->ns_cache))) == NULL) {
		return ms_err_set(err, MS_ENOMEM, "out of memory");
	}
	*s->ns_cache = fresh;
	char text[MS_MAX_VERIFY_ADDRS * 48];
	ms_ns_addrs_text(fresh.addrs, fresh.addr_count, text, sizeof(text));
	ms_zone_log(zone, LOG_INFO, "verifying against Cloudflare's nameservers %s%s%s: %s "
	            "(resolved via %s; again in %u s or when the names change)", fresh.names[0],
	            fresh.name_count > 1 ? ", " : "", fresh.name_count > 1 ? fresh.names[1] : "",
	            text, via, ms_ns_cache_lifetime(ttl));
	return MS_OK;
}

static ms_rc_t assigned_addrs(ms_zone_t *zone, struct ms_sync_zone *s, const ms_cf_view_t *cf,
                              double now, bool *stale, ms_err_t *err)
{
	if (s->ns_cache != NULL &&
	    ms_ns_cache_fresh(s->ns_cache, cf->name_servers, cf->name_server_count, now)) {
		return MS_OK;
	}
	uint32_t names = 0;
	for (size_t i = 0; i < cf->name_server_count; i++) {
		names = names * 31 + digest(cf->name_servers[i]);
	}
	if (now >= s->resolve_after || names != s->resolve_names) {
		ms_err_t e = { 0 };
		ms_rc_t rc = resolve_assigned(zone, s, cf, now, &e);
		if (rc == MS_OK || rc == MS_EABORTED) {
			return rc;
		}
		s->resolve_err = e;
		s->resolve_after = now + MS_NS_CACHE_MIN;
		s->resolve_names = names;
	}
	/* The same names as before (the cache only expired): their last addresses. */
	*stale = s->ns_cache != NULL &&
	         ms_ns_cache_fresh(s->ns_cache, cf->name_servers, cf->name_server_count,
	                           s->ns_cache->expires - 1);
	*err = s->resolve_err;
	return *stale ? MS_OK : s->resolve_err.rc;
}

/* Rule 11: what Cloudflare's nameservers serve decides whether it has our
 * key; a failure to ask leaves our keys unconfirmed (held), never deletes.
 * Returns how many of Cloudflare's nameservers were asked, *asked their
 * addresses (0: none, verification off or no address). */
static size_t observe_served(ms_zone_t *zone, struct ms_sync_zone *s, ms_cf_view_t *cf,
                             double now, const struct sockaddr_storage **asked)
{
	const ms_settings_t *set = &zone->settings;
	*asked = NULL;
	if (!set->verify_served) {
		return 0;
	}
	const struct sockaddr_storage *addrs = set->verify_addrs;
	size_t count = set->verify_addr_count;
	ms_err_t err = { 0 };
	if (count == 0) {
		ms_err_t rerr = { 0 };
		bool stale = false;
		ms_rc_t rc = assigned_addrs(zone, s, cf, now, &stale, &rerr);
		uint32_t d = rerr.msg[0] != '\0' ? digest(rerr.msg) + stale : 0;
		if (d != 0 && d != s->resolve_warned && !atomic_load(&zone->abort)) {
			ms_zone_log(zone, LOG_WARNING, "%s; %s", rerr.msg, stale
			            ? "asking the addresses found before"
			            : "our keys count as not served there until this works: check the "
			              "resolvers, or list Cloudflare's nameserver addresses with "
			              "verify-address, or set verify-served: off");
		}
		s->resolve_warned = d;
		if (rc != MS_OK) {
			cf->served_observed = true; /* asked nowhere: nothing confirmed */
			cf->served_dnskey_count = 0;
			cf->signing_tag_count = 0;
			return 0;
		}
		addrs = s->ns_cache->addrs;
		count = s->ns_cache->addr_count;
	}
	if (ms_observe_cf_served(cf, zone->name, addrs, count, &zone->abort, &err) != MS_OK) {
		ms_zone_log(zone, LOG_WARNING, "%s; our keys count as not served there until it "
		            "answers", err.msg);
	}
	*asked = addrs;
	return count;
}

/* ---- CDS/CDNSKEY at both providers (rule 6): logged when the case changes ----- */

static ms_rc_t read_cds(ms_zone_t *zone, const struct sockaddr_storage *addrs,
                              size_t count, ms_cds_set_t *ours, ms_cds_set_t *theirs,
                              bool *consistent, ms_err_t *err)
{
	ms_err_t e = { 0 };
	if (ms_observe_cds_at(&zone->env.listen, zone->name, &zone->abort, ours, &e) != MS_OK) {
		return ms_err_set(err, e.rc, "asking knotd: %s", e.msg);
	}
	*consistent = true;
	for (size_t i = 0; i < count; i++) {
		ms_cds_set_t one;
		if (ms_observe_cds_at(&addrs[i], zone->name, &zone->abort, i == 0 ? theirs : &one,
		                      &e) != MS_OK) {
			return ms_err_set(err, e.rc, "asking Cloudflare's nameserver #%zu: %s", i + 1,
			                  e.msg);
		}
		if (i > 0 && !ms_cds_set_equal(&one, theirs)) {
			*consistent = false;
		}
	}
	return MS_OK;
}

/* Both DNSKEY RRsets should hold both KSKs: its own line, logged on change
 * (knotd cuts long log lines, so it does not ride on the CDS line). */
static void note_ksk_sharing(ms_zone_t *zone, ms_status_memo_t *m, const char *text,
                             bool shared)
{
	if (strcmp(text, m->ksk_text) != 0) {
		ms_zone_log(zone, shared ? LOG_INFO : LOG_NOTICE, "%s", text);
		snprintf(m->ksk_text, sizeof(m->ksk_text), "%s", text);
	}
}

static void check_cds(ms_zone_t *zone, struct ms_sync_zone *s, const ms_local_view_t *local,
                      const ms_cf_view_t *cf, const struct sockaddr_storage *addrs,
                      size_t count)
{
	ms_status_memo_t *m = &s->status;
	if (count == 0 || !local->complete || !cf->complete) {
		return; /* nothing to compare with: keep the last finding */
	}
	ms_cds_set_t ours, theirs;
	bool consistent = true;
	ms_err_t err = { 0 };
	ms_cds_case_t c = MS_CDS_SERVED_UNCHECKED;
	char text[MS_CDS_TEXT_MAX], shared[MS_CDS_KSK_TEXT_MAX] = "";
	if (read_cds(zone, addrs, count, &ours, &theirs, &consistent, &err) != MS_OK) {
		if (atomic_load(&zone->abort)) {
			return;
		}
		snprintf(text, sizeof(text), "CDS/CDNSKEY not checked: %s; checked again next pass",
		         err.msg);
	} else {
		uint16_t ksk[MS_CDS_MAX_TAGS];
		size_t nksk = ms_cds_ksk_tags(local, cf, ksk, MS_CDS_MAX_TAGS);
		c = ms_cds_classify(&ours, &theirs, consistent, ksk, nksk, text,
		                    sizeof(text));
		bool both = ms_cds_ksks_shared(local, cf, ksk, nksk, shared, sizeof(shared));
		note_ksk_sharing(zone, m, shared, both);
	}
	/* The status file holds both sentences; the log line is the first. */
	char status[MS_CDS_TEXT_MAX];
	snprintf(status, sizeof(status), "%s", text);
	if (shared[0] != '\0') {
		strncat(status, "; ", sizeof(status) - strlen(status) - 1);
		strncat(status, shared, sizeof(status) - strlen(status) - 1);
	}
	/* Logged when the case or its sentence changed (the memo starts with it). */
	if (c != m->cds_case || strncmp(text, m->cds_text, strlen(text)) != 0) {
		ms_zone_log(zone, c == MS_CDS_SERVED_MISMATCH ? LOG_WARNING
		                  : c == MS_CDS_SERVED_UNCHECKED ? LOG_NOTICE : LOG_INFO, "%s", text);
	}
	m->cds_case = c;
	snprintf(m->cds_text, sizeof(m->cds_text), "%s", status);
}

/* ---- DS records for the registrar: logged when they change ------------------- */

static void report_ds(ms_zone_t *zone, struct ms_sync_zone *s, const ms_local_view_t *local,
                      const ms_cf_view_t *cf)
{
	if (!local->complete || !cf->complete) {
		return;
	}
	ms_ds_t ds[MS_DS_MAX];
	size_t n = ms_ds_report(zone->name, local, cf, ds, MS_DS_MAX);
	char text[MS_DS_MAX][MS_DS_TEXT_MAX];
	uint32_t h = cf->has_ksk ? 1 : 2;
	for (size_t i = 0; i < n; i++) {
		if (!ms_ds_format(zone->name, &ds[i], text[i], sizeof(text[i]))) {
			text[i][0] = '\0';
		}
		h = h * 31 + digest(text[i]);
	}
	if (h == s->ds_logged) {
		return;
	}
	s->ds_logged = h;
	for (size_t i = 0; i < n; i++) {
		ms_zone_log(zone, LOG_INFO, "DS for the registrar, %s KSK %u: %s",
		            ds[i].cloudflare ? "Cloudflare's" : "our", ds[i].key_tag, text[i]);
		if (ds[i].cloudflare && !ms_ds_matches(&ds[i], cf->ksk_ds_tag, cf->ksk_ds_digest_type,
		                                       cf->ksk_ds_digest)) {
			ms_zone_log(zone, LOG_WARNING, "Cloudflare's DNSSEC details give the DS %u %u %s, "
			            "which does not match its KSK %u (%s); give the registrar the DS "
			            "computed here and report the difference to Cloudflare",
			            cf->ksk_ds_tag, cf->ksk_ds_digest_type, cf->ksk_ds_digest,
			            ds[i].key_tag, ds[i].digest);
		}
	}
	if (!cf->has_ksk) {
		ms_zone_log(zone, LOG_INFO, "DS for the registrar: Cloudflare has not reported its KSK "
		            "yet (its DNSSEC details have no public key); its DS follows once it does");
	}
}

typedef struct {
	ms_local_view_t local;
	ms_cf_view_t cf;
	ms_plan_t plan;
	int64_t planned_at;        /* wall clock the plan was made for */
	ms_zone_state_t state;     /* the zone's state at the start of the pass */
	ms_zone_state_t new_state;
} pass_data_t;

/* Half the time knotd waits between a key's publish time and its first
 * signature, at least a second. */
static double hold_recheck(const ms_zone_t *zone, const ms_local_view_t *local)
{
	double lead = (double)zone->env.propagation_delay + (double)local->dnskey_ttl;
	return lead / 2 > 1.0 ? lead / 2 : 1.0;
}

static double retry_later(struct ms_sync_zone *s, double now, uint32_t interval)
{
	double delay = RETRY_MIN * (double)(1u << (s->failures < 6 ? s->failures : 6));
	s->failures++;
	return now + (delay < interval ? delay : interval);
}

/* Our settings writes answer with the settings as they are now: keep those
 * instead of reading them again next pass (a write without an answer makes
 * the next pass read them). Record writes leave the settings as they were. */
static void note_settings_written(ms_cf_cache_t *cache, const ms_sync_writers_t *w)
{
	if ((w->dnssec_written && !w->dnssec_answered) || (w->dns_written && !w->dns_answered)) {
		cache->settings_known = false;
		return;
	}
	if (w->dnssec_answered) {
		cache->dnssec = w->dnssec;
	}
	if (w->dns_answered) {
		cache->dns_settings = w->dns_settings;
	}
}

/* *changes: what calls for a prompt re-check; *holds: new ZSKs held back. */
static ms_rc_t plan_and_apply(ms_zone_t *zone, struct ms_sync_zone *s, pass_data_t *d,
                              unsigned *changes, unsigned *holds, ms_err_t *err)
{
	int64_t wall = d->planned_at = (int64_t)time(NULL);
	ms_plan_settings_t ps;
	ms_plan_settings_from(&zone->settings, zone->name, s->marker, zone->settings.hold_time,
	                      &ps);
	ps.hold_activation = true;
	ps.propagation_delay = zone->env.propagation_delay;
	ms_rc_t rc = ms_plan(&d->local, &d->cf, &d->state, wall, &ps, &d->plan, &d->new_state, err);
	if (rc != MS_OK) {
		return rc;
	}
	log_warnings(zone, s, &d->plan);
	ms_sync_writers_t w;
	ms_sync_writers_init(&w, zone, s->client, d->cf.zone_id);
	ms_apply_result_t result;
	ms_apply(zone, &d->plan, s->marker, &w.cf, &w.local, &d->new_state, wall,
	         zone->settings.dry_run, &result);
	*changes = result.changes - result.holds;
	*holds = result.holds;
	if (result.failures > 0) {
		/* A refused write may have changed Cloudflare's settings anyway. */
		s->cf_cache.settings_known = false;
	} else {
		note_settings_written(&s->cf_cache, &w);
	}
	if (w.keys_written) {
		/* Our key database writes (import, delete, hold): list it afresh,
		 * but without asking keymgr for the records we imported. */
		ms_keys_cache_invalidate(&s->keys_cache);
		for (size_t i = 0; i < w.imported_count; i++) {
			(void)ms_keys_cache_learn(&s->keys_cache, w.imported[i].id, &w.imported[i].key);
		}
	}
	if (!zone->settings.dry_run) {
		ms_err_t save_err = { 0 };
		if (save_state(zone, s, &d->new_state, &save_err) != MS_OK) {
			ms_zone_log(zone, LOG_ERR, "cannot save state: %s; check the permissions of "
			            "%s", save_err.msg, zone->env.state_dir);
		}
	}
	if (result.failures > 0) {
		*err = result.first_error;
		return result.first_error.rc != MS_OK ? result.first_error.rc : MS_EIO;
	}
	return MS_OK;
}

/* The earlier of two follow-up times, 0 meaning none. */
static double sooner(double a, double b)
{
	return a == 0 ? b : (b == 0 || a < b ? a : b);
}

/* The monotonic time of the pass that adds the NS records the plan had to
 * leave out until the keys settle, a second late so that they have; 0: none. */
static double ns_join_followup(const pass_data_t *d, double now)
{
	if (d->plan.ns_join_at == 0) {
		return 0;
	}
	/* From the plan's own clock: a reading taken after the actions ran
	 * would bring the follow-up forward by their duration. */
	int64_t wait = d->plan.ns_join_at - d->planned_at;
	return now + (double)(wait > 0 ? wait : 0) + 1.0;
}

/* Returns the follow-up time (0: the next routine check will do). */
static double run(ms_zone_t *zone, struct ms_sync_zone *s, pass_data_t *d, double now,
                  bool routine_due)
{
	uint32_t interval = zone->settings.check_interval;
	ms_err_t err = { 0 };
	ms_rc_t rc = ms_observe_local(zone, &s->keys_cache, now, &d->local, &err);
	bool routine = routine_due || s->recheck || s->holding || s->join_waiting;
	uint64_t fp = ms_local_view_fingerprint(&d->local);
	if (rc == MS_OK && !routine && fp == s->last_fingerprint && s->failures == 0) {
		return 0; /* an event, but nothing we sync changed */
	}
	if (rc == MS_OK) {
		ms_cf_cache_expire(&s->cf_cache, now);
		rc = ms_observe_cf(s->client, zone->name, zone->settings.zone_id, &s->cf_cache, now,
		                   &d->cf, &err);
	}
	const struct sockaddr_storage *asked = NULL;
	size_t asked_count = 0;
	if (rc == MS_OK) {
		asked_count = observe_served(zone, s, &d->cf, now, &asked);
	}
	unsigned changes = 0, holds = 0;
	if (rc == MS_OK || d->local.complete || d->cf.complete) {
		/* A partial view still lets the planner add; it never deletes. */
		ms_err_t perr = { 0 };
		ms_rc_t prc = plan_and_apply(zone, s, d, &changes, &holds,
		                             rc == MS_OK ? &err : &perr);
		rc = (rc == MS_OK) ? prc : rc;
	}
	/* A held key is only held until publish + propagation-delay + DNSKEY TTL:
	 * come back well before that runs out, whatever else happens. */
	double hold_by = holds > 0 ? now + hold_recheck(zone, &d->local) : 0;
	s->holding = holds > 0;
	double join_by = ns_join_followup(d, now);
	s->join_waiting = join_by > 0;
	double come_back = sooner(hold_by, join_by);
	if (atomic_load(&zone->abort)) {
		return 0; /* unloading: nothing more to say */
	}
	ms_zone_count(zone, MS_CTR_SYNC_PASSES, 1);
	check_cds(zone, s, &d->local, &d->cf, asked, asked_count);
	bool planned = d->new_state.zone[0] != '\0';
	ms_sync_status_write(zone, &s->status, &d->local, &d->cf,
	                     planned ? &d->new_state : &d->state, planned ? &d->plan : NULL,
	                     rc == MS_OK ? NULL : err.msg);
	if (rc != MS_OK) {
		ms_zone_log(zone, s->failures == 0 ? LOG_WARNING : LOG_NOTICE,
		            "sync pass incomplete: %s", err.msg);
		return sooner(retry_later(s, now, interval), come_back);
	}
	report_ds(zone, s, &d->local, &d->cf);
	s->failures = 0;
	s->last_fingerprint = fp;
	s->recheck = (changes > 0 && !zone->settings.dry_run);
	return sooner(s->recheck ? now + RECHECK_AFTER_CHANGE : 0, come_back);
}

double ms_sync_pass(ms_zone_t *zone, double now, bool routine)
{
	ms_err_t err = { 0 };
	if (zone->sync == NULL && sync_zone_init(zone, &err) != MS_OK) {
		ms_zone_log(zone, LOG_ERR, "cannot start syncing: %s", err.msg);
		return 0; /* the next routine check tries again */
	}
	struct ms_sync_zone *s = zone->sync;
	pass_data_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return now + RETRY_MIN;
	}
	if (!s->state_loaded) {
		load_state(zone, s, &d->state);
		ms_err_t dir_err = { 0 };
		/* The state directory also holds the key files handed to keymgr,
		 * which this pass may need before any state was saved;
		 * save_state() reports a failure. */
		(void)ms_state_dir_ensure(zone->env.state_dir, &dir_err);
	}
	if (!s->state_loaded || ms_zone_state_unpack(&s->state, zone->name, &d->state, &err)
	                        != MS_OK) {
		/* Out of memory: going on could overwrite the saved state. */
		if (err.msg[0] != '\0') {
			ms_zone_log(zone, LOG_WARNING, "sync pass incomplete: %s", err.msg);
		}
		free(d);
		return now + RETRY_MIN;
	}
	s->pass_requests = 0;
	s->pass_writes = 0;
	double next = run(zone, s, d, now, routine);
	free(d);
	char then[48] = "next at the routine check";
	if (next > 0) {
		snprintf(then, sizeof(then), "follow-up in %.0f s", next > now ? next - now : 0.0);
	}
	ms_zone_log(zone, LOG_DEBUG, "pass done: %u API requests, %u of them writes; %s",
	            s->pass_requests, s->pass_writes, then);
	return next;
}
