/*
 * When to ask for another page of a list, as a pure decision. The contract:
 * page until total_count items arrived or a page comes back empty. Guards:
 * a page cap (a server that never stops paging must not keep us forever),
 * and change detection: offset paging over a list that changes between two
 * page requests can skip an item, so a changed total_count or an item seen
 * twice makes the caller start over instead of trusting a partial list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cf_types.h"
#include "error.h"

#define MS_CF_MAX_PAGES 1000

typedef enum {
	MS_CF_PAGE_MORE,    /* ask for page p->page next */
	MS_CF_PAGE_DONE,    /* the list is complete */
	MS_CF_PAGE_CHANGED, /* the list changed while paging: start over */
} ms_cf_page_step_t;

typedef struct {
	unsigned page;    /* the page to ask for; 1 after start */
	size_t received;  /* items over all pages so far */
	long first_total; /* total_count on the first page, -1 unknown */
} ms_cf_pager_t;

void ms_cf_pager_start(ms_cf_pager_t *p);

/* Page p->page arrived with `items` entries, `repeated` of which were seen
 * on earlier pages. MS_ETOOBIG when more than max_pages would be needed. */
ms_rc_t ms_cf_pager_step(ms_cf_pager_t *p, const ms_cf_result_info_t *info, size_t items,
                         size_t repeated, unsigned max_pages, ms_cf_page_step_t *step,
                         ms_err_t *err);
