#!/bin/sh
# The libFuzzer targets (tests/fuzz, doc/hardening.md): every parser of
# outside input, fuzzed for a bounded time each.
#  1. configure and build a separate, out-of-tree build directory with
#     --enable-fuzzing (clang; coverage, ASan, UBSan) and `make fuzz-targets`;
#  2. generate each target's seed corpus from the recorded responses
#     (tests/fuzz/seeds.py);
#  3. run each target for FUZZ_SECONDS; any crash, leak, UBSan report,
#     timeout or out-of-memory fails the run, and the input is kept.
#
# Usage: scripts/test-fuzz.sh [target...]   (default: all; e.g. fuzz_cf_zone)
#        make fuzz                          (the same, all targets)
# Environment:
#   FUZZ_SECONDS      per target (default 20)
#   FUZZ_RSS_MB       memory limit per target, MB (default 2048)
#   FUZZ_TIMEOUT      seconds one input may take (default 10)
#   FUZZ_CC           the compiler (default clang-14, else clang)
#   MS_FUZZ_BUILDDIR  the build directory (default: <source>/build-fuzz), with
#     obj/        the build; the programs are in obj/tests/fuzz/
#     seeds/T/    target T's seeds, generated afresh each run
#     corpus/T/   what T's runs found worth keeping (kept across runs)
#     artifacts/  inputs that failed: T-crash-..., T-leak-..., T-timeout-...,
#                 T-oom-...; rerun one with obj/tests/fuzz/T FILE
#     logs/T.log  each run's output
#     src/        a clean copy of the sources, when the source tree is
#                 configured in place (scripts/vpath-build.sh)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/scripts/vpath-build.sh"
ms_vpath_builddir "${MS_FUZZ_BUILDDIR:-$SRCDIR/build-fuzz}"
SECONDS_EACH=${FUZZ_SECONDS:-20}
RSS_MB=${FUZZ_RSS_MB:-2048}
TIMEOUT=${FUZZ_TIMEOUT:-10}

CC=${FUZZ_CC:-}
if [ -z "$CC" ]; then
	CC=clang
	command -v clang-14 >/dev/null && CC=clang-14
fi
command -v "$CC" >/dev/null || die "no $CC: apt-get install clang-14 libclang-rt-14-dev (scripts/install-deps.sh)"

# ---- sources, configure, build (scripts/vpath-build.sh) ----------------------
ms_vpath_prepare "$SRCDIR" --enable-fuzzing --without-cmocka CC="$CC"
ms_vpath_make fuzz-targets

if [ $# -gt 0 ]; then
	targets=$*
else
	targets=$(sed 's|.*/||' "$OBJ/tests/fuzz/targets.txt")
fi
for t in $targets; do
	[ -x "$OBJ/tests/fuzz/$t" ] || die "no fuzz target $t (see $OBJ/tests/fuzz/targets.txt)"
done

# ---- seeds --------------------------------------------------------------------
rm -rf "$BUILD/seeds" "$BUILD/logs"
mkdir -p "$BUILD/logs" "$BUILD/artifacts"
# shellcheck disable=SC2086 # one word per target
/usr/bin/python3 "$SRC/tests/fuzz/seeds.py" "$SRC" "$BUILD/seeds" $targets

# ---- run ------------------------------------------------------------------------
# The first error ends a run (libFuzzer keeps the input); leak checks are on;
# UBSan reports abort (the build has -fno-sanitize-recover=all), so they are
# crashes too.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=""
for t in $targets; do
	mkdir -p "$BUILD/corpus/$t"
	log=$BUILD/logs/$t.log
	status=0
	"$OBJ/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS_MB" \
		-malloc_limit_mb="$RSS_MB" -timeout="$TIMEOUT" -print_final_stats=1 \
		-artifact_prefix="$BUILD/artifacts/$t-" \
		"$BUILD/corpus/$t" "$BUILD/seeds/$t" >"$log" 2>&1 || status=$?
	# "Done 1574681 runs in 21 second(s)"; the last status line has "cov: 812".
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
	if [ "$status" -ne 0 ]; then
		failed="$failed $t"
		say "$t FAILED (exit $status); the last lines of $log:"
		tail -n 40 "$log"
	else
		say "$t ok: ${runs:-?} runs, coverage ${cov:-?} edges, corpus $(find "$BUILD/corpus/$t" -type f | wc -l) inputs"
	fi
done

elapsed=$(( $(date +%s) - start ))
if [ -n "$failed" ]; then
	say "FAILED:$failed (${elapsed} s); inputs in $BUILD/artifacts/"
	exit 1
fi
say "clean: $(echo "$targets" | wc -w) targets, ${SECONDS_EACH} s each, no crash, leak, timeout or OOM (${elapsed} s)"
