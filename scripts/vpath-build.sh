# shellcheck shell=sh
# Out-of-tree (VPATH) builds for the extra test passes: sourced by
# scripts/test-sanitizers.sh and scripts/test-fuzz.sh. In order:
#   ms_vpath_builddir DIR            BUILD, OBJ, start; say() and die()
#   ms_vpath_prepare SRCDIR ARGS...  sources (SRC) and a configured OBJ
#   ms_vpath_make TARGET             the build itself
# (ms_vpath_sources and ms_vpath_configure are the steps of ms_vpath_prepare).

# say MESSAGE, die MESSAGE: a line prefixed with the script's name, e.g.
# "test-fuzz: ..."; die writes it to stderr and exits 2.
say() { echo "$(basename "$0" .sh): $*"; }
die() { echo "$(basename "$0" .sh): $*" >&2; exit 2; }

# ms_vpath_builddir DIR
#   Creates DIR and sets BUILD to its absolute path, OBJ to BUILD/obj (the
#   build) and start to the current time (for the elapsed times reported).
ms_vpath_builddir() {
	mkdir -p "$1"
	BUILD=$(cd "$1" && pwd)
	OBJ=$BUILD/obj
	start=$(date +%s)
}

# ms_vpath_prepare SRCDIR CONFIGURE-ARGUMENTS...
#   ms_vpath_sources SRCDIR BUILD, then ms_vpath_configure OBJ SRC with
#   those arguments (after ms_vpath_builddir).
ms_vpath_prepare() {
	ms_vpath_sources "$1" "$BUILD"
	shift
	ms_vpath_configure "$OBJ" "$SRC" "$@"
}

# ms_vpath_make TARGET
#   Builds TARGET (all: everything `make` builds) in OBJ, marks OBJ as built (see
#   ms_vpath_configure) and says how long preparing and building took.
ms_vpath_make() {
	make -C "$OBJ" --no-print-directory -j"$(nproc)" "$1"
	touch "$OBJ/.ms-built"
	say "built in $(( $(date +%s) - start )) s"
}

# ms_vpath_sources SRCDIR BUILD
#   Sets SRC to the sources to build from: SRCDIR itself, or, when SRCDIR is
#   configured in place (automake then refuses a VPATH build; CI's
#   scripts/build.sh does that), a fresh copy of its files in BUILD/src: the
#   working tree as git sees it (tracked and untracked, not ignored), or
#   without git what `make dist` ships. Runs autoreconf there when needed.
ms_vpath_sources() {
	SRC=$1
	if [ -f "$1/config.status" ]; then
		SRC=$2/src
		say "$1 is configured in place: building from a copy of its files in $SRC"
		rm -rf "$SRC"
		if command -v git >/dev/null && git -C "$1" rev-parse --git-dir >/dev/null 2>&1; then
			mkdir -p "$SRC"
			exclude=.
			case $2 in "$1"/*) exclude=":(exclude)${2#"$1"/}" ;; esac
			(cd "$1" && git ls-files -z --cached --others --exclude-standard -- . "$exclude" |
				tar --null -T - --ignore-failed-read -cf -) | tar -xf - -C "$SRC"
		else
			make -C "$1" --no-print-directory distdir distdir="$SRC"
		fi
	fi
	# shellcheck disable=SC3013 # dash, the /bin/sh here, has -nt
	if [ ! -x "$SRC/configure" ] || [ ! -f "$SRC/Makefile.in" ] || [ "$SRC/configure.ac" -nt "$SRC/configure" ]; then
		(cd "$SRC" && autoreconf -fi)
	fi
}

# ms_vpath_configure OBJ SRC CONFIGURE-ARGUMENTS...
#   Configures OBJ for SRC with those arguments unless it already is (a
#   directory configured for other sources or arguments starts over), and
#   cleans it when configure ran after the last build (make would not see
#   the changed flags). Then `make -C OBJ ...` builds.
ms_vpath_configure() {
	obj=$1 src=$2
	shift 2
	want="$src $*"
	if [ -f "$obj/config.status" ] && [ "$(cat "$obj/.ms-configured" 2>/dev/null)" != "$want" ]; then
		rm -rf "$obj"
	fi
	mkdir -p "$obj"
	# shellcheck disable=SC3013
	if [ ! -f "$obj/Makefile" ] || [ "$src/configure" -nt "$obj/config.status" ]; then
		(cd "$obj" && "$src/configure" "$@")
		echo "$want" >"$obj/.ms-configured"
	fi
	# shellcheck disable=SC3013
	if [ ! -f "$obj/.ms-built" ] || [ "$obj/config.status" -nt "$obj/.ms-built" ]; then
		make -C "$obj" --no-print-directory clean >/dev/null
	fi
}
