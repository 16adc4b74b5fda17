/* The scheduler's decisions with made-up clocks: changes before routine
 * checks, routine checks spread over the interval, stretching when the
 * budget cannot carry the zones at their interval. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "schedule.h"

static void changes_go_before_routine_checks(void **state)
{
	(void)state;
	double now = 1000;
	ms_sched_zone_t overdue = { .due_routine = 10 };              /* very late */
	ms_sched_zone_t event = { .due_routine = 5000, .dirty = true };
	ms_sched_zone_t followup = { .due_routine = 5000, .due_followup = 999 };
	ms_sched_zone_t later = { .due_routine = 5000, .due_followup = 1001 };
	assert_int_equal(ms_sched_class(&overdue, now), MS_SCHED_ROUTINE);
	assert_int_equal(ms_sched_class(&event, now), MS_SCHED_CHANGE);
	assert_int_equal(ms_sched_class(&followup, now), MS_SCHED_CHANGE);
	assert_int_equal(ms_sched_class(&later, now), MS_SCHED_IDLE);
	assert_true(ms_sched_before(&event, MS_SCHED_CHANGE, &overdue, MS_SCHED_ROUTINE));
	assert_true(ms_sched_before(&followup, MS_SCHED_CHANGE, &overdue, MS_SCHED_ROUTINE));
	assert_false(ms_sched_before(&overdue, MS_SCHED_ROUTINE, &followup, MS_SCHED_CHANGE));
	/* Events (no time) before follow-ups; within a class, longest due first. */
	assert_true(ms_sched_before(&event, MS_SCHED_CHANGE, &followup, MS_SCHED_CHANGE));
	ms_sched_zone_t less_overdue = { .due_routine = 20 };
	assert_true(ms_sched_before(&overdue, MS_SCHED_ROUTINE, &less_overdue, MS_SCHED_ROUTINE));
	assert_false(ms_sched_before(&less_overdue, MS_SCHED_ROUTINE, &overdue, MS_SCHED_ROUTINE));
}

static void wake_at_the_earliest_need(void **state)
{
	(void)state;
	ms_sched_zone_t z = { .due_routine = 100 };
	assert_true(ms_sched_wake_at(&z) == 100);
	z.due_followup = 50;
	assert_true(ms_sched_wake_at(&z) == 50);
	z.due_followup = 150;
	assert_true(ms_sched_wake_at(&z) == 100);
	z.dirty = true;
	assert_true(ms_sched_wake_at(&z) == 0);
}

/* A zone keeps its slot whatever time its pass ran at, and its next
 * routine check is never more than one interval away. */
static void routine_checks_keep_their_phase(void **state)
{
	(void)state;
	double iv = 60, phase = 0.25; /* slot at 15 s into every minute */
	assert_true(ms_sched_next_routine(0, iv, phase, 0) == 15);
	assert_true(ms_sched_next_routine(15, iv, phase, 0) == 75);   /* ran on its slot */
	assert_true(ms_sched_next_routine(16, iv, phase, 0) == 75);   /* ran a bit late */
	assert_true(ms_sched_next_routine(74, iv, phase, 0) == 75);   /* ran very late */
	assert_true(ms_sched_next_routine(75, iv, phase, 0) == 135);
	for (double now = 0; now < 1000; now += 7.3) {
		double next = ms_sched_next_routine(now, iv, phase, 0);
		assert_true(next > now && next <= now + iv);
	}
	/* Just loaded: not within half an interval of the first pass. */
	assert_true(ms_sched_next_routine(0, iv, phase, iv / 2) == 75);
	assert_true(ms_sched_next_routine(44, iv, phase, iv / 2) == 75);
	assert_true(ms_sched_next_routine(46, iv, phase, iv / 2) == 135);
	for (double now = 0; now < 1000; now += 7.3) {
		double next = ms_sched_next_routine(now, iv, phase, iv / 2);
		assert_true(next > now + iv / 2 && next <= now + iv * 1.5);
	}
	assert_true(ms_sched_next_routine(5, 0, phase, 0) == 5);
}

/* 10,000 zones loaded at the same moment: their routine checks spread over
 * the interval, no tenth of it holding much more than a tenth of them. */
static void phases_spread_zones_evenly(void **state)
{
	(void)state;
	int bins[10] = { 0 };
	char name[64];
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "zone%d.example", i);
		double p = ms_sched_phase(name);
		assert_true(p >= 0 && p < 1);
		bins[(int)(p * 10)]++;
	}
	for (int i = 0; i < 10; i++) {
		assert_in_range(bins[i], 850, 1150);
	}
	assert_true(ms_sched_phase("Example.COM") == ms_sched_phase("example.com"));
	assert_true(ms_sched_phase("a.example") != ms_sched_phase("b.example"));
}

static void stretch_only_beyond_the_budget(void **state)
{
	(void)state;
	/* 960 usable per 300 s, 80% for routine checks: 2.56 requests/s. */
	assert_true(ms_sched_stretch(0, 960, 300) == 1.0);
	double per_zone = MS_SCHED_CHECK_COST / 60.0;  /* 60 s interval */
	assert_true(ms_sched_stretch(76 * per_zone, 960, 300) == 1.0);   /* 2.53/s */
	double f = ms_sched_stretch(10000 * per_zone, 960, 300);
	/* 10,000 zones × 2 requests need 7,813 s at 2.56/s. */
	assert_true(f * 60 > 7812 && f * 60 < 7813);
	assert_true(ms_sched_stretch(1, 0, 300) == 1.0);
	assert_true(ms_sched_stretch(1, 960, 0) == 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(changes_go_before_routine_checks),
		cmocka_unit_test(wake_at_the_earliest_need),
		cmocka_unit_test(routine_checks_keep_their_phase),
		cmocka_unit_test(phases_spread_zones_evenly),
		cmocka_unit_test(stretch_only_beyond_the_budget),
	};
	return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
