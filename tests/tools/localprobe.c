/*
 * localprobe: drive the local-zone adapters (local_dns, keymgr, knotc) from
 * the command line and print the result as one JSON object, for
 * tests/integration/test_local_adapters.py.
 *
 *   localprobe dns <addr> <port> <zone> [timeout_ms]
 *   localprobe list <kasp-db> <zone> [dnskeys]
 *   localprobe dnskey <kasp-db> <zone> <id>
 *   localprobe import <kasp-db> <zone> "<flags> <protocol> <algorithm> <base64>"
 *   localprobe delete <kasp-db> <zone> <id>
 *   localprobe set-publish <kasp-db> <zone> <id> <unix-time>
 *   localprobe keys-load <control-socket> <zone>
 *
 * Success: exit 0, {"ok": true, ...}. Failure: exit 1,
 * {"ok": false, "rc": "<ms_rc_name>", "message": "..."}. Usage: exit 2.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dnskey.h"
#include "error.h"
#include "keymgr.h"
#include "local_dns.h"

static json_object *key_json(const ms_dnskey_t *k)
{
	json_object *o = json_object_new_object();
	char b64[MS_DNSKEY_B64_MAX];
	ms_dnskey_pubkey_b64(k, b64, sizeof(b64));
	json_object_object_add(o, "flags", json_object_new_int(k->flags));
	json_object_object_add(o, "protocol", json_object_new_int(k->protocol));
	json_object_object_add(o, "algorithm", json_object_new_int(k->algorithm));
	json_object_object_add(o, "tag", json_object_new_int(ms_dnskey_tag(k)));
	json_object_object_add(o, "key", json_object_new_string(b64));
	return o;
}

static json_object *tags_json(const uint16_t *tags, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(a, json_object_new_int(tags[i]));
	}
	return a;
}

static int finish(json_object *o, ms_rc_t rc, const ms_err_t *err)
{
	if (rc != MS_OK) {
		json_object_put(o);
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "rc", json_object_new_string(ms_rc_name(rc)));
		json_object_object_add(o, "message", json_object_new_string(err->msg));
	} else {
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return rc == MS_OK ? 0 : 1;
}

static int do_dns(int argc, char **argv)
{
	ms_err_t err = { 0 };
	ms_local_dns_target_t t;
	ms_rc_t rc = ms_local_dns_target_set(&t, argv[2], (uint16_t)atoi(argv[3]), &err);
	if (argc > 5) {
		t.timeout_ms = atoi(argv[5]);
	}
	ms_local_zone_t *z = calloc(1, sizeof(*z));
	if (rc == MS_OK) {
		rc = ms_local_dns_read(&t, argv[4], z, &err);
	}
	json_object *o = json_object_new_object();
	if (rc == MS_OK) {
		json_object_object_add(o, "soa_serial", json_object_new_int64(z->soa_serial));
		json_object_object_add(o, "soa_ttl", json_object_new_int64(z->soa_ttl));
		json_object_object_add(o, "soa_sig_tags", tags_json(z->soa_sig_tags, z->soa_sig_count));
		json_object *keys = json_object_new_array();
		for (size_t i = 0; i < z->dnskey_count; i++) {
			json_object_array_add(keys, key_json(&z->dnskeys[i]));
		}
		json_object_object_add(o, "dnskeys", keys);
		json_object_object_add(o, "dnskey_ttl", json_object_new_int64(z->dnskey_ttl));
		json_object_object_add(o, "dnskey_sig_tags",
		                       tags_json(z->dnskey_sig_tags, z->dnskey_sig_count));
		json_object *ns = json_object_new_array();
		for (size_t i = 0; i < z->ns_count; i++) {
			json_object_array_add(ns, json_object_new_string(z->ns[i]));
		}
		json_object_object_add(o, "ns", ns);
		json_object_object_add(o, "ns_ttl", json_object_new_int64(z->ns_ttl));
	}
	free(z);
	return finish(o, rc, &err);
}

static int do_list(const ms_keymgr_ctx_t *ctx, const char *zone, bool dnskeys)
{
	ms_err_t err = { 0 };
	ms_keymgr_keys_t *ks = calloc(1, sizeof(*ks));
	ms_rc_t rc = ms_keymgr_list(ctx, zone, dnskeys, ks, &err);
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	for (size_t i = 0; rc == MS_OK && i < ks->count; i++) {
		const ms_keymgr_key_t *k = &ks->keys[i];
		json_object *e = json_object_new_object();
		json_object_object_add(e, "id", json_object_new_string(k->id));
		json_object_object_add(e, "tag", json_object_new_int(k->tag));
		json_object_object_add(e, "algorithm", json_object_new_int(k->algorithm));
		json_object_object_add(e, "ksk", json_object_new_boolean(k->ksk));
		json_object_object_add(e, "zsk", json_object_new_boolean(k->zsk));
		json_object_object_add(e, "public_only", json_object_new_boolean(k->public_only));
		json_object_object_add(e, "publish", json_object_new_int64(k->publish));
		json_object_object_add(e, "ready", json_object_new_int64(k->ready));
		json_object_object_add(e, "active", json_object_new_int64(k->active));
		json_object_object_add(e, "retire", json_object_new_int64(k->retire));
		json_object_object_add(e, "remove", json_object_new_int64(k->remove));
		if (k->has_dnskey) {
			json_object_object_add(e, "dnskey", key_json(&k->dnskey));
		}
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "keys", arr);
	free(ks);
	return finish(o, rc, &err);
}

static int usage(void)
{
	fprintf(stderr, "usage: localprobe dns <addr> <port> <zone> [timeout_ms]\n"
	                "       localprobe list <kasp-db> <zone> [dnskeys]\n"
	                "       localprobe dnskey <kasp-db> <zone> <id>\n"
	                "       localprobe import <kasp-db> <zone> \"<flags> <proto> <alg> <b64>\"\n"
	                "       localprobe delete <kasp-db> <zone> <id>\n"
	                "       localprobe set-publish <kasp-db> <zone> <id> <unix-time>\n"
	                "       localprobe keys-load <control-socket> <zone>\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		return usage();
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "dns") == 0) {
		return argc >= 5 ? do_dns(argc, argv) : usage();
	}
	ms_err_t err = { 0 };
	json_object *o = json_object_new_object();
	if (strcmp(cmd, "keys-load") == 0) {
		ms_knotc_ctx_t kc = { .socket = argv[2] };
		return finish(o, ms_knotc_zone_keys_load(&kc, argv[3], &err), &err);
	}
	ms_keymgr_ctx_t ctx = { .kasp_db = argv[2] };
	const char *zone = argv[3];
	if (strcmp(cmd, "list") == 0) {
		json_object_put(o);
		return do_list(&ctx, zone, argc > 4 && strcmp(argv[4], "dnskeys") == 0);
	}
	if (argc < 5) {
		json_object_put(o);
		return usage();
	}
	if (strcmp(cmd, "dnskey") == 0) {
		ms_dnskey_t k;
		ms_rc_t rc = ms_keymgr_dnskey(&ctx, zone, argv[4], &k, &err);
		if (rc == MS_OK) {
			json_object_object_add(o, "dnskey", key_json(&k));
		}
		return finish(o, rc, &err);
	}
	if (strcmp(cmd, "import") == 0) {
		ms_dnskey_t k;
		char id[MS_KEYMGR_ID_LEN + 1];
		ms_rc_t rc = ms_dnskey_from_text(argv[4], &k, &err);
		if (rc == MS_OK) {
			rc = ms_keymgr_import_pub(&ctx, zone, &k, id, &err);
		}
		if (rc == MS_OK) {
			json_object_object_add(o, "id", json_object_new_string(id));
			json_object_object_add(o, "tag", json_object_new_int(ms_dnskey_tag(&k)));
		}
		return finish(o, rc, &err);
	}
	if (strcmp(cmd, "delete") == 0) {
		return finish(o, ms_keymgr_delete(&ctx, zone, argv[4], &err), &err);
	}
	if (strcmp(cmd, "set-publish") == 0 && argc > 5) {
		return finish(o, ms_keymgr_set_publish(&ctx, zone, argv[4], atoll(argv[5]), &err),
		              &err);
	}
	json_object_put(o);
	return usage();
}
