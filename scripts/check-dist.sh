#!/bin/sh
# Run by `make distcheck` (distcheck-hook): every file git tracks in SRCDIR,
# but for git's own files, must be in the unpacked tarball DISTDIR, and no
# file left by running the tests (bytecode, caches) may be. Outside a git
# checkout (e.g. an unpacked release) only the second check is possible.
# Usage: scripts/check-dist.sh SRCDIR DISTDIR
set -eu
[ "$#" -eq 2 ] || { echo "usage: $0 SRCDIR DISTDIR" >&2; exit 2; }
srcdir=$1
distdir=$2
status=0

junk=$(find "$distdir" -name __pycache__ -o -name .pytest_cache -o -name '*.py[co]' | head -20)
if [ -n "$junk" ]; then
	echo "check-dist: test leftovers in the tarball (dist-hook should drop them):"
	echo "$junk"
	status=1
fi

if command -v git >/dev/null && git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	missing=$(git -C "$srcdir" ls-files | while IFS= read -r f; do
		case $f in
		.gitignore | */.gitignore | .gitattributes | m4/.keep) continue ;;
		esac
		[ -e "$distdir/$f" ] || echo "$f"
	done)
	if [ -n "$missing" ]; then
		echo "check-dist: tracked by git but not in the tarball (add them to EXTRA_DIST"
		echo "or a _SOURCES list in Makefile.am or mk/*.am):"
		echo "$missing"
		status=1
	fi
else
	echo "check-dist: $srcdir is not a git checkout; not comparing with git's files"
fi
exit $status
