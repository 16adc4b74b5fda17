#!/bin/sh
# Stand-in for knotc in unit tests: fake-knotc.sh -s <dir>/<name>.sock -t <s> <cmd> <zone>
# Logs argv to <dir>/argv.log; a socket named hang.sock never answers.
dir=$(dirname "$2")
echo "$*" >> "$dir/argv.log"
case "$2" in
*/hang.sock) exec sleep 30 ;;
*/nozone.sock) echo "error: [$6] (no such zone found)"; exit 1 ;;
esac
echo OK
