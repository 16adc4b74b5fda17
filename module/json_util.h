/*
 * Typed access to json-c values with errors that name the field, so that a
 * response that breaks the contract says which part broke it ("DNS record 3:
 * field 'ttl' is not a number"). Values of string fields never go into
 * messages: they may be anything, including secrets.
 *
 * Conventions: `ctx` names the object being read; JSON null counts as absent
 * (Cloudflare sends null for unset comments and DS fields); absent optional
 * fields leave *out untouched and set *present (when given) to false.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Parse a whole document of len bytes. On failure *why says in a few words
 * what the text is ("empty", "HTML", "truncated JSON", "not JSON") for a
 * message that must not quote it. */
json_object *ms_json_parse(const char *text, size_t len, const char **why);

/* Short name of a value's type for messages ("number", "string", ...). */
const char *ms_json_type_name(const json_object *v);

/* The member, or NULL when absent or null. */
json_object *ms_json_member(const json_object *obj, const char *key);

ms_rc_t ms_json_get_object(const json_object *obj, const char *key, bool required,
                           json_object **out, const char *ctx, ms_err_t *err);

ms_rc_t ms_json_get_array(const json_object *obj, const char *key, bool required,
                          json_object **out, const char *ctx, ms_err_t *err);

/* Copy a string into buf (cap bytes with NUL); longer than cap-1 is an error. */
ms_rc_t ms_json_get_string(const json_object *obj, const char *key, bool required,
                           char *buf, size_t cap, bool *present,
                           const char *ctx, ms_err_t *err);

/* An integer in [min, max]; a JSON number with a fraction is refused, an
 * integral one (256.0) is fine. Strings are refused. */
ms_rc_t ms_json_get_int(const json_object *obj, const char *key, bool required,
                        int64_t min, int64_t max, int64_t *out, bool *present,
                        const char *ctx, ms_err_t *err);

/* As ms_json_get_int, but a string of decimal digits is fine as well: for
 * the fields Cloudflare documents as numeric strings ("algorithm": "13"). */
ms_rc_t ms_json_get_int_or_digits(const json_object *obj, const char *key, bool required,
                                  int64_t min, int64_t max, int64_t *out, bool *present,
                                  const char *ctx, ms_err_t *err);

ms_rc_t ms_json_get_bool(const json_object *obj, const char *key, bool required,
                         bool *out, bool *present, const char *ctx, ms_err_t *err);

/* Check a value as an integer in [min, max] (for array items). */
ms_rc_t ms_json_as_int(const json_object *v, int64_t min, int64_t max, int64_t *out,
                       const char *ctx, const char *key, ms_err_t *err);
