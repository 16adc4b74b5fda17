/*
 * libFuzzer target for the Cloudflare API response parsers (module/cf_parse.c):
 * a response body, as it would come from the network, through the envelope
 * and then one typed reader. One program per response shape, chosen at
 * build time with -DFUZZ_CF_SHAPE=<one of the names below> (mk/fuzz.am), so
 * that each shape gets its own corpus and its own share of the time.
 */
#include "cf_paging.h"
#include "cf_parse.h"
#include "ds.h"
#include "fuzz.h"

enum {
	FUZZ_CF_ENVELOPE,   /* any status: the envelope and error decoding */
	FUZZ_CF_TOKEN,      /* GET /user/tokens/verify */
	FUZZ_CF_ZONE,       /* GET /zones/{id} */
	FUZZ_CF_ZONES,      /* GET /zones?name= */
	FUZZ_CF_DNSSEC,     /* GET/PATCH /zones/{id}/dnssec */
	FUZZ_CF_SETTINGS,   /* GET/PATCH /zones/{id}/dns_settings */
	FUZZ_CF_RECORDS,    /* GET /zones/{id}/dns_records: one page */
	FUZZ_CF_RECORD,     /* POST /zones/{id}/dns_records */
	FUZZ_CF_DELETED,    /* DELETE /zones/{id}/dns_records/{id} */
	FUZZ_CF_BATCH,      /* POST /zones/{id}/dns_records/batch */
	FUZZ_CF_ZSKS,       /* GET /zones/{id}/dnssec/zsk */
};

static void check_record(const ms_cf_record_t *r)
{
	FUZZ_CHECK_STR(r->id);
	FUZZ_CHECK_STR(r->name);
	FUZZ_CHECK_STR(r->comment);
	FUZZ_CHECK_STR(r->ns_host);
	FUZZ_CHECK(r->tag_count <= MS_CF_TAGS_MAX);
	if (r->type == MS_CF_RR_DNSKEY) {
		fuzz_check_dnskey(&r->dnskey);
	}
}

static void check_records(const ms_cf_record_list_t *l)
{
	for (size_t i = 0; i < l->count; i++) {
		check_record(&l->items[i]);
	}
}

/* The typed reader of this program's shape, on a 2xx envelope's result. */
static ms_rc_t read_result(const ms_cf_envelope_t *env, ms_err_t *err)
{
	const json_object *r = env->result;
	ms_rc_t rc = MS_OK;
	switch (FUZZ_CF_SHAPE) {
	case FUZZ_CF_TOKEN: {
		ms_cf_token_t t;
		rc = ms_cf_token_from_json(r, &t, err);
		break;
	}
	case FUZZ_CF_ZONE:
	case FUZZ_CF_ZONES: {
		ms_cf_zone_t z;
		rc = FUZZ_CF_SHAPE == FUZZ_CF_ZONE ? ms_cf_zone_from_json(r, "zone", &z, err)
		     : ms_cf_zone_pick_from_json(r, "example.com", &z, err);
		if (rc == MS_OK) {
			FUZZ_CHECK(z.name_server_count <= MS_CF_ZONE_NS_MAX);
			FUZZ_CHECK_STR(z.name);
		}
		break;
	}
	case FUZZ_CF_DNSSEC: {
		ms_cf_dnssec_t d;
		rc = ms_cf_dnssec_from_json(r, &d, err);
		if (rc == MS_OK && d.has_ksk) {
			fuzz_check_dnskey(&d.ksk);
			/* The DS check of ds.c, with the DS fields as Cloudflare sent them. */
			ms_ds_t ds;
			char text[MS_DS_TEXT_MAX]; /* as sync.c sizes it */
			if (ms_ds_from_dnskey("example.com", &d.ksk, &ds, NULL) == MS_OK) {
				(void)ms_ds_matches(&ds, d.key_tag, d.digest_type, d.digest);
				FUZZ_CHECK(ms_ds_format("example.com", &ds, text, sizeof(text)));
			}
		}
		break;
	}
	case FUZZ_CF_SETTINGS: {
		ms_cf_dns_settings_t s;
		rc = ms_cf_dns_settings_from_json(r, &s, err);
		break;
	}
	case FUZZ_CF_RECORDS: {
		ms_cf_record_list_t l = { 0 };
		rc = ms_cf_records_from_json(r, "page 1", &l, err);
		if (rc == MS_OK) {
			check_records(&l);
			ms_cf_pager_t p;
			ms_cf_pager_start(&p);
			ms_cf_page_step_t step;
			rc = ms_cf_pager_step(&p, &env->info, l.count, 0, MS_CF_MAX_PAGES, &step, err);
		}
		ms_cf_record_list_free(&l);
		break;
	}
	case FUZZ_CF_RECORD: {
		ms_cf_record_t *rec = malloc(sizeof(*rec));
		FUZZ_CHECK(rec != NULL);
		rc = ms_cf_record_from_json(r, "created record", rec, err);
		if (rc == MS_OK) {
			check_record(rec);
		}
		free(rec);
		break;
	}
	case FUZZ_CF_DELETED: {
		char id[MS_CF_ID_MAX + 1];
		rc = ms_cf_deleted_from_json(r, id, err);
		if (rc == MS_OK) {
			FUZZ_CHECK_STR(id);
		}
		break;
	}
	case FUZZ_CF_BATCH: {
		ms_cf_record_list_t l = { 0 };
		rc = ms_cf_batch_from_json(r, &l, err);
		if (rc == MS_OK) {
			check_records(&l);
		}
		ms_cf_record_list_free(&l);
		break;
	}
	case FUZZ_CF_ZSKS: {
		ms_cf_zsk_list_t l = { 0 };
		rc = ms_cf_zsks_from_json(r, &l, err);
		for (size_t i = 0; rc == MS_OK && i < l.count; i++) {
			fuzz_check_dnskey(&l.items[i].key);
		}
		ms_cf_zsk_list_free(&l);
		break;
	}
	default:
		break;
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The envelope program tries the statuses whose handling differs; the
	 * others read what a 200 carries. */
	static const long statuses[] = { 200, 400, 403, 404, 429, 502 };
	size_t n = FUZZ_CF_SHAPE == FUZZ_CF_ENVELOPE ? sizeof(statuses) / sizeof(statuses[0]) : 1;
	for (size_t i = 0; i < n; i++) {
		ms_cf_envelope_t env;
		ms_err_t err = { 0 };
		ms_rc_t rc = ms_cf_envelope_parse((const char *)data, size, statuses[i], &env, &err);
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(err.api_code_count <= MS_ERR_CODES_MAX);
		if (rc == MS_OK && FUZZ_CF_SHAPE != FUZZ_CF_ENVELOPE) {
			ms_err_t rerr = { 0 };
			fuzz_check_error(read_result(&env, &rerr), &rerr);
		}
		ms_cf_envelope_free(&env);
	}
	return 0;
}
