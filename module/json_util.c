#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

static const char *classify_non_json(const char *text, size_t len)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i])) {
		i++;
	}
	if (i == len) {
		return "empty";
	}
	if (text[i] == '<') {
		return "HTML";
	}
	return "not JSON";
}

json_object *ms_json_parse(const char *text, size_t len, const char **why)
{
	*why = NULL;
	if (text == NULL || len == 0 || classify_non_json(text, len)[0] == 'e') {
		*why = "empty";
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		*why = "not JSON";
		return NULL;
	}
	if (len > INT32_MAX) {
		*why = "too large";
		return NULL;
	}
	json_tokener *tok = json_tokener_new();
	if (tok == NULL) {
		*why = "out of memory";
		return NULL;
	}
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL) {
		*why = (jerr == json_tokener_continue) ? "truncated JSON" : classify_non_json(text, len);
		return NULL;
	}
	/* Anything but white space after the document is not one document. */
	for (size_t i = end; i < len; i++) {
		if (!isspace((unsigned char)text[i])) {
			json_object_put(root);
			*why = "not JSON";
			return NULL;
		}
	}
	return root;
}

const char *ms_json_type_name(const json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:    return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double:
	case json_type_int:     return "a number";
	case json_type_object:  return "an object";
	case json_type_array:   return "an array";
	case json_type_string:  return "a string";
	}
	return "unknown";
}

json_object *ms_json_member(const json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
		return NULL;
	}
	return v;
}

static ms_rc_t missing(const char *ctx, const char *key, ms_err_t *err)
{
	return ms_err_set(err, MS_EPARSE, "%s: field '%s' is missing", ctx, key);
}

static ms_rc_t mistyped(const char *ctx, const char *key, const char *want,
                        const json_object *v, ms_err_t *err)
{
	return ms_err_set(err, MS_EPARSE, "%s: field '%s' is %s, not %s",
	                  ctx, key, ms_json_type_name(v), want);
}

/* Look up key: *v NULL and MS_OK for an optional absent field. */
static ms_rc_t lookup(const json_object *obj, const char *key, bool required,
                      json_object **v, bool *present, const char *ctx, ms_err_t *err)
{
	*v = ms_json_member(obj, key);
	if (present != NULL) {
		*present = (*v != NULL);
	}
	if (*v == NULL && required) {
		return missing(ctx, key, err);
	}
	return MS_OK;
}

static ms_rc_t get_typed(const json_object *obj, const char *key, bool required,
                         json_type type, const char *want, json_object **out,
                         const char *ctx, ms_err_t *err)
{
	json_object *v;
	*out = NULL; /* on every error too: callers read it for "present" */
	ms_rc_t rc = lookup(obj, key, required, &v, NULL, ctx, err);
	if (rc != MS_OK || v == NULL) {
		return rc;
	}
	if (!json_object_is_type(v, type)) {
		return mistyped(ctx, key, want, v, err);
	}
	*out = v;
	return MS_OK;
}

ms_rc_t ms_json_get_object(const json_object *obj, const char *key, bool required,
                           json_object **out, const char *ctx, ms_err_t *err)
{
	return get_typed(obj, key, required, json_type_object, "an object", out, ctx, err);
}

ms_rc_t ms_json_get_array(const json_object *obj, const char *key, bool required,
                          json_object **out, const char *ctx, ms_err_t *err)
{
	return get_typed(obj, key, required, json_type_array, "an array", out, ctx, err);
}

ms_rc_t ms_json_get_string(const json_object *obj, const char *key, bool required,
                           char *buf, size_t cap, bool *present,
                           const char *ctx, ms_err_t *err)
{
	json_object *v;
	ms_rc_t rc = get_typed(obj, key, required, json_type_string, "a string", &v, ctx, err);
	if (present != NULL) {
		*present = (v != NULL);
	}
	if (rc != MS_OK || v == NULL) {
		return rc;
	}
	size_t len = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (len >= cap) {
		return ms_err_set(err, MS_EPARSE, "%s: field '%s' is longer than %zu characters",
		                  ctx, key, cap - 1);
	}
	if (memchr(s, '\0', len) != NULL) {
		return ms_err_set(err, MS_EPARSE, "%s: field '%s' contains a NUL character", ctx, key);
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return MS_OK;
}

ms_rc_t ms_json_as_int(const json_object *v, int64_t min, int64_t max, int64_t *out,
                       const char *ctx, const char *key, ms_err_t *err)
{
	int64_t n;
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		n = json_object_get_int64(v);
		if (errno != 0) {
			n = (n < 0) ? INT64_MIN : INT64_MAX; /* clamped by json-c: out of range */
		}
	} else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		/* Range first: the cast below is only defined for values that fit. */
		if (!isfinite(d) || d < -9e15 || d > 9e15 || d != (double)(int64_t)d) {
			return ms_err_set(err, MS_EPARSE, "%s: field '%s' is not a whole number", ctx, key);
		}
		n = (int64_t)d;
	} else {
		return mistyped(ctx, key, "a number", v, err);
	}
	if (n < min || n > max) {
		return ms_err_set(err, MS_EPARSE, "%s: field '%s' is %lld, outside %lld..%lld",
		                  ctx, key, (long long)n, (long long)min, (long long)max);
	}
	*out = n;
	return MS_OK;
}

ms_rc_t ms_json_get_int(const json_object *obj, const char *key, bool required,
                        int64_t min, int64_t max, int64_t *out, bool *present,
                        const char *ctx, ms_err_t *err)
{
	json_object *v;
	ms_rc_t rc = lookup(obj, key, required, &v, present, ctx, err);
	if (rc != MS_OK || v == NULL) {
		return rc;
	}
	return ms_json_as_int(v, min, max, out, ctx, key, err);
}

ms_rc_t ms_json_get_int_or_digits(const json_object *obj, const char *key, bool required,
                                  int64_t min, int64_t max, int64_t *out, bool *present,
                                  const char *ctx, ms_err_t *err)
{
	json_object *v;
	ms_rc_t rc = lookup(obj, key, required, &v, present, ctx, err);
	if (rc != MS_OK || v == NULL) {
		return rc;
	}
	if (!json_object_is_type(v, json_type_string)) {
		return ms_json_as_int(v, min, max, out, ctx, key, err);
	}
	const char *s = json_object_get_string(v);
	size_t len = strlen(s);
	bool digits = len > 0 && len <= 18;
	for (size_t i = 0; digits && i < len; i++) {
		digits = isdigit((unsigned char)s[i]);
	}
	if (!digits) {
		return ms_err_set(err, MS_EPARSE, "%s: field '%s' is a string but not a number",
		                  ctx, key);
	}
	long long n = strtoll(s, NULL, 10);
	if (n < min || n > max) {
		return ms_err_set(err, MS_EPARSE, "%s: field '%s' is %lld, outside %lld..%lld",
		                  ctx, key, n, (long long)min, (long long)max);
	}
	*out = n;
	return MS_OK;
}

ms_rc_t ms_json_get_bool(const json_object *obj, const char *key, bool required,
                         bool *out, bool *present, const char *ctx, ms_err_t *err)
{
	json_object *v;
	ms_rc_t rc = get_typed(obj, key, required, json_type_boolean, "a boolean", &v, ctx, err);
	if (present != NULL) {
		*present = (v != NULL);
	}
	if (rc != MS_OK || v == NULL) {
		return rc;
	}
	*out = json_object_get_boolean(v);
	return MS_OK;
}
