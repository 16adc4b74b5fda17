#!/bin/sh
# Every cmocka unit test binary under valgrind memcheck (`make check-valgrind`,
# options in Makefile.am, reasons in doc/hardening.md): an invalid read or
# write, a use of uninitialised memory, a bad free or a definitely or
# indirectly lost block fails the run. No suppressions are needed.
#
# Usage: scripts/test-valgrind.sh [BUILDDIR]
#   BUILDDIR is a configured build without sanitizers (default: the source
#   tree, where scripts/build.sh builds); the tests are built if needed.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${1:-$SRCDIR}
start=$(date +%s)
die() { echo "test-valgrind: $*" >&2; exit 2; }

command -v valgrind >/dev/null || die "valgrind not found: run scripts/install-deps.sh"
[ -f "$BUILDDIR/Makefile" ] || die "$BUILDDIR is not configured: run scripts/build.sh first"
# ASan and memcheck cannot share a process.
if grep -q '^SANITIZER_CFLAGS = -fsanitize=' "$BUILDDIR/Makefile"; then
	die "$BUILDDIR is built with --enable-sanitizers: valgrind needs a build without"
fi
status=0
make -C "$BUILDDIR" --no-print-directory -j"$(nproc)" check-valgrind || status=$?
elapsed=$(( $(date +%s) - start ))
if [ "$status" -ne 0 ]; then
	echo "test-valgrind: FAILED (${elapsed} s): valgrind's reports follow the summary of the test concerned"
	exit 1
fi
echo "test-valgrind: clean: every unit test passed under valgrind memcheck (${elapsed} s)"
