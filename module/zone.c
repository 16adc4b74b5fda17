#include <stdarg.h>

#include "zone.h"

void ms_zone_log(ms_zone_t *z, int priority, const char *fmt, ...)
{
	if (z->hooks.log == NULL) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	z->hooks.log(z->hooks.opaque, priority, fmt, ap);
	va_end(ap);
}

void ms_zone_count(ms_zone_t *z, ms_counter_t counter, uint64_t delta)
{
	if (z->hooks.count != NULL) {
		z->hooks.count(z->hooks.opaque, counter, delta);
	}
}
