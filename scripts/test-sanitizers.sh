#!/bin/sh
# The unit and integration tests against a build with AddressSanitizer and
# UBSan (doc/hardening.md says what runs, with which options, and why):
#  1. configure and build a separate, out-of-tree build directory with
#     --enable-sanitizers (gcc);
#  2. `make check` there: the cmocka tests, fully instrumented, leak checks
#     on; then pytest, with that multisigner.so loaded into Debian's
#     uninstrumented knotd, libasan preloaded into knotd, knotc and keymgr
#     only (never into python);
#  3. fail if a test failed or a sanitizer reported anything, printing it.
#
# Usage: scripts/test-sanitizers.sh [pytest arguments]
#   Without arguments the whole integration suite runs; arguments replace
#   that selection, e.g. test_foundation.py test_sync.py, or -m 'not slow'.
# Environment:
#   MS_SAN_BUILDDIR  the build directory (default: <source>/build-asan), with
#     obj/     the build
#     logs/    sanitizer report files (empty after a clean run)
#     pytest/  every test's files, kept: knot.conf, knotd.log, knotd.stderr
#     preload/ a shim preloaded with libasan (see below)
#     src/     a clean copy of the sources, when the source tree is
#              configured in place (scripts/vpath-build.sh)
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/scripts/vpath-build.sh"
ms_vpath_builddir "${MS_SAN_BUILDDIR:-$SRCDIR/build-asan}"
LOGS=$BUILD/logs
PYTMP=$BUILD/pytest
PRELOAD=$BUILD/preload

case $BUILD in
*[[:space:]:\'\"]*) die "$BUILD: LD_PRELOAD cannot name files under a path with blanks, colons or quotes" ;;
esac
LIBASAN=$(gcc -print-file-name=libasan.so)
[ -e "$LIBASAN" ] || die "gcc has no libasan.so: apt-get install build-essential (libgcc-12-dev)"
LIBASAN=$(readlink -f "$LIBASAN")

# ---- sources, configure, build (scripts/vpath-build.sh) ----------------------
ms_vpath_prepare "$SRCDIR" --enable-sanitizers CC=gcc
grep -q '^SANITIZER_CFLAGS = -fsanitize=' "$OBJ/Makefile" ||
	die "$OBJ is configured without --enable-sanitizers"
ms_vpath_make all

# ---- the shim preloaded with libasan ----------------------------------------
# libasan, preloaded into an uninstrumented program, initializes itself on the
# first malloc(). In knotd, knotc and keymgr that comes from p11-kit's
# constructor inside newlocale(), which holds glibc's locale lock. The
# runtime's init ends with dlsym("swift_demangle") and dlerror(); a failed
# lookup makes dlerror() translate its message under the same lock, which
# corrupts it, and the program hangs later (at the latest in freelocale() at
# exit). Defining that symbol makes the lookup succeed. The runtime calls it
# only for Swift symbol names (_T...); this one declines every name.
mkdir -p "$PRELOAD"
cat >"$PRELOAD/swift_demangle.c" <<'EOF'
#include <stddef.h>
char *swift_demangle(const char *name, size_t len, char *out, size_t *out_len, unsigned flags)
{
	(void)name, (void)len, (void)out, (void)out_len, (void)flags;
	return NULL;
}
EOF
gcc -shared -fPIC -O2 -o "$PRELOAD/libswift_demangle.so" "$PRELOAD/swift_demangle.c"

# ---- run ---------------------------------------------------------------------
rm -rf "$LOGS" "$PYTMP" "$BUILD/reports.txt"
mkdir -p "$LOGS"
# Our own programs (unit tests, tests/tools/*): fully instrumented, so leak
# checks on. The first error ends the process; reports go to $LOGS.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:log_path=$LOGS/asan"
# GCC 12's UBSan ignores log_path when libasan is in the process (it always
# is here): its reports go to stderr, knotd's into each test's knotd.stderr,
# which is searched below. print_stacktrace names the caller chain;
# halt_on_error matches -fno-sanitize-recover (configure.ac).
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"
# Knot's programs load the module and are not instrumented: libasan must come
# first in their library list, so it is preloaded, into them only (python must
# not get it). Leak checks on there too: Knot 3.2.6 itself reports none over the whole suite. knotd
# unloads the module before LeakSanitizer looks, so the module's frames in a
# leak report read "<unknown module>"; doc/hardening.md says how to get them.
export MS_KNOT_ENV="LD_PRELOAD=$LIBASAN:$PRELOAD/libswift_demangle.so ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:log_path=$LOGS/asan-knot"
# Tells the tests that this build cannot run under valgrind.
export MS_SANITIZERS=1

quoted=""
for a in "$@"; do
	quoted="$quoted '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
done
say "libasan: $LIBASAN; reports: $LOGS; test files: $PYTMP"
status=0
make -C "$OBJ" --no-print-directory -j"$(nproc)" check PYTEST_ARGS="--basetemp='$PYTMP'$quoted" || status=$?

# ---- any report fails the run ------------------------------------------------
found=0
for f in "$LOGS"/*; do
	[ -e "$f" ] || continue
	found=1
	echo "==== sanitizer report $f"
	cat "$f"
done
if [ -d "$PYTMP" ]; then
	grep -rlE --include=knotd.stderr 'Sanitizer|runtime error: ' "$PYTMP" >"$BUILD/reports.txt" || true
	while IFS= read -r f; do
		found=1
		echo "==== sanitizer report in $f"
		cat "$f"
	done <"$BUILD/reports.txt"
fi
elapsed=$(( $(date +%s) - start ))
if [ "$found" -ne 0 ]; then
	if grep -qs '<unknown module>' "$LOGS"/asan-knot.*; then
		say "frames in <unknown module> are the unloaded module's: to name them, rerun" \
			"with LDFLAGS=-Wl,-z,nodelete and a new MS_SAN_BUILDDIR (doc/hardening.md)"
	fi
	say "FAILED: sanitizer reports above (${elapsed} s)"
	exit 1
fi
if [ "$status" -ne 0 ]; then
	say "FAILED: make check exited with $status (${elapsed} s)"
	exit 1
fi
say "clean: unit and integration tests passed with ASan and UBSan, no reports (${elapsed} s)"
