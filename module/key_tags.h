/*
 * Small lists of DNSSEC key tags that hold each tag once (the tags of the
 * RRSIGs over an RRset, of the CDS records at an apex, ...). Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether tag is among tags[0..count). */
bool ms_key_tags_has(const uint16_t *tags, size_t count, uint16_t tag);

/* Add tag to tags[0..*count) unless it is there already; false (list
 * unchanged) when it is not there and the list already holds cap tags. */
bool ms_key_tags_add(uint16_t *tags, size_t *count, size_t cap, uint16_t tag);
