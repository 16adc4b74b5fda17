#include "name_hash.h"
#include "schedule.h"

ms_sched_class_t ms_sched_class(const ms_sched_zone_t *z, double now)
{
	if (z->dirty || (z->due_followup > 0 && z->due_followup <= now)) {
		return MS_SCHED_CHANGE;
	}
	return z->due_routine <= now ? MS_SCHED_ROUTINE : MS_SCHED_IDLE;
}

double ms_sched_wake_at(const ms_sched_zone_t *z)
{
	if (z->dirty) {
		return 0;
	}
	if (z->due_followup > 0 && z->due_followup < z->due_routine) {
		return z->due_followup;
	}
	return z->due_routine;
}

/* When it became due within its class. */
static double due_in_class(const ms_sched_zone_t *z, ms_sched_class_t c)
{
	if (c == MS_SCHED_CHANGE) {
		return z->dirty ? 0 : z->due_followup;
	}
	return z->due_routine;
}

bool ms_sched_before(const ms_sched_zone_t *a, ms_sched_class_t ca,
                     const ms_sched_zone_t *b, ms_sched_class_t cb)
{
	if (ca != cb) {
		return ca > cb;
	}
	return due_in_class(a, ca) < due_in_class(b, cb);
}

double ms_sched_phase(const char *name)
{
	return (double)ms_name_hash(name) / 4294967296.0;
}

double ms_sched_next_routine(double now, double interval, double phase, double min_gap)
{
	if (!(interval > 0)) {
		return now;
	}
	double offset = phase * interval;
	double earliest = now + (min_gap > 0 ? min_gap : 0);
	double x = (earliest - offset) / interval;
	double k = (double)(int64_t)x; /* floor() without libm, for x ≥ 0 and below */
	if (k > x) {
		k -= 1;
	}
	return (k + 1) * interval + offset; /* the first slot strictly after earliest */
}

double ms_sched_stretch(double demand_per_s, uint64_t usable, uint32_t window_s)
{
	if (usable == 0 || window_s == 0 || !(demand_per_s > 0)) {
		return 1.0;
	}
	double capacity = (double)usable * MS_SCHED_ROUTINE_SHARE / (double)window_s;
	double factor = demand_per_s / capacity;
	return factor > 1.0 ? factor : 1.0;
}
