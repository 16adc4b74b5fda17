/*
 * A case-insensitive FNV-1a hash of a domain name: the scheduler's routine
 * slot of a zone and the registry's index of zones by name both need one.
 */
#pragma once

#include <stdint.h>

static inline uint32_t ms_name_hash(const char *name)
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p != '\0'; p++) {
		char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
		h = (h ^ (uint8_t)c) * 16777619u;
	}
	return h;
}
