/*
 * libFuzzer target for the HTTP response headers the client reads
 * (module/http.c): retry-after (seconds or an HTTP date) and the
 * x-ratelimit-* numbers, each line as curl hands it over. Every value taken
 * is either -1 (absent or unusable) or not negative.
 */
#include "fuzz.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_http_response_t r;
	memset(&r, 0, sizeof(r));
	r.retry_after_s = r.rl_limit = r.rl_remaining = r.rl_reset_s = -1;
	/* The input is a header block: one call per line, as curl makes them. */
	const uint8_t *p = data, *end = data + size;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		ms_http_parse_header(&r, (const char *)p, n, 1767225600L);
		p += n;
	}
	FUZZ_CHECK(r.retry_after_s >= -1 && r.rl_limit >= -1 && r.rl_remaining >= -1 &&
	           r.rl_reset_s >= -1);
	return 0;
}
