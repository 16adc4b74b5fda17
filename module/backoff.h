/*
 * Retry policy for API requests, as pure functions (the jitter source is a
 * parameter): what is worth retrying, and how long to wait first.
 *
 * Retried: transport failures (connection, reset, timeout), HTTP 408, 409,
 * 429 and 5xx; for idempotent requests also a 2xx whose body is not a
 * Cloudflare envelope (a proxy cut it, a one-off glitch). Never other 4xx:
 * they mean the request itself is wrong, and repeating it spends the budget.
 * Waits grow exponentially with "equal jitter" (half fixed, half random), so
 * many clients do not retry in lock-step; a `retry-after` from the API is
 * obeyed as given, and when it is longer than the policy allows we give up
 * instead of retrying early (which would extend Cloudflare's block).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct {
	unsigned max_attempts;  /* attempts in all, first included */
	uint32_t base_delay_ms; /* wait before the first retry, before jitter */
	uint32_t max_delay_ms;  /* cap on one wait */
	uint32_t max_total_ms;  /* cap on the sum of waits for one call */
} ms_backoff_policy_t;

#define MS_BACKOFF_DEFAULT_ATTEMPTS 4
#define MS_BACKOFF_DEFAULT_BASE_MS  500
#define MS_BACKOFF_DEFAULT_MAX_MS   20000
#define MS_BACKOFF_DEFAULT_TOTAL_MS 60000

/* The policy with defaults for zero fields. */
ms_backoff_policy_t ms_backoff_policy_or_default(const ms_backoff_policy_t *p);

/* What one attempt came to. */
typedef struct {
	ms_rc_t rc;          /* MS_OK or the attempt's error */
	long http_status;    /* 0 when there was no HTTP answer */
	long retry_after_s;  /* the API's retry-after in seconds, -1 when absent */
	bool idempotent;     /* repeating the request cannot apply it twice */
	bool permanent;      /* a transport failure retrying cannot fix (TLS trust) */
} ms_backoff_outcome_t;

typedef struct {
	unsigned attempts;  /* attempts made so far */
	uint64_t waited_ms; /* sum of the waits decided so far */
} ms_backoff_state_t;

/* Uniformly random 32 bits. */
typedef uint32_t (*ms_jitter_fn)(void *ctx);

/* Whether this outcome is worth another attempt at all (ignores caps). */
bool ms_backoff_retryable(const ms_backoff_outcome_t *o);

/* Record the attempt in s; true with *delay_ms when another attempt is due,
 * false when the caller should give up (or succeeded). jitter NULL: no
 * jitter (the upper half of the equal-jitter range is not used). */
bool ms_backoff_next(const ms_backoff_policy_t *p, ms_backoff_state_t *s,
                     const ms_backoff_outcome_t *o, ms_jitter_fn jitter, void *jitter_ctx,
                     uint64_t *delay_ms);

/* A jitter source from the system's CSPRNG (arc4random). */
uint32_t ms_backoff_system_jitter(void *ctx);
