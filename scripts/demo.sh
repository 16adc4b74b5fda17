#!/bin/sh
# The project's main job, end to end on this machine: install, build, then run
# a real knotd with the module loaded and show what it serves.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec /usr/bin/python3 scripts/demo.py
