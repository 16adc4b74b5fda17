#!/bin/sh
# Run each cmocka unit test binary, optionally under a wrapper such as
# "valgrind --error-exitcode=99 --leak-check=full" (UNIT_WRAPPER), and fail if
# any of them fails. Each binary prints its own cmocka summary.
status=0
for t in "$@"; do
	echo "== $t"
	# shellcheck disable=SC2086
	$UNIT_WRAPPER "./$t" || status=1
done
exit $status
