/*
 * Everything that differs between the Knot DNS series we build against lives
 * here, so that the rest of the module is written once.
 *
 *   series  ABI  differences that matter to us
 *   3.2     400  baseline (Debian 12)
 *   3.3     500  none for the calls we make
 *   3.4     600  knotd_mod_ctx()/knotd_mod_zone() take a const module
 *                  (non-const converts: no code needed); the query-path
 *                  changes (qdata addresses, stages) do not concern us, as
 *                  the module has no query hooks. Tested (Debian 13, 3.4.6).
 *   3.5     600  as 3.4 (untested)
 *
 * doc/knot-versions.md says what was checked for each series.
 */
#pragma once

#include <knot/module.h>

#if KNOTD_MOD_ABI_VERSION < 400
#error "knot-multisigner needs Knot DNS 3.2 or later (module ABI 400+)"
#endif

#define MS_KNOT_ABI KNOTD_MOD_ABI_VERSION
