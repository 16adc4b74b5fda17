#!/bin/sh
# The whole test suite from a fresh Debian machine: install what is needed,
# build, run unit tests (cmocka) and integration tests (pytest, real knotd).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
# Unit tests under valgrind first, so that the output ends with the summaries
# of the full run.
make --no-print-directory check-valgrind
make --no-print-directory check
