#!/bin/sh
# Build the module against Knot 3.4 and run its tests with knotd 3.4, in a
# Debian 13 (trixie) root made with debootstrap (doc/knot-versions.md):
#  1. make the root once (debootstrap, Debian's package) and keep it;
#  2. install the build and test dependencies in it with
#     scripts/install-deps.sh (Debian 13's knot, libknot-dev, ...);
#  3. copy the sources in, configure and build out of tree there;
#  4. `make check` there: every unit test, then the integration tests given
#     as arguments, or a representative set of them by default.
# Steps 3 and 4 run in new mount, PID and network namespaces: the mounts the
# root needs (/proc, /dev) exist only in them, so they vanish with the last
# process whatever way the run ends; every knotd and unbound a test left
# behind is killed with it; and the tests have a loopback of their own, so
# their ports never meet those of tests running on the host.
#
# Usage: scripts/test-knot34.sh [pytest arguments]
#   Without arguments: $MS_KNOT34_TESTS (default below). With arguments:
#   they replace the selection, e.g. `.` for the whole suite, or
#   test_sync.py -k dry.
# Environment:
#   MS_KNOT34_BUILDDIR  where everything goes (default: <source>/build-knot34):
#     root/              the Debian 13 root, kept between runs
#     root/ms/src        a clean copy of the sources (made afresh every run)
#     root/ms/obj        the build
#     root/ms/pytest     every test's files (knot.conf, knotd.log, ...)
#   MS_KNOT34_MIRROR    the Debian mirror to bootstrap from (default: the
#                       first Debian archive in this machine's apt sources)
#   MS_KNOT34_TESTS     the default pytest selection
#   MS_KNOT34_REFRESH=1 make the root again from scratch
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MS_KNOT34_BUILDDIR:-$SRCDIR/build-knot34}
SUITE=trixie
# A representative set (doc/knot-versions.md): module loading and settings,
# samples, install, the local adapters against knotd 3.4's keymgr and knotc,
# the C client, every sync test, reload and stop during an API call, a local
# rollover through the gate during an API outage, a rollover of a zone fed by
# zone transfer, and validation through real resolvers across rollovers on
# both sides.
DEFAULT_TESTS="test_foundation.py test_samples.py test_install.py test_local_adapters.py
test_client.py test_sync.py test_sync_reload.py test_ksk_exchange.py
test_sync_rollover.py::test_rollover_gate_holds_new_zsk_through_api_outage
test_sync_transfer.py::test_transferred_zone_zsk_rollover
test_validation.py::test_two_signers_validate_through_rollovers"
start=$(date +%s)

say() { echo "test-knot34: $*"; }
die() { echo "test-knot34: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, namespaces): run it with sudo"
for tool in debootstrap unshare chroot flock ip; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: run scripts/install-deps.sh (debootstrap, util-linux, iproute2)"
done
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
ROOT=$BUILD/root
exec 9>"$BUILD/.lock"
flock -n 9 || die "another run is using $BUILD"

# The Debian archive this machine's apt uses (one-line .list or deb822
# .sources): the first "deb" source of a release suite (no -updates,
# -security, ...).
host_mirror() {
	# shellcheck disable=SC2016
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
		function emit() {
			if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "")
				for (i = split(suites, s, " "); i > 0; i--)
					if (s[i] !~ /-/) { split(uris, u, " "); print u[1]; found = 1; exit }
			types = uris = suites = enabled = ""
		}
		/^deb[ \t]/ {
			sub(/\[[^]]*\]/, ""); if ($3 !~ /-/) { print $2; found = 1; exit } next
		}
		/^[ \t]*$/ { emit(); next }
		/^Types:/   { sub(/^Types:[ \t]*/, "");   types = $0 }
		/^URIs:/    { sub(/^URIs:[ \t]*/, "");    uris = $0 }
		/^Suites:/  { sub(/^Suites:[ \t]*/, "");  suites = $0 }
		/^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = tolower($0) }
		END { if (!found) emit() }'
}

# in_root NET SCRIPT [ARGS]: run the sh SCRIPT inside the root, in its own
# mount and PID namespaces; NET=isolated adds a network namespace with only
# loopback (the tests), NET=host keeps the machine's network (apt).
in_root() {
	net=$1
	shift
	netflag=""
	[ "$net" = isolated ] && netflag=--net
	unshare --mount --propagation private --pid --fork --kill-child $netflag \
		/bin/sh -eu -c '
		root=$1; net=$2; shift 2
		[ "$net" = host ] || ip link set lo up
		mount -t proc proc "$root/proc"
		mount --bind /dev "$root/dev"
		mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
			/bin/sh -eu "$@"' sh "$ROOT" "$net" "$@"
}

# ---- 1. the Debian 13 root ----------------------------------------------------
if [ "${MS_KNOT34_REFRESH:-0}" = 1 ]; then
	say "removing $ROOT to make it again"
	rm -rf "$ROOT"
fi
if [ ! -f "$ROOT/.ms-bootstrapped" ]; then
	MIRROR=${MS_KNOT34_MIRROR:-$(host_mirror)}
	[ -n "$MIRROR" ] || die "no Debian mirror in /etc/apt/sources.list*: set MS_KNOT34_MIRROR"
	say "making a Debian $SUITE root in $ROOT (debootstrap from $MIRROR)"
	rm -rf "$ROOT" "$ROOT.new"
	debootstrap --variant=minbase "$SUITE" "$ROOT.new" "$MIRROR" >"$BUILD/debootstrap.log" 2>&1 ||
		{ tail -20 "$BUILD/debootstrap.log" >&2; die "debootstrap failed (log: $BUILD/debootstrap.log)"; }
	# Packages must not start their daemons (knot, unbound) in the root.
	printf '#!/bin/sh\nexit 101\n' >"$ROOT.new/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT.new/usr/sbin/policy-rc.d"
	touch "$ROOT.new/.ms-bootstrapped"
	mv "$ROOT.new" "$ROOT"
	say "root made in $(( $(date +%s) - start )) s"
fi

# ---- 2. dependencies (apt runs only when something is missing) --------------
cp -f /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -f "$SRCDIR/scripts/install-deps.sh" "$ROOT/install-deps.sh"
in_root host /install-deps.sh
knot_version=$(in_root host -c 'pkg-config --modversion knotd')
case $knot_version in
3.4.*) ;;
*) die "the root has Knot $knot_version, not 3.4: MS_KNOT34_REFRESH=1 makes it again" ;;
esac
say "Knot $knot_version in the root ($(( $(date +%s) - start )) s so far)"

# ---- 3. sources, configure, build ---------------------------------------------
MS=$ROOT/ms
rm -rf "$MS/src" "$MS/obj" "$MS/pytest"
mkdir -p "$MS/src" "$MS/obj"
if command -v git >/dev/null && git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	exclude=.
	case $BUILD in "$SRCDIR"/*) exclude=":(exclude)${BUILD#"$SRCDIR"/}" ;; esac
	# Tracked and untracked, not ignored: the working tree as git sees it.
	(cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard -- . "$exclude" |
		tar --null -T - --ignore-failed-read -cf -) | tar -xf - -C "$MS/src"
elif [ -f "$SRCDIR/Makefile" ]; then
	# No git (e.g. an unpacked release): what `make dist` would ship.
	rmdir "$MS/src"
	make -C "$SRCDIR" --no-print-directory distdir distdir="$MS/src"
else
	die "$SRCDIR is neither a git checkout nor configured: cannot tell sources from build files"
fi

# pytest arguments, each quoted for the shell inside the root.
[ "$#" -gt 0 ] || set -- ${MS_KNOT34_TESTS:-$DEFAULT_TESTS}
quoted=""
for a in "$@"; do
	quoted="$quoted '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
done

status=0
in_root isolated -c '
	t0=$(date +%s)
	cd /ms/src
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
	cd /ms/obj
	/ms/src/configure -q
	make -j"$(nproc)"
	t1=$(date +%s)
	echo "test-knot34: autoreconf, configure and build took $((t1 - t0)) s"
	make --no-print-directory check PYTEST_ARGS="--basetemp=/ms/pytest $1"
	echo "test-knot34: make check took $(( $(date +%s) - t1 )) s"' sh "$quoted" ||
	status=$?

elapsed=$(( $(date +%s) - start ))
if [ "$status" -ne 0 ]; then
	say "FAILED with Knot $knot_version (exit $status, ${elapsed} s); test files: $MS/pytest"
	exit 1
fi
say "passed with Knot $knot_version: unit tests and integration tests ($*) in ${elapsed} s"
