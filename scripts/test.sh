#!/bin/sh
# The whole test suite from a fresh Debian machine: install what is needed,
# build, run unit tests (cmocka) and integration tests (pytest, real knotd).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
# Unit tests under valgrind first, so that the output ends with the summaries
# of the full run. MS_QUICK=1 skips this, the sanitizer and the fuzzing pass.
if [ "${MS_QUICK:-0}" != 1 ]; then
	make --no-print-directory check-valgrind
fi
make --no-print-directory check
# Unit and integration tests again, built with ASan and UBSan, out of tree in
# build-asan/ (doc/hardening.md).
if [ "${MS_QUICK:-0}" != 1 ]; then
	./scripts/test-sanitizers.sh
fi
# Every parser of outside input under libFuzzer, FUZZ_SECONDS (20) each,
# out of tree in build-fuzz/ (doc/hardening.md).
if [ "${MS_QUICK:-0}" != 1 ]; then
	./scripts/test-fuzz.sh
fi
