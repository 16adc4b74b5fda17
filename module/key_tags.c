#include "key_tags.h"

bool ms_key_tags_has(const uint16_t *tags, size_t count, uint16_t tag)
{
	for (size_t i = 0; i < count; i++) {
		if (tags[i] == tag) {
			return true;
		}
	}
	return false;
}

bool ms_key_tags_add(uint16_t *tags, size_t *count, size_t cap, uint16_t tag)
{
	if (ms_key_tags_has(tags, *count, tag)) {
		return true;
	}
	if (*count >= cap) {
		return false;
	}
	tags[(*count)++] = tag;
	return true;
}
