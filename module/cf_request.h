/*
 * Request bodies for the API, as pure functions that check what they send:
 * the API's own checks cost a request and a confusing error, ours cost
 * nothing. Bodies are heap strings the caller frees.
 */
#pragma once

#include <stdbool.h>

#include "cf_types.h"
#include "error.h"

/* POST /dns_records body for an NS or DNSKEY record (id ignored):
 * name set, ttl 1 or 60..86400, comment printable and at most
 * MS_CF_COMMENT_MAX characters, tags "name:value". */
ms_rc_t ms_cf_body_record(const ms_cf_record_t *rec, char **out, ms_err_t *err);

/* PATCH /dnssec body; at least one field must change. */
ms_rc_t ms_cf_body_dnssec_patch(const ms_cf_dnssec_patch_t *patch, char **out, ms_err_t *err);

/* PATCH /dns_settings body {"multi_provider": ...}. */
ms_rc_t ms_cf_body_dns_settings_patch(bool multi_provider, char **out, ms_err_t *err);

/* POST /dns_records/batch body {"deletes":[{"id"}],"posts":[...]};
 * 1..MS_CF_BATCH_MAX operations, ids safe. */
ms_rc_t ms_cf_body_batch(const ms_cf_batch_t *batch, char **out, ms_err_t *err);
