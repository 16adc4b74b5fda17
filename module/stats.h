/*
 * Statistics counters of the module, shown by `knotc zone-stats <zone>`
 * (and `knotc -f zone-stats` for counters still at zero). The enum order is
 * the registration order, which is how knotd numbers counters.
 */
#pragma once

typedef enum {
	MS_CTR_SYNC_PASSES = 0, /* passes of the sync loop that finished */
	MS_CTR_CHANGES,         /* records or keys added or removed, either side */
	MS_CTR_API_REQUESTS,    /* HTTP requests sent to the Cloudflare API */
	MS_CTR_API_FAILURES,    /* requests that ended in an error */
	MS_CTR_COUNT
} ms_counter_t;

/* Counter names as knotc shows them, indexed by ms_counter_t. */
extern const char *const ms_counter_names[MS_CTR_COUNT];
