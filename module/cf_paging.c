#include "cf_paging.h"

void ms_cf_pager_start(ms_cf_pager_t *p)
{
	*p = (ms_cf_pager_t){ .page = 1, .received = 0, .first_total = -1 };
}

static bool complete(const ms_cf_pager_t *p, const ms_cf_result_info_t *info, size_t items)
{
	if (items == 0 || !info->present) {
		return true; /* an empty page, or an unpaged answer */
	}
	if (info->total_count >= 0) {
		return p->received >= (size_t)info->total_count;
	}
	if (info->total_pages >= 0) {
		return p->page >= (unsigned long)info->total_pages;
	}
	/* No totals at all: a short page is the last one. */
	return info->per_page > 0 && items < (size_t)info->per_page;
}

ms_rc_t ms_cf_pager_step(ms_cf_pager_t *p, const ms_cf_result_info_t *info, size_t items,
                         size_t repeated, unsigned max_pages, ms_cf_page_step_t *step,
                         ms_err_t *err)
{
	p->received += items;
	if (p->page == 1) {
		p->first_total = info->present ? info->total_count : -1;
	} else if (repeated > 0 || (p->first_total >= 0 && info->present &&
	                            info->total_count >= 0 && info->total_count != p->first_total)) {
		*step = MS_CF_PAGE_CHANGED;
		return MS_OK;
	}
	if (complete(p, info, items)) {
		*step = MS_CF_PAGE_DONE;
		return MS_OK;
	}
	if (p->page >= max_pages) {
		return ms_err_set(err, MS_ETOOBIG, "the list goes on past %u pages: giving up "
		                  "(is the API paging correctly?)", max_pages);
	}
	p->page++;
	*step = MS_CF_PAGE_MORE;
	return MS_OK;
}
