#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "zone.h"

/* Here rather than in knot_env.c, which is knotd glue: the unit tests free
 * the zones they build too. */
void ms_knot_env_clear(ms_knot_env_t *env)
{
	free(env->kasp_db);
	free(env->zone_file);
	free(env->control_socket);
	free(env->state_dir);
	env->kasp_db = env->zone_file = env->control_socket = env->state_dir = NULL;
}

bool ms_zone_knotd_stopping(ms_zone_t *z)
{
	struct stat st;
	if (!ms_path_known(z->env.control_socket)) {
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
