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
	# Under the sanitizers, the tests that drive the module's error and
	# lifecycle paths hardest; the rollover, secondary and validation files,
	# which take the longest, run in `make check` above and on Knot 3.4 below.
	# CI has 90 minutes; this script takes about 80 (doc/hardening.md).
	./scripts/test-sanitizers.sh test_foundation.py test_client.py test_local_adapters.py \
		test_sync.py test_faults.py test_lifecycle.py test_security.py test_sync_reload.py \
		test_tag_collision.py test_ds_report.py test_cds_served.py test_verify_default.py
	./scripts/test-knot34.sh
	make --no-print-directory distcheck
fi
# Every parser of outside input under libFuzzer, 10 s each in CI,
# out of tree in build-fuzz/ (doc/hardening.md).
if [ "${MS_QUICK:-0}" != 1 ]; then
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} ./scripts/test-fuzz.sh
fi
