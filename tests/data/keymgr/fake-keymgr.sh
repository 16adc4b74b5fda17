#!/bin/sh
# Stand-in for keymgr in unit tests (tests/unit/test_keymgr_parse.c):
#   fake-keymgr.sh -D <dir> [-j] <zone> <command> [args...]
# Logs its argv to <dir>/argv.log and answers from files in <dir>.
dir=$2
echo "$*" >> "$dir/argv.log"
shift 2
[ "$1" = "-j" ] && shift
cmd=$2
arg=$3
case "$cmd" in
list) cat "$dir/list.json" ;;
dnskey) cat "$dir/dnskey-${arg#id=}.txt" 2>/dev/null || { echo "error: key not found" >&2; exit 1; } ;;
import-pub) cp "$arg" "$dir/imported.key" && ls -l "$arg" > "$dir/imported.mode" && cat "$dir/import.txt" ;;
delete|set) echo OK ;;
*) echo "error: unknown command $cmd" >&2; exit 1 ;;
esac
