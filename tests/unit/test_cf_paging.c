/* Paging decisions: complete lists, empty pages, missing totals, lists that
 * change while paged, and servers that never stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cf_paging.h"

static ms_cf_result_info_t info(long page, long per_page, long count, long total,
                                long total_pages)
{
	return (ms_cf_result_info_t){ .present = true, .page = page, .per_page = per_page,
	                              .count = count, .total_count = total,
	                              .total_pages = total_pages };
}

static ms_cf_page_step_t step(ms_cf_pager_t *p, ms_cf_result_info_t i, size_t items,
                              size_t repeated)
{
	ms_cf_page_step_t s;
	assert_int_equal(ms_cf_pager_step(p, &i, items, repeated, MS_CF_MAX_PAGES, &s, NULL), MS_OK);
	return s;
}

static void pages_until_total_count(void **state)
{
	(void)state;
	ms_cf_pager_t p;
	ms_cf_pager_start(&p);
	assert_int_equal(p.page, 1);
	assert_int_equal(step(&p, info(1, 2, 2, 5, 3), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(p.page, 2);
	assert_int_equal(step(&p, info(2, 2, 2, 5, 3), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(3, 2, 1, 5, 3), 1, 0), MS_CF_PAGE_DONE);
	assert_int_equal(p.received, 5);
	/* Exactly full pages: total_count ends it without asking for an empty page. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 2, 2, 4, 2), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(2, 2, 2, 4, 2), 2, 0), MS_CF_PAGE_DONE);
}

static void empty_page_ends(void **state)
{
	(void)state;
	ms_cf_pager_t p;
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 100, 0, 0, 0), 0, 0), MS_CF_PAGE_DONE);
	/* total_count claims more than there is: an empty page still ends it. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 2, 2, 9, 5), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(2, 2, 0, 9, 5), 0, 0), MS_CF_PAGE_DONE);
}

static void missing_totals(void **state)
{
	(void)state;
	ms_cf_pager_t p;
	/* No result_info at all (ZSK list style): one page. */
	ms_cf_pager_start(&p);
	ms_cf_result_info_t none = { .present = false, .page = -1, .per_page = -1, .count = -1,
	                             .total_count = -1, .total_pages = -1 };
	assert_int_equal(step(&p, none, 3, 0), MS_CF_PAGE_DONE);
	/* Only total_pages. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 2, 2, -1, 2), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(2, 2, 2, -1, 2), 2, 0), MS_CF_PAGE_DONE);
	/* Only per_page: a short page is the last. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 2, 2, -1, -1), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(2, 2, 1, -1, -1), 1, 0), MS_CF_PAGE_DONE);
	/* Nothing but presence: go on until an empty page. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(-1, -1, -1, -1, -1), 7, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(-1, -1, -1, -1, -1), 0, 0), MS_CF_PAGE_DONE);
}

static void changes_while_paging(void **state)
{
	(void)state;
	ms_cf_pager_t p;
	/* A record added between pages: total_count moves. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 2, 2, 4, 2), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(2, 2, 2, 5, 3), 2, 0), MS_CF_PAGE_CHANGED);
	/* An item shifted onto the next page: seen twice. */
	ms_cf_pager_start(&p);
	assert_int_equal(step(&p, info(1, 2, 2, 4, 2), 2, 0), MS_CF_PAGE_MORE);
	assert_int_equal(step(&p, info(2, 2, 2, 4, 2), 2, 1), MS_CF_PAGE_CHANGED);
}

static void runaway_server_is_capped(void **state)
{
	(void)state;
	ms_cf_pager_t p;
	ms_cf_pager_start(&p);
	ms_err_t err = { 0 };
	ms_cf_page_step_t s = MS_CF_PAGE_MORE;
	ms_rc_t rc = MS_OK;
	unsigned pages = 0;
	/* Full pages forever, total_count never reached. */
	while (rc == MS_OK && s == MS_CF_PAGE_MORE) {
		ms_cf_result_info_t i = info(p.page, 100, 100, 1000000, 10000);
		rc = ms_cf_pager_step(&p, &i, 100, 0, 5, &s, &err);
		pages++;
	}
	assert_int_equal(rc, MS_ETOOBIG);
	assert_int_equal(pages, 5);
	assert_non_null(strstr(err.msg, "past 5 pages"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pages_until_total_count),
		cmocka_unit_test(empty_page_ends),
		cmocka_unit_test(missing_totals),
		cmocka_unit_test(changes_while_paging),
		cmocka_unit_test(runaway_server_is_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
