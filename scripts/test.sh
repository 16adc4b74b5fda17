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
# build-asan/ (doc/hardening.md); then against Knot 3.4 in a Debian 13 root
# (build-knot34/), and the release tarball (doc/knot-versions.md).
if [ "${MS_QUICK:-0}" != 1 ]; then
	# Under the sanitizers, all but the simulator's own tests (no module in
	# them) and the two-signer validation (its module work is the rollover
	# tests' again): CI has 90 minutes, the whole of this script about 60.
	./scripts/test-sanitizers.sh --ignore=test_cfsim.py --ignore=test_cfsim_schema.py \
		--ignore=test_validation.py
	./scripts/test-knot34.sh
	make --no-print-directory distcheck
fi
# Every parser of outside input under libFuzzer, FUZZ_SECONDS (20) each,
# out of tree in build-fuzz/ (doc/hardening.md).
if [ "${MS_QUICK:-0}" != 1 ]; then
	./scripts/test-fuzz.sh
fi
