#include <string.h>

#include "base64.h"

static const char ALPHABET[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int sextet(char c)
{
	const char *p = (c != '\0') ? strchr(ALPHABET, c) : NULL;
	return (p != NULL) ? (int)(p - ALPHABET) : -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool ms_b64_decode(const char *in, uint8_t *out, size_t cap, size_t *out_len)
{
	uint32_t acc = 0;
	size_t nbits = 0, len = 0, pad = 0, symbols = 0;
	for (const char *p = in; *p != '\0'; p++) {
		if (is_space(*p)) {
			continue;
		}
		symbols++;
		if (*p == '=') {
			pad++;
			continue;
		}
		int v = sextet(*p);
		if (v < 0 || pad > 0) {
			return false; /* not base64, or data after padding */
		}
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (len == cap) {
				return false;
			}
			out[len++] = (uint8_t)(acc >> nbits);
		}
	}
	/* Padded groups of four; leftover bits must be zero (canonical form). */
	bool ok = symbols % 4 == 0 && pad <= 2 && (acc & ((1u << nbits) - 1)) == 0 &&
	          pad == (symbols == 0 ? 0 : (3 - (len % 3)) % 3);
	*out_len = len;
	return ok;
}

bool ms_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	if (cap < ((len + 2) / 3) * 4 + 1) {
		return false;
	}
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len) v |= in[i + 2];
		out[o++] = ALPHABET[(v >> 18) & 63];
		out[o++] = ALPHABET[(v >> 12) & 63];
		out[o++] = (i + 1 < len) ? ALPHABET[(v >> 6) & 63] : '=';
		out[o++] = (i + 2 < len) ? ALPHABET[v & 63] : '=';
	}
	out[o] = '\0';
	return true;
}
