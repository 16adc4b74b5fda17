#!/bin/sh
# Install everything knot-multisigner needs to build, test and run its demo on
# Debian 12 (or 13), from Debian's own packages. Safe to run again: it only
# calls apt when something is missing.
set -eu

# Names that exist in both releases (clang, not clang-14): scripts/test-knot34.sh
# runs this script in a Debian 13 root too.
PACKAGES="
build-essential autoconf automake libtool pkg-config
knot knot-dnsutils libknot-dev
libcurl4-openssl-dev libjson-c-dev liburcu-dev libcmocka-dev libgnutls28-dev
python3 python3-pytest python3-dnspython python3-jsonschema python3-cryptography
python3-docutils
openssl valgrind binutils unbound dnsperf
clang libclang-rt-dev
debootstrap iproute2
"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all Debian packages present"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
# Debian's knot package may start a system knotd; the tests and the demo
# run their own on loopback ports, so leave the system one alone.
