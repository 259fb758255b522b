#!/bin/bash
# What "make check" runs once everything is built: each unit test
# program, then the bats files, and last one line
# "N passed, N failed, N skipped" over both, so a long run's result is
# the last thing on the terminal.  Exits 1 if anything failed.
#
#   check.sh [-j JOBS] [-o DIR] [-u UNIT-PROGRAM]... BATS-FILE-OR-DIR...
#
# Each unit program is one test (passed when it exits 0).  The bats
# files run JOBS at a time (GNU parallel, through bats --jobs); the tests
# of one file run one after the other unless tests/helpers.bash lets
# them run side by side.  DIR gets check.tap
# (bats' output) and check.summary (the last line), for .ci/run.
set -uo pipefail

jobs=1
dir=
units=()
while getopts j:o:u: opt; do
	case $opt in
	j) jobs=$OPTARG ;;
	o) dir=$OPTARG ;;
	u) units+=("$OPTARG") ;;
	*) exit 1 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || {
	echo "check: no bats files given" >&2
	exit 1
}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || {
	echo "check: -j wants a positive number, not '$jobs'" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbd-utils-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
[ -n "$dir" ] || dir=$tmp
mkdir -p "$dir" || exit 1
tap=$dir/check.tap
summary=$dir/check.summary
# A summary left by an earlier run must not pass for this one's.
rm -f "$summary"

passed=0 failed=0 skipped=0

for u in "${units[@]}"; do
	echo "unit: $u"
	if "$u"; then
		passed=$((passed + 1))
	else
		echo "unit: $u failed (status $?)"
		failed=$((failed + 1))
	fi
done

# bats wants GNU parallel only to run more than one file at a time.
par=()
[ "$jobs" -gt 1 ] && par=(--jobs "$jobs")
bats --tap "${par[@]}" "$@" | tee "$tap"
rc=${PIPESTATUS[0]}

# TAP: "1..N" plans N tests; each reports "ok"/"not ok", skips as
# "ok N name # skip".  A test that never reported (bats killed, a file
# that does not parse) counts as failed, and so does a bats that failed
# without reporting a failed test.
plan=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$tap" | head -1)
ok=$(grep -c '^ok ' "$tap")
notok=$(grep -c '^not ok ' "$tap")
skip=$(grep -cE '^ok [0-9]+ .*# skip( |$)' "$tap")
passed=$((passed + ok - skip))
skipped=$((skipped + skip))
failed=$((failed + notok))
missing=$((${plan:-0} - ok - notok))
if [ "$missing" -gt 0 ]; then
	echo "check: $missing bats tests did not report"
	failed=$((failed + missing))
elif [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
	echo "check: bats failed (status $rc) with no failed test"
	failed=$((failed + 1))
fi

line="$passed passed, $failed failed, $skipped skipped"
echo "$line" >"$summary"
echo "$line"
[ "$failed" -eq 0 ]
