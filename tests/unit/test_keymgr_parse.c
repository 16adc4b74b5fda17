/*
 * keymgr: parsers over outputs recorded from keymgr 3.2.6
 * (tests/data/keymgr/), and the operations' argv and safety rules against
 * a stand-in keymgr/knotc (tests/data/keymgr/fake-*.sh) that logs its argv
 * and answers from files.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keymgr.h"

#define DATA TEST_DATA_DIR "/keymgr/"

/* Own ZSK of the recording (tag 62502) and an imported one (tag 13902). */
#define OWN_ID "54add4db3ec5674babab39675aa1cd3710d5363f"
#define OWN_KEY "5jq9TKr09RhOXYodd8JCB+hCDgK5+QUNW6ejxwL95NN+dFrOhEiTmFJvg9LoQPDSKR9T4a7A095epyhwYmn0GQ=="
#define PUB_ID "910d0e0525e2d10b51d7d067f4daadd9888f1960"
#define PUB_KEY "daKTr+LpEKXUM06exEPBFiTC0bnM6FzQjJx562VRjTwtZYDdAjK6EE/YwJ33yUMccr9mlEXziE57AydvT+gkFg=="
#define NEW_ID "c0ffee0525e2d10b51d7d067f4daadd9888f1960"
#define CF_KEY "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return NULL;
	}
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (len) {
		*len = n;
	}
	return buf;
}

static ms_rc_t parse_str(const char *json, ms_keymgr_keys_t *out, ms_err_t *err)
{
	return ms_keymgr_parse_list(json, strlen(json), "example.com", out, err);
}

/* ---- list --------------------------------------------------------------- */

static void recorded_lists(void **state)
{
	(void)state;
	ms_keymgr_keys_t *ks = calloc(1, sizeof(*ks));
	ms_err_t err = { 0 };
	size_t len;
	char *j = slurp(DATA "list-rollover-published.json", &len);
	assert_non_null(j);
	assert_int_equal(ms_keymgr_parse_list(j, len, "example.com.", ks, &err), MS_OK);
	assert_int_equal(ks->count, 4);
	const ms_keymgr_key_t *k = &ks->keys[0]; /* the new ZSK: published, not active */
	assert_string_equal(k->id, "1e7fcfaa34a4757e58ae8a304e0ad7910a91e031");
	assert_int_equal(k->tag, 9897);
	assert_int_equal(k->algorithm, 13);
	assert_int_equal(k->size, 256);
	assert_true(k->zsk);
	assert_false(k->ksk);
	assert_false(k->public_only);
	assert_int_equal(k->publish, 1795841438);
	assert_int_equal(k->active, 0);
	assert_false(k->has_dnskey);
	k = &ks->keys[1]; /* imported */
	assert_int_equal(k->tag, 31413);
	assert_true(k->public_only);
	assert_int_equal(k->active, 0);
	k = &ks->keys[2]; /* KSK waiting for DS: ready, never "active" */
	assert_true(k->ksk);
	assert_false(k->zsk);
	assert_int_equal(k->ready, 1795841437);
	assert_int_equal(k->active, 0);
	k = &ks->keys[3];
	assert_int_equal(k->tag, 16995);
	assert_int_equal(k->active, 1795841437);
	free(j);

	j = slurp(DATA "list-rollover-active.json", &len);
	assert_int_equal(ms_keymgr_parse_list(j, len, "EXAMPLE.COM", ks, &err), MS_OK);
	assert_int_equal(ks->count, 4);
	assert_int_equal(ks->keys[0].active, 1795841500);
	assert_int_equal(ks->keys[3].retire, 1795841500);
	free(j);

	j = slurp(DATA "list-rollover-done.json", &len);
	assert_int_equal(ms_keymgr_parse_list(j, len, "example.com", ks, &err), MS_OK);
	assert_int_equal(ks->count, 3);
	free(j);

	/* Another zone's list is not ours. */
	j = slurp(DATA "list-rollover-done.json", &len);
	assert_int_equal(ms_keymgr_parse_list(j, len, "example.org", ks, &err), MS_EPARSE);
	assert_int_equal(ks->count, 0);
	free(j);

	/* keymgr prints nothing at all for a zone it does not know. */
	j = slurp(DATA "list-unknown-zone.json", &len);
	assert_int_equal(ms_keymgr_parse_list(j, len, "example.com", ks, &err), MS_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no key"));
	free(j);
	free(ks);
}

#define ENTRY(id, extra) \
	"{\"zone\":\"example.com.\",\"id\":\"" id "\",\"ksk\":false,\"zsk\":true,\"tag\":1," \
	"\"algorithm\":13,\"size\":256,\"public-only\":false,\"publish\":1,\"ready\":0," \
	"\"active\":1,\"retire\":0,\"remove\":0" extra "}"

static void list_strictness(void **state)
{
	(void)state;
	ms_keymgr_keys_t *ks = calloc(1, sizeof(*ks));
	ms_err_t err = { 0 };
	assert_int_equal(parse_str("[]\n", ks, &err), MS_OK);
	assert_int_equal(ks->count, 0);
	assert_int_equal(parse_str(" \n", ks, &err), MS_ENOTFOUND);
	assert_int_equal(parse_str("[" ENTRY(OWN_ID, "") "]", ks, &err), MS_OK);
	assert_int_equal(ks->count, 1);
	/* Fields a later Knot may add are ignored; optional timers default to 0. */
	assert_int_equal(parse_str("[" ENTRY(OWN_ID, ",\"created\":5,\"new\":[1]") "]", ks, &err),
	                 MS_OK);
	assert_int_equal(ks->keys[0].pre_active, 0);

	const char *bad[] = {
		"not json",
		"{}",
		"[1]",
		"[" ENTRY(OWN_ID, "") "] trailing",
		"[" ENTRY(OWN_ID, "") "",
		"[" ENTRY(OWN_ID, "") "," ENTRY(OWN_ID, "") "]",            /* listed twice */
		"[" ENTRY("54ADD4DB3EC5674BABAB39675AA1CD3710D5363F", "") "]", /* not as printed */
		"[" ENTRY("54add4db", "") "]",
		"[{\"id\":\"" OWN_ID "\"}]",                                  /* fields missing */
		"[" ENTRY(OWN_ID, ",\"publish\":\"1\"") "]",                   /* duplicate key, string */
		"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":false,"
		"\"tag\":1,\"algorithm\":13,\"public-only\":false,\"publish\":1,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* neither KSK nor ZSK */
		"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true,"
		"\"tag\":70000,\"algorithm\":13,\"public-only\":false,\"publish\":1,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* tag out of range */
		"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true,"
		"\"tag\":1,\"algorithm\":0,\"public-only\":false,\"publish\":1,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* algorithm 0 */
		"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true,"
		"\"tag\":1,\"algorithm\":13,\"public-only\":0,\"publish\":1,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* bool as number */
		"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true,"
		"\"tag\":1,\"algorithm\":13,\"public-only\":false,\"publish\":-5,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* negative time */
		"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true,"
		"\"tag\":1.5,\"algorithm\":13,\"public-only\":false,\"publish\":1,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* not an integer */
		"[" "{\"zone\":\"example.net.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true,"
		"\"tag\":1,\"algorithm\":13,\"public-only\":false,\"publish\":1,\"ready\":0,"
		"\"active\":1,\"retire\":0,\"remove\":0}]",                   /* another zone */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		ms_rc_t rc = parse_str(bad[i], ks, &err);
		if (rc != MS_EPARSE) {
			fail_msg("case %zu: got %s for %s", i, ms_rc_name(rc), bad[i]);
		}
		assert_int_equal(ks->count, 0);
		assert_true(err.msg[0] != '\0');
	}
	/* A NUL inside the output. */
	const char nul[] = "[]\0[]";
	assert_int_equal(ms_keymgr_parse_list(nul, sizeof(nul) - 1, "example.com", ks, &err),
	                 MS_EPARSE);

	/* More keys than the cap. */
	size_t cap = 64 * 1024;
	char *big = malloc(cap);
	size_t n = (size_t)snprintf(big, cap, "[");
	for (int i = 0; i <= MS_KEYMGR_MAX_KEYS; i++) {
		char id[41];
		snprintf(id, sizeof(id), "%040x", i);
		n += (size_t)snprintf(big + n, cap - n, "%s{\"id\":\"%s\",\"ksk\":false,\"zsk\":true,"
		                      "\"tag\":1,\"algorithm\":13,\"public-only\":false,\"publish\":1,"
		                      "\"ready\":0,\"active\":1,\"retire\":0,\"remove\":0}",
		                      i ? "," : "", id);
	}
	snprintf(big + n, cap - n, "]");
	assert_int_equal(parse_str(big, ks, &err), MS_ETOOBIG);
	free(big);
	free(ks);
}

/* ---- dnskey / import-pub outputs ----------------------------------------- */

static void dnskey_output(void **state)
{
	(void)state;
	ms_dnskey_t k;
	ms_err_t err = { 0 };
	char *t = slurp(DATA "dnskey-zsk.txt", NULL);
	assert_int_equal(ms_keymgr_parse_dnskey(t, "example.com", &k, &err), MS_OK);
	assert_int_equal(k.flags, 256);
	assert_int_equal(k.algorithm, 13);
	assert_int_equal(ms_dnskey_tag(&k), 62502);
	assert_int_equal(ms_keymgr_parse_dnskey(t, "example.org", &k, &err), MS_EPARSE);
	free(t);
	assert_int_equal(ms_keymgr_parse_dnskey("Example.COM 3600 IN DNSKEY 257 3 13 " OWN_KEY,
	                                        "example.com.", &k, &err), MS_OK);
	assert_int_equal(k.flags, 257);
	const char *bad[] = {
		"",
		"example.com. DNSKEY",
		"example.com. DS 62502 13 2 ab",
		"example.com. DNSKEY 256 3 13 " OWN_KEY "\nexample.com. DNSKEY 256 3 13 " OWN_KEY,
		"example.com. DNSKEY 256 3 13 AAAA",
		"example.com. 1 IN CH DNSKEY 256 3 13 " OWN_KEY,
		"error: key not found",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ms_keymgr_parse_dnskey(bad[i], "example.com", &k, &err) != MS_EPARSE) {
			fail_msg("case %zu accepted: %s", i, bad[i]);
		}
	}
}

static void import_output(void **state)
{
	(void)state;
	char id[MS_KEYMGR_ID_LEN + 1];
	ms_err_t err = { 0 };
	char *t = slurp(DATA "import-pub.txt", NULL);
	assert_int_equal(ms_keymgr_parse_import(t, id, &err), MS_OK);
	assert_string_equal(id, PUB_ID);
	free(t);
	const char *bad[] = { "", "OK\n", PUB_ID "\n", PUB_ID "\nOK\nmore\n", "910d0e\nOK\n",
	                      "error: parser failed\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ms_keymgr_parse_import(bad[i], id, &err), MS_EPARSE);
	}
	assert_true(ms_keymgr_id_valid(OWN_ID));
	assert_false(ms_keymgr_id_valid("54add4db3ec5674babab39675aa1cd3710d5363"));
	assert_false(ms_keymgr_id_valid("54add4db3ec5674babab39675aa1cd3710d5363g"));
	assert_false(ms_keymgr_id_valid("62502"));
	assert_false(ms_keymgr_id_valid(NULL));
}

/* ---- operations against stand-ins ----------------------------------------- */

typedef struct {
	char dir[64];
	char keymgr[128];
	char knotc[128];
	ms_keymgr_ctx_t ctx;
} fake_t;

static void put_file(const fake_t *f, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void copy_exec(const char *from, const char *to)
{
	char *text = slurp(from, NULL);
	assert_non_null(text);
	FILE *fp = fopen(to, "w");
	fputs(text, fp);
	fclose(fp);
	free(text);
	chmod(to, 0700);
}

static char *log_text(const fake_t *f)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/argv.log", f->dir);
	char *t = slurp(path, NULL);
	unlink(path);
	return t ? t : strdup("");
}

#define LIST_OWN_AND_PUB \
	"[{\"zone\":\"example.com.\",\"id\":\"" OWN_ID "\",\"ksk\":false,\"zsk\":true," \
	"\"tag\":62502,\"algorithm\":13,\"size\":256,\"public-only\":false,\"publish\":1," \
	"\"ready\":0,\"active\":1,\"retire\":0,\"remove\":0}," \
	"{\"zone\":\"example.com.\",\"id\":\"" PUB_ID "\",\"ksk\":false,\"zsk\":true," \
	"\"tag\":13902,\"algorithm\":13,\"size\":256,\"public-only\":true,\"publish\":1," \
	"\"ready\":0,\"active\":0,\"retire\":0,\"remove\":0}]\n"

static int fake_setup(void **state)
{
	fake_t *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/ms-keymgr-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->keymgr, sizeof(f->keymgr), "%s/keymgr", f->dir);
	snprintf(f->knotc, sizeof(f->knotc), "%s/knotc", f->dir);
	copy_exec(DATA "fake-keymgr.sh", f->keymgr);
	copy_exec(DATA "fake-knotc.sh", f->knotc);
	put_file(f, "list.json", LIST_OWN_AND_PUB);
	put_file(f, "dnskey-" OWN_ID ".txt", "example.com. DNSKEY 256 3 13 " OWN_KEY "\n");
	put_file(f, "dnskey-" PUB_ID ".txt", "example.com. DNSKEY 256 3 13 " PUB_KEY "\n");
	put_file(f, "import.txt", NEW_ID "\nOK\n");
	f->ctx = (ms_keymgr_ctx_t){ .keymgr = f->keymgr, .kasp_db = f->dir, .tmp_dir = f->dir,
	                            .timeout_ms = 5000 };
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	fake_t *f = *state;
	const char *names[] = { "keymgr", "knotc", "list.json", "dnskey-" OWN_ID ".txt",
	                        "dnskey-" PUB_ID ".txt", "import.txt", "imported.key",
	                        "imported.mode", "argv.log" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(f->dir), 0); /* nothing else left behind */
	free(f);
	return 0;
}

static void op_list(void **state)
{
	fake_t *f = *state;
	ms_keymgr_keys_t *ks = calloc(1, sizeof(*ks));
	ms_err_t err = { 0 };
	assert_int_equal(ms_keymgr_list(&f->ctx, "example.com", false, ks, &err), MS_OK);
	assert_int_equal(ks->count, 2);
	char *log = log_text(f);
	char want[256];
	snprintf(want, sizeof(want), "-D %s -j example.com. list\n", f->dir);
	assert_string_equal(log, want);
	free(log);

	assert_int_equal(ms_keymgr_list(&f->ctx, "example.com", true, ks, &err), MS_OK);
	assert_true(ks->keys[0].has_dnskey);
	assert_int_equal(ms_dnskey_tag(&ks->keys[0].dnskey), 62502);
	assert_true(ks->keys[1].has_dnskey);
	log = log_text(f);
	assert_non_null(strstr(log, "example.com. dnskey id=" OWN_ID "\n"));
	assert_non_null(strstr(log, "example.com. dnskey id=" PUB_ID "\n"));
	free(log);

	/* A DNSKEY that does not match its listing is refused. */
	put_file(f, "dnskey-" OWN_ID ".txt", "example.com. DNSKEY 256 3 13 " PUB_KEY "\n");
	assert_int_equal(ms_keymgr_list(&f->ctx, "example.com", true, ks, &err), MS_EPARSE);
	assert_int_equal(ks->count, 0);
	free(log_text(f));

	/* keymgr -c when no KASP directory is given. */
	ms_keymgr_ctx_t c = f->ctx;
	c.kasp_db = NULL;
	c.conf = "/etc/knot/knot.conf";
	assert_int_not_equal(ms_keymgr_list(&c, "example.com", false, ks, &err), MS_OK);
	log = log_text(f);
	assert_string_equal(log, ""); /* the fake logs into its -D dir only */
	free(log);
	c.conf = NULL;
	assert_int_equal(ms_keymgr_list(&c, "example.com", false, ks, &err), MS_EINVAL);
	c.kasp_db = "relative/keys";
	assert_int_equal(ms_keymgr_list(&c, "example.com", false, ks, &err), MS_EINVAL);
	/* Names keymgr would take for options, or could split. */
	assert_int_equal(ms_keymgr_list(&f->ctx, "-c", false, ks, &err), MS_EINVAL);
	assert_int_equal(ms_keymgr_list(&f->ctx, "exa mple.com", false, ks, &err), MS_EINVAL);
	assert_int_equal(ms_keymgr_list(&f->ctx, "", false, ks, &err), MS_EINVAL);
	c = f->ctx;
	c.keymgr = "/nonexistent/keymgr";
	assert_int_equal(ms_keymgr_list(&c, "example.com", false, ks, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "cannot run"));
	free(ks);
}

static void op_import(void **state)
{
	fake_t *f = *state;
	ms_err_t err = { 0 };
	char id[MS_KEYMGR_ID_LEN + 1];
	ms_dnskey_t k;

	/* A new key: written to a private .key file, imported, file removed. */
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, CF_KEY, &k, NULL), MS_OK);
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_OK);
	assert_string_equal(id, NEW_ID);
	char path[256];
	snprintf(path, sizeof(path), "%s/imported.key", f->dir);
	char *content = slurp(path, NULL);
	assert_string_equal(content, "example.com. DNSKEY 256 3 13 " CF_KEY "\n");
	free(content);
	snprintf(path, sizeof(path), "%s/imported.mode", f->dir);
	content = slurp(path, NULL);
	assert_int_equal(strncmp(content, "-rw-------", 10), 0);
	free(content);
	char *log = log_text(f);
	char *imp = strstr(log, "import-pub ");
	assert_non_null(imp);
	char tmpfile[256];
	assert_int_equal(sscanf(imp, "import-pub %255s", tmpfile), 1);
	assert_int_equal(strncmp(tmpfile, f->dir, strlen(f->dir)), 0);
	assert_string_equal(tmpfile + strlen(tmpfile) - 4, ".key");
	assert_int_equal(access(tmpfile, F_OK), -1); /* removed */
	assert_null(strstr(log, "dnskey")); /* no tag could match: no dnskey run */
	free(log);

	/* knotd's own key, as ZSK or KSK: refused, nothing imported. */
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, OWN_KEY, &k, NULL), MS_OK);
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "knotd's own key"));
	log = log_text(f);
	assert_null(strstr(log, "import-pub"));
	free(log);
	k.flags = 257;
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_EINVAL);
	free(log_text(f));

	/* Already imported: its id, without a new import (which would reset
	 * its publish time). */
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, PUB_KEY, &k, NULL), MS_OK);
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_OK);
	assert_string_equal(id, PUB_ID);
	log = log_text(f);
	assert_null(strstr(log, "import-pub"));
	free(log);
	/* Same material imported with other flags: refused. */
	k.flags = 257;
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_EINVAL);
	free(log_text(f));

	/* keymgr answering with the id of one of knotd's keys: not accepted. */
	put_file(f, "import.txt", OWN_ID "\nOK\n");
	assert_int_equal(ms_dnskey_from_b64(256, 3, 13, CF_KEY, &k, NULL), MS_OK);
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_EIO);
	free(log_text(f));

	/* Only ZSK and KSK flags. */
	k.flags = 385;
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_EINVAL);
	k.flags = 256;
	k.protocol = 2;
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_EINVAL);
	log = log_text(f);
	assert_string_equal(log, "");
	free(log);

	/* An unsigned zone (empty list) still imports. */
	put_file(f, "list.json", "");
	put_file(f, "import.txt", NEW_ID "\nOK\n");
	k.protocol = 3;
	assert_int_equal(ms_keymgr_import_pub(&f->ctx, "example.com", &k, id, &err), MS_OK);
	free(log_text(f));
	put_file(f, "list.json", LIST_OWN_AND_PUB);
}

static void op_delete_and_set(void **state)
{
	fake_t *f = *state;
	ms_err_t err = { 0 };
	assert_int_equal(ms_keymgr_delete(&f->ctx, "example.com", OWN_ID, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "refusing to delete"));
	char *log = log_text(f);
	assert_null(strstr(log, "delete"));
	free(log);

	assert_int_equal(ms_keymgr_delete(&f->ctx, "example.com", NEW_ID, &err), MS_ENOTFOUND);
	free(log_text(f));
	assert_int_equal(ms_keymgr_delete(&f->ctx, "example.com", "13902", &err), MS_EINVAL);

	assert_int_equal(ms_keymgr_delete(&f->ctx, "example.com.", PUB_ID, &err), MS_OK);
	log = log_text(f);
	assert_non_null(strstr(log, "example.com. delete id=" PUB_ID "\n"));
	free(log);

	assert_int_equal(ms_keymgr_set_publish(&f->ctx, "example.com", OWN_ID, 1795841500, &err),
	                 MS_OK);
	log = log_text(f);
	char want[256];
	snprintf(want, sizeof(want), "-D %s example.com. set id=" OWN_ID " publish=1795841500\n",
	         f->dir);
	assert_string_equal(log, want);
	free(log);
	assert_int_equal(ms_keymgr_set_publish(&f->ctx, "example.com", OWN_ID, -1, &err), MS_EINVAL);
	assert_int_equal(ms_keymgr_set_publish(&f->ctx, "example.com", "x", 1, &err), MS_EINVAL);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *abort_later(void *arg)
{
	usleep(100 * 1000);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

static void op_knotc(void **state)
{
	fake_t *f = *state;
	ms_err_t err = { 0 };
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/knot.sock", f->dir);
	ms_knotc_ctx_t kc = { .knotc = f->knotc, .socket = sock };
	assert_int_equal(ms_knotc_zone_keys_load(&kc, "example.com", &err), MS_OK);
	char *log = log_text(f);
	char want[256];
	snprintf(want, sizeof(want), "-s %s -t 5 zone-keys-load example.com.\n", sock);
	assert_string_equal(log, want);
	free(log);

	snprintf(sock, sizeof(sock), "%s/nozone.sock", f->dir);
	assert_int_equal(ms_knotc_zone_keys_load(&kc, "example.com", &err), MS_EIO);
	assert_string_equal(err.msg, "knotc zone-keys-load example.com. failed (exit 1): "
	                             "error: [example.com.] (no such zone found)");
	free(log_text(f));

	/* knotd's main thread busy (joining us during a reload): abort kills
	 * knotc at once instead of waiting for its timeout. */
	snprintf(sock, sizeof(sock), "%s/hang.sock", f->dir);
	atomic_bool flag = false;
	kc.abort = &flag;
	pthread_t th;
	pthread_create(&th, NULL, abort_later, &flag);
	long t0 = now_ms();
	assert_int_equal(ms_knotc_zone_keys_load(&kc, "example.com", &err), MS_EABORTED);
	assert_true(now_ms() - t0 < 100 + 100);
	pthread_join(th, NULL);
	/* And without abort, the backstop: knotc's -t plus one second. */
	kc.abort = NULL;
	kc.timeout_ms = 500;
	t0 = now_ms();
	assert_int_equal(ms_knotc_zone_keys_load(&kc, "example.com", &err), MS_ETIMEOUT);
	long took = now_ms() - t0;
	assert_true(took >= 1900 && took < 2600);
	log = log_text(f);
	assert_non_null(strstr(log, "-t 1 zone-keys-load"));
	free(log);

	kc.socket = NULL;
	assert_int_equal(ms_knotc_zone_keys_load(&kc, "example.com", &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "control.listen"));
}

/* keymgr runs without a shell: a zone name full of shell syntax reaches it
 * as one argument, verbatim, and nothing in it runs. (keymgr itself is the
 * fake here; it only logs "$*" and answers from files.) */
static void op_no_shell(void **state)
{
	fake_t *f = *state;
	static const char *zones[] = {
		"x;touch${IFS}PWNED1.example",
		"$(touch${IFS}PWNED2).example",
		"`touch${IFS}PWNED3`.example",
		"a|touch${IFS}PWNED4&&b'\"*?.example",
	};
	ms_keymgr_keys_t *ks = calloc(1, sizeof(*ks));
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		ms_err_t err = { 0 };
		/* The fake lists example.com.'s keys, which belong to another zone. */
		assert_int_equal(ms_keymgr_list(&f->ctx, zones[i], false, ks, &err), MS_EPARSE);
		char *log = log_text(f);
		char want[256];
		snprintf(want, sizeof(want), "-D %s -j %s. list\n", f->dir, zones[i]);
		assert_string_equal(log, want);
		free(log);
	}
	free(ks);
	for (int i = 1; i <= 4; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/PWNED%d", f->dir, i);
		assert_int_equal(access(path, F_OK), -1);
		snprintf(path, sizeof(path), "PWNED%d", i);
		assert_int_equal(access(path, F_OK), -1);
	}
}

/* A keymgr that fails: the error says which command, its exit status and
 * the first line of what it printed, for the log line the module writes. */
static void op_failure_reported(void **state)
{
	fake_t *f = *state;
	ms_err_t err = { 0 };
	ms_dnskey_t k;
	assert_int_equal(ms_keymgr_dnskey(&f->ctx, "example.com", NEW_ID, &k, &err), MS_EIO);
	assert_string_equal(err.msg, "keymgr example.com. dnskey failed (exit 1): "
	                             "error: key not found");
	free(log_text(f));
	/* A keymgr that is not there at all. */
	ms_keymgr_ctx_t c = f->ctx;
	c.keymgr = "/nonexistent/keymgr";
	assert_int_equal(ms_keymgr_dnskey(&c, "example.com", NEW_ID, &k, &err), MS_EIO);
	assert_non_null(strstr(err.msg, "cannot run"));
	assert_non_null(strstr(err.msg, "/nonexistent/keymgr"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recorded_lists),
		cmocka_unit_test(list_strictness),
		cmocka_unit_test(dnskey_output),
		cmocka_unit_test(import_output),
		cmocka_unit_test_setup_teardown(op_list, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(op_import, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(op_delete_and_set, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(op_knotc, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(op_no_shell, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(op_failure_reported, fake_setup, fake_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
