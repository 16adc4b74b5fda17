/* Base64 (RFC 4648, standard alphabet, padded), strict in what it accepts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode; white space is skipped (zone files split keys). Returns false on
 * a character outside the alphabet, bad padding or an output over cap. */
bool ms_b64_decode(const char *in, uint8_t *out, size_t cap, size_t *out_len);

/* Encode with padding, NUL-terminated; false if cap is too small. */
bool ms_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
