#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cf_names.h"

void ms_cf_name_normalize(char *name)
{
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '.') {
		name[--len] = '\0';
	}
	for (size_t i = 0; i < len; i++) {
		name[i] = (char)tolower((unsigned char)name[i]);
	}
}

void ms_cf_name_copy(char *dst, size_t cap, const char *src)
{
	if (cap == 0) {
		return;
	}
	snprintf(dst, cap, "%s", src ? src : "");
	ms_cf_name_normalize(dst);
}

bool ms_cf_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 1 && a[la - 1] == '.') {
		la--;
	}
	if (lb > 1 && b[lb - 1] == '.') {
		lb--;
	}
	return la == lb && strncasecmp(a, b, la) == 0;
}

bool ms_cf_id_is_safe(const char *id)
{
	size_t len = id ? strlen(id) : 0;
	if (len == 0 || len > 64) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_') {
			return false;
		}
	}
	return true;
}

void ms_cf_clean_text(char *dst, size_t cap, const char *src, size_t max)
{
	if (cap == 0) {
		return;
	}
	size_t n = 0;
	size_t limit = (max < cap - 1) ? max : cap - 1;
	bool cut = false;
	for (const char *p = src ? src : ""; *p; p++) {
		if (n == limit) {
			cut = true;
			break;
		}
		unsigned char ch = (unsigned char)*p;
		dst[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	dst[n] = '\0';
	if (cut && n >= 3) {
		memcpy(dst + n - 3, "...", 3);
	}
}
