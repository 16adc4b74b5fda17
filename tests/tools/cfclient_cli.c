/*
 * cfclient_cli: drive the Cloudflare API client from the command line, one
 * call per run, and print the outcome as one JSON object on stdout, for the
 * pytest integration tests (tests/integration/test_client.py) that run it
 * against the simulator. Not installed; not part of the module.
 *
 *   cfclient_cli --url URL (--token-env VAR | --token-file F | --email E --key-file F)
 *                [options] COMMAND ARGS...
 * Exit status: 0 success, 1 the call failed, 2 usage error.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cf_client.h"
#include "cf_wait.h"
#include "secret.h"

typedef struct {
	unsigned requests;
	unsigned failures;
} counts_t;

static atomic_bool abort_flag;
static _Atomic uint64_t abort_set_at_ms;

static void count_request(void *ctx, ms_rc_t rc, long http_status, bool write)
{
	(void)http_status;
	(void)write;
	counts_t *n = ctx;
	n->requests++;
	if (rc != MS_OK) {
		n->failures++;
	}
}

static const char *rc_symbol(ms_rc_t rc)
{
	static const char *names[] = {
		"MS_OK", "MS_ENOMEM", "MS_EINVAL", "MS_EIO", "MS_ETRANSPORT", "MS_ETIMEOUT",
		"MS_EABORTED", "MS_EHTTP", "MS_EAPI", "MS_EPARSE", "MS_ERATELIMIT", "MS_ENOTFOUND",
		"MS_ETOOBIG",
	};
	return (size_t)rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "MS_UNKNOWN";
}

/* ---- JSON out ------------------------------------------------------------ */

static json_object *key_json(const ms_dnskey_t *k)
{
	char b64[MS_DNSKEY_B64_MAX];
	json_object *o = json_object_new_object();
	ms_dnskey_pubkey_b64(k, b64, sizeof(b64));
	json_object_object_add(o, "flags", json_object_new_int(k->flags));
	json_object_object_add(o, "protocol", json_object_new_int(k->protocol));
	json_object_object_add(o, "algorithm", json_object_new_int(k->algorithm));
	json_object_object_add(o, "public_key", json_object_new_string(b64));
	json_object_object_add(o, "key_tag", json_object_new_int(ms_dnskey_tag(k)));
	return o;
}

static json_object *record_json(const ms_cf_record_t *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "type", json_object_new_string(r->type_text));
	json_object_object_add(o, "ttl", json_object_new_int64(r->ttl));
	json_object_object_add(o, "comment", r->has_comment ? json_object_new_string(r->comment)
	                                                    : NULL);
	json_object *tags = json_object_new_array();
	for (size_t i = 0; i < r->tag_count; i++) {
		json_object_array_add(tags, json_object_new_string(r->tags[i]));
	}
	json_object_object_add(o, "tags", tags);
	if (r->type == MS_CF_RR_DNSKEY) {
		json_object_object_add(o, "dnskey", key_json(&r->dnskey));
	} else if (r->type == MS_CF_RR_NS) {
		json_object_object_add(o, "ns_host", json_object_new_string(r->ns_host));
	}
	return o;
}

static json_object *records_json(const ms_cf_record_list_t *l)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < l->count; i++) {
		json_object_array_add(a, record_json(&l->items[i]));
	}
	return a;
}

static json_object *zone_json(const ms_cf_zone_t *z)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(z->id));
	json_object_object_add(o, "name", json_object_new_string(z->name));
	json_object_object_add(o, "status", json_object_new_string(z->status));
	json_object_object_add(o, "type", json_object_new_string(z->type));
	json_object_object_add(o, "paused", json_object_new_boolean(z->paused));
	json_object *ns = json_object_new_array();
	for (size_t i = 0; i < z->name_server_count; i++) {
		json_object_array_add(ns, json_object_new_string(z->name_servers[i]));
	}
	json_object_object_add(o, "name_servers", ns);
	return o;
}

static json_object *dnssec_json(const ms_cf_dnssec_t *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(d->status_text));
	json_object_object_add(o, "status_known",
	                       json_object_new_string(ms_cf_dnssec_status_name(d->status)));
	json_object_object_add(o, "enabled", json_object_new_boolean(ms_cf_dnssec_enabled(d->status)));
	json_object_object_add(o, "multi_signer", json_object_new_boolean(d->multi_signer));
	json_object_object_add(o, "presigned", json_object_new_boolean(d->presigned));
	json_object_object_add(o, "use_nsec3", json_object_new_boolean(d->use_nsec3));
	json_object_object_add(o, "ksk", d->has_ksk ? key_json(&d->ksk) : NULL);
	json_object_object_add(o, "key_tag", json_object_new_int(d->key_tag));
	json_object_object_add(o, "algorithm", json_object_new_int(d->algorithm));
	json_object_object_add(o, "digest_type", json_object_new_int(d->digest_type));
	json_object_object_add(o, "digest", json_object_new_string(d->digest));
	json_object_object_add(o, "ds", json_object_new_string(d->ds));
	return o;
}

static json_object *settings_json(const ms_cf_dns_settings_t *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "multi_provider", json_object_new_boolean(s->multi_provider));
	json_object_object_add(o, "ns_ttl", json_object_new_int64(s->ns_ttl));
	return o;
}

static json_object *zsks_json(const ms_cf_zsk_list_t *l)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < l->count; i++) {
		const ms_cf_zsk_t *z = &l->items[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "state", json_object_new_string(z->state_text));
		json_object_object_add(o, "state_known",
		                       json_object_new_string(ms_cf_zsk_state_name(z->state)));
		json_object_object_add(o, "served", json_object_new_boolean(ms_cf_zsk_served(z)));
		json_object_object_add(o, "name", json_object_new_string(z->name));
		json_object_object_add(o, "ttl", json_object_new_int64(z->ttl));
		json_object_object_add(o, "key", key_json(&z->key));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *error_json(ms_rc_t rc, const ms_err_t *e)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "rc", json_object_new_string(rc_symbol(rc)));
	json_object_object_add(o, "rc_name", json_object_new_string(ms_rc_name(rc)));
	json_object_object_add(o, "http_status", json_object_new_int64(e->http_status));
	json_object *codes = json_object_new_array();
	for (size_t i = 0; i < e->api_code_count; i++) {
		json_object_array_add(codes, json_object_new_int(e->api_codes[i]));
	}
	json_object_object_add(o, "api_codes", codes);
	json_object_object_add(o, "message", json_object_new_string(e->msg));
	return o;
}

/* ---- commands ------------------------------------------------------------ */

static int usage(const char *why)
{
	fprintf(stderr, "cfclient_cli: %s\n"
	        "usage: cfclient_cli --url URL (--token-env VAR | --token-file F | --email E "
	        "--key-file F) [options] COMMAND ARGS\n"
	        "commands: verify | find-zone NAME | zone ID | dnssec ID |\n"
	        "  dnssec-patch ID [status=active|disabled] [multi_signer=true|false] |\n"
	        "  settings ID | multi-provider ID true|false | list ID DNSKEY|NS|NS+DNSKEY NAME |\n"
	        "  create-dnskey ID NAME TTL RDATA [COMMENT] | create-ns ID NAME TTL HOST [COMMENT] |\n"
	        "  delete ID RECORD_ID | zsk ID |\n"
	        "  batch ID [del:RECORD_ID]... [ns:NAME:TTL:HOST[:COMMENT]]... "
	        "[dnskey:NAME:TTL:RDATA[:COMMENT]]...\n", why);
	return 2;
}

static bool need_args(int argc, int want)
{
	return argc >= want;
}

static ms_rc_t cmd_dnssec_patch(ms_cf_client_t *c, int argc, char **argv, json_object **res,
                                ms_err_t *e)
{
	ms_cf_dnssec_patch_t p = { 0 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "status=active") == 0) {
			p.status = MS_CF_DNSSEC_ACTIVE;
		} else if (strcmp(argv[i], "status=disabled") == 0) {
			p.status = MS_CF_DNSSEC_DISABLED;
		} else if (strcmp(argv[i], "multi_signer=true") == 0) {
			p.multi_signer = MS_CF_SET_TRUE;
		} else if (strcmp(argv[i], "multi_signer=false") == 0) {
			p.multi_signer = MS_CF_SET_FALSE;
		} else {
			return ms_err_set(e, MS_EINVAL, "unknown dnssec-patch argument %s", argv[i]);
		}
	}
	ms_cf_dnssec_t d;
	ms_rc_t rc = ms_cf_patch_dnssec(c, argv[0], &p, &d, e);
	if (rc == MS_OK) {
		*res = dnssec_json(&d);
	}
	return rc;
}

/* "NAME:TTL:VALUE[:COMMENT]" into a record of the given type. */
static ms_rc_t parse_record_spec(ms_cf_rrtype_t type, char *spec, ms_cf_record_t *rec,
                                 ms_err_t *e)
{
	char *name = strtok(spec, ":");
	char *ttl = strtok(NULL, ":");
	char *value = strtok(NULL, ":");
	char *comment = strtok(NULL, "");
	if (name == NULL || ttl == NULL || value == NULL) {
		return ms_err_set(e, MS_EINVAL, "record spec needs NAME:TTL:VALUE");
	}
	if (type == MS_CF_RR_NS) {
		ms_cf_record_ns(rec, name, (uint32_t)strtoul(ttl, NULL, 10), value, comment);
		return MS_OK;
	}
	ms_dnskey_t key;
	ms_rc_t rc = ms_dnskey_from_text(value, &key, e);
	if (rc == MS_OK) {
		ms_cf_record_dnskey(rec, name, (uint32_t)strtoul(ttl, NULL, 10), &key, comment);
	}
	return rc;
}

static ms_rc_t cmd_create(ms_cf_client_t *c, ms_cf_rrtype_t type, int argc, char **argv,
                          json_object **res, ms_err_t *e)
{
	char spec[4096];
	snprintf(spec, sizeof(spec), "%s:%s:%s%s%s", argv[1], argv[2], argv[3],
	         argc > 4 ? ":" : "", argc > 4 ? argv[4] : "");
	ms_cf_record_t rec, created;
	ms_rc_t rc = parse_record_spec(type, spec, &rec, e);
	if (rc == MS_OK) {
		rc = ms_cf_create_record(c, argv[0], &rec, &created, e);
	}
	if (rc == MS_OK) {
		*res = record_json(&created);
	}
	return rc;
}

static ms_rc_t cmd_batch(ms_cf_client_t *c, int argc, char **argv, json_object **res,
                         ms_err_t *e)
{
	const char **dels = calloc((size_t)argc, sizeof(*dels));
	ms_cf_record_t *posts = calloc((size_t)argc, sizeof(*posts));
	ms_cf_batch_t b = { .delete_ids = dels, .posts = posts };
	ms_rc_t rc = (dels && posts) ? MS_OK : ms_err_set(e, MS_ENOMEM, "out of memory");
	for (int i = 1; rc == MS_OK && i < argc; i++) {
		if (strncmp(argv[i], "del:", 4) == 0) {
			dels[b.delete_count++] = argv[i] + 4;
		} else if (strncmp(argv[i], "ns:", 3) == 0) {
			rc = parse_record_spec(MS_CF_RR_NS, argv[i] + 3, &posts[b.post_count++], e);
		} else if (strncmp(argv[i], "dnskey:", 7) == 0) {
			rc = parse_record_spec(MS_CF_RR_DNSKEY, argv[i] + 7, &posts[b.post_count++], e);
		} else {
			rc = ms_err_set(e, MS_EINVAL, "unknown batch operation %s", argv[i]);
		}
	}
	ms_cf_record_list_t created = { 0 };
	if (rc == MS_OK) {
		rc = ms_cf_batch(c, argv[0], &b, &created, e);
	}
	if (rc == MS_OK) {
		*res = json_object_new_object();
		json_object_object_add(*res, "created", records_json(&created));
	}
	ms_cf_record_list_free(&created);
	free(dels);
	free(posts);
	return rc;
}

static ms_rc_t run_command(ms_cf_client_t *c, const char *cmd, int argc, char **argv,
                           json_object **res, ms_err_t *e, bool *usage_error)
{
	*usage_error = false;
	static const struct { const char *name; int args; } arity[] = {
		{ "verify", 0 }, { "find-zone", 1 }, { "zone", 1 }, { "dnssec", 1 },
		{ "dnssec-patch", 1 }, { "settings", 1 }, { "multi-provider", 2 }, { "list", 3 },
		{ "create-dnskey", 4 }, { "create-ns", 4 }, { "delete", 2 }, { "zsk", 1 },
		{ "batch", 1 },
	};
	bool known = false;
	for (size_t i = 0; i < sizeof(arity) / sizeof(arity[0]); i++) {
		if (strcmp(cmd, arity[i].name) == 0) {
			known = true;
			*usage_error = !need_args(argc, arity[i].args);
		}
	}
	if (!known || *usage_error) {
		*usage_error = true;
		return MS_EINVAL;
	}
	ms_rc_t rc;
	if (strcmp(cmd, "verify") == 0) {
		ms_cf_token_t t;
		rc = ms_cf_verify_token(c, &t, e);
		if (rc == MS_OK) {
			*res = json_object_new_object();
			json_object_object_add(*res, "id", json_object_new_string(t.id));
			json_object_object_add(*res, "status", json_object_new_string(t.status_text));
			json_object_object_add(*res, "active",
			                       json_object_new_boolean(t.status == MS_CF_TOKEN_ACTIVE));
			json_object_object_add(*res, "expires_on", json_object_new_string(t.expires_on));
		}
	} else if (strcmp(cmd, "find-zone") == 0 || strcmp(cmd, "zone") == 0) {
		ms_cf_zone_t z;
		rc = (cmd[0] == 'f') ? ms_cf_find_zone(c, argv[0], &z, e)
		                     : ms_cf_get_zone(c, argv[0], &z, e);
		if (rc == MS_OK) {
			*res = zone_json(&z);
		}
	} else if (strcmp(cmd, "dnssec") == 0) {
		ms_cf_dnssec_t d;
		rc = ms_cf_get_dnssec(c, argv[0], &d, e);
		if (rc == MS_OK) {
			*res = dnssec_json(&d);
		}
	} else if (strcmp(cmd, "dnssec-patch") == 0) {
		rc = cmd_dnssec_patch(c, argc, argv, res, e);
	} else if (strcmp(cmd, "settings") == 0 || strcmp(cmd, "multi-provider") == 0) {
		ms_cf_dns_settings_t s;
		rc = (cmd[0] == 's') ? ms_cf_get_dns_settings(c, argv[0], &s, e)
		                     : ms_cf_set_multi_provider(c, argv[0],
		                                                strcmp(argv[1], "true") == 0, &s, e);
		if (rc == MS_OK) {
			*res = settings_json(&s);
		}
	} else if (strcmp(cmd, "list") == 0) {
		ms_cf_record_list_t l;
		ms_cf_rrtype_t t = strcmp(argv[1], "NS") == 0       ? MS_CF_RR_NS
		                   : strcmp(argv[1], "DNSKEY") == 0 ? MS_CF_RR_DNSKEY
		                                                    : MS_CF_RR_OTHER;
		rc = strcmp(argv[1], "NS+DNSKEY") == 0
		     ? ms_cf_list_ns_dnskey(c, argv[0], argv[2], &l, e)
		     : ms_cf_list_records(c, argv[0], t, argv[2], &l, e);
		if (rc == MS_OK) {
			*res = json_object_new_object();
			json_object_object_add(*res, "records", records_json(&l));
		}
		ms_cf_record_list_free(&l);
	} else if (strcmp(cmd, "create-dnskey") == 0) {
		rc = cmd_create(c, MS_CF_RR_DNSKEY, argc, argv, res, e);
	} else if (strcmp(cmd, "create-ns") == 0) {
		rc = cmd_create(c, MS_CF_RR_NS, argc, argv, res, e);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = ms_cf_delete_record(c, argv[0], argv[1], e);
		if (rc == MS_OK) {
			*res = json_object_new_object();
			json_object_object_add(*res, "deleted", json_object_new_string(argv[1]));
		}
	} else if (strcmp(cmd, "zsk") == 0) {
		ms_cf_zsk_list_t l;
		rc = ms_cf_list_zsks(c, argv[0], &l, e);
		if (rc == MS_OK) {
			*res = json_object_new_object();
			json_object_object_add(*res, "zsks", zsks_json(&l));
		}
		ms_cf_zsk_list_free(&l);
	} else {
		rc = cmd_batch(c, argc, argv, res, e);
	}
	return rc;
}

/* ---- options ------------------------------------------------------------- */

typedef struct {
	ms_cf_config_t cf;
	ms_ratelimit_config_t rl;
	const char *token_env;
	const char *token_file;
	const char *key_file;
	long abort_after_ms;
	long repeat;
} options_t;

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 10);
}

static int parse_options(int argc, char **argv, options_t *o)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token-env", required_argument, NULL, 'T' },
		{ "token-file", required_argument, NULL, 't' },
		{ "email", required_argument, NULL, 'E' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 1 },
		{ "connect-timeout-ms", required_argument, NULL, 2 },
		{ "max-body", required_argument, NULL, 3 },
		{ "per-page", required_argument, NULL, 4 },
		{ "rate-budget", required_argument, NULL, 5 },
		{ "rate-window", required_argument, NULL, 6 },
		{ "rate-pct", required_argument, NULL, 7 },
		{ "max-rate-wait-ms", required_argument, NULL, 8 },
		{ "max-attempts", required_argument, NULL, 9 },
		{ "base-delay-ms", required_argument, NULL, 10 },
		{ "max-delay-ms", required_argument, NULL, 11 },
		{ "max-total-ms", required_argument, NULL, 12 },
		{ "abort-after-ms", required_argument, NULL, 13 },
		{ "repeat", required_argument, NULL, 14 },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': o->cf.api_url = optarg; break;
		case 'T': o->token_env = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'E': o->cf.email = optarg; o->cf.auth_kind = MS_AUTH_GLOBAL_KEY; break;
		case 'K': o->key_file = optarg; break;
		case 'c': o->cf.ca_file = optarg; break;
		case 1: o->cf.timeout_ms = (uint32_t)num(optarg); break;
		case 2: o->cf.connect_timeout_ms = (uint32_t)num(optarg); break;
		case 3: o->cf.max_body = num(optarg); break;
		case 4: o->cf.per_page = (uint32_t)num(optarg); break;
		case 5: o->rl.budget = (uint32_t)num(optarg); break;
		case 6: o->rl.window_s = (uint32_t)num(optarg); break;
		case 7: o->rl.use_pct = (uint32_t)num(optarg); break;
		case 8: o->cf.max_rate_wait_ms = (uint32_t)num(optarg); break;
		case 9: o->cf.backoff.max_attempts = (unsigned)num(optarg); break;
		case 10: o->cf.backoff.base_delay_ms = (uint32_t)num(optarg); break;
		case 11: o->cf.backoff.max_delay_ms = (uint32_t)num(optarg); break;
		case 12: o->cf.backoff.max_total_ms = (uint32_t)num(optarg); break;
		case 13: o->abort_after_ms = (long)num(optarg); break;
		case 14: o->repeat = (long)num(optarg); break;
		default: return -1;
		}
	}
	return optind;
}

/* Read the credential: a secret file (mode 0600), or an environment variable. */
static ms_rc_t read_credential(const options_t *o, char **secret, ms_err_t *e)
{
	const char *file = o->cf.auth_kind == MS_AUTH_GLOBAL_KEY ? o->key_file : o->token_file;
	if (file != NULL) {
		return ms_secret_read(file, secret, e);
	}
	const char *v = o->token_env ? getenv(o->token_env) : NULL;
	if (v == NULL || (*secret = strdup(v)) == NULL) {
		return ms_err_set(e, MS_EINVAL, "no credential: use --token-env, --token-file or "
		                  "--email with --key-file");
	}
	return MS_OK;
}

static void *abort_later(void *arg)
{
	long ms = *(long *)arg;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(&abort_set_at_ms, ms_cf_now_ms());
	atomic_store(&abort_flag, true);
	return NULL;
}

static int finish(json_object *out, bool ok)
{
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	options_t o = { .repeat = 1 };
	int first = parse_options(argc, argv, &o);
	if (first < 0 || first >= argc || o.cf.api_url == NULL) {
		return usage(first < 0 ? "bad option" : "missing --url or command");
	}
	ms_err_t e = { 0 };
	counts_t counts = { 0 };
	char *secret = NULL;
	ms_ratelimit_t *rl = NULL;
	ms_cf_client_t *c = NULL;
	ms_rc_t rc = read_credential(&o, &secret, &e);
	if (rc == MS_OK) {
		rc = ms_ratelimit_new(&o.rl, &rl, &e);
	}
	if (rc == MS_OK) {
		o.cf.secret = secret;
		o.cf.ratelimit = rl;
		o.cf.abort_flag = &abort_flag;
		o.cf.on_request = count_request;
		o.cf.hook_ctx = &counts;
		rc = ms_cf_client_new(&o.cf, &c, &e);
	}
	ms_secret_free(secret);
	pthread_t aborter;
	bool aborter_started = false;
	uint64_t start = ms_cf_now_ms();
	if (rc == MS_OK && o.abort_after_ms > 0) {
		aborter_started = pthread_create(&aborter, NULL, abort_later, &o.abort_after_ms) == 0;
	}
	json_object *result = NULL;
	bool usage_error = false;
	for (long i = 0; rc == MS_OK && i < o.repeat; i++) {
		json_object_put(result);
		result = NULL;
		rc = run_command(c, argv[first], argc - first - 1, argv + first + 1, &result, &e,
		                 &usage_error);
	}
	uint64_t end = ms_cf_now_ms();
	if (aborter_started) {
		pthread_join(aborter, NULL);
	}
	ms_cf_client_free(c);
	ms_ratelimit_free(rl);
	if (usage_error) {
		json_object_put(result);
		return usage("unknown command or missing arguments");
	}
	json_object *out = json_object_new_object();
	json_object_object_add(out, "ok", json_object_new_boolean(rc == MS_OK));
	json_object_object_add(out, "command", json_object_new_string(argv[first]));
	json_object_object_add(out, rc == MS_OK ? "result" : "error",
	                       rc == MS_OK ? result : error_json(rc, &e));
	if (rc != MS_OK) {
		json_object_put(result);
	}
	json_object_object_add(out, "requests", json_object_new_int(counts.requests));
	json_object_object_add(out, "failures", json_object_new_int(counts.failures));
	json_object_object_add(out, "elapsed_ms", json_object_new_int64((int64_t)(end - start)));
	uint64_t set_at = atomic_load(&abort_set_at_ms);
	if (set_at != 0 && set_at <= end) {
		json_object_object_add(out, "abort_latency_ms",
		                       json_object_new_int64(end >= set_at ? (int64_t)(end - set_at) : 0));
	}
	return finish(out, rc == MS_OK);
}
