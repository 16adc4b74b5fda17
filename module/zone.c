#include <stdarg.h>
#include <sys/stat.h>

#include "zone.h"

bool ms_zone_knotd_stopping(ms_zone_t *z)
{
	struct stat st;
	if (z->env.control_socket[0] == '\0') {
		return false; /* unknown: behave as if knotd runs */
	}
	if (stat(z->env.control_socket, &st) == 0) {
		atomic_store(&z->control_seen, true);
		return false;
	}
	return atomic_load(&z->control_seen);
}

void ms_zone_log(ms_zone_t *z, int priority, const char *fmt, ...)
{
	if (z->hooks.log == NULL || atomic_load(&z->abort) || ms_zone_knotd_stopping(z)) {
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
