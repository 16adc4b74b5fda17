/*
 * libFuzzer target for DNS answers (module/local_dns.c): what knotd's own
 * listener answers, and what Cloudflare's nameservers answer for
 * verify-address. The message is parsed as the answer to our SOA, DNSKEY
 * and NS queries for the zone, with the id it carries itself (so that the
 * fuzzer does not have to guess it).
 */
#include "fuzz.h"
#include "local_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t qtypes[] = { MS_RRTYPE_SOA, MS_RRTYPE_DNSKEY, MS_RRTYPE_NS };
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	for (size_t i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++) {
		static ms_local_zone_t z;
		memset(&z, 0, sizeof(z));
		bool truncated = false;
		ms_err_t err = { 0 };
		ms_rc_t rc = ms_local_dns_parse(data, size, "example.com.", qtypes[i], id,
		                                &truncated, &z, &err);
		fuzz_check_error(rc, &err);
		if (rc != MS_OK || truncated) {
			continue;
		}
		FUZZ_CHECK(z.dnskey_count <= MS_LOCAL_DNS_MAX_KEYS);
		FUZZ_CHECK(z.ns_count <= MS_LOCAL_DNS_MAX_NS);
		FUZZ_CHECK(z.soa_sig_count <= MS_LOCAL_DNS_MAX_SIGS);
		FUZZ_CHECK(z.dnskey_sig_count <= MS_LOCAL_DNS_MAX_SIGS);
		for (size_t k = 0; k < z.dnskey_count; k++) {
			fuzz_check_dnskey(&z.dnskeys[k]);
		}
		for (size_t k = 0; k < z.ns_count; k++) {
			FUZZ_CHECK_STR(z.ns[k]);
		}
	}
	return 0;
}
