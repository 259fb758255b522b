#!/usr/bin/env bats
# nbd-copy's usage errors: one line, exit 1, nothing opened.  I/O
# errors are in faults.bats, signals in signal-exit.bats.
# shellcheck disable=SC2016,SC2030,SC2031

load helpers

@test "copy: usage errors are one line, exit 1" {
	: >src.img
	while IFS='|' read -r args text; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args
		[ "${#stderr_lines[@]}" -ge 1 ] || fail "no error for: $args"
		[[ ${stderr_lines[0]} == "nbd-copy: "*"$text"* ]] ||
			fail "'$args': got '$stderr', wanted '$text'"
	done <<-END
	src.img|expected SOURCE and DESTINATION
	src.img null: extra|unexpected argument 'extra'
	null: src.img|source
	-R 0 src.img null:|--requests
	-R -1 src.img null:|--requests: cannot be negative
	-R x src.img null:|--requests: could not parse
	-C 0 src.img null:|--connections
	-T -1 src.img null:|--threads: cannot be negative
	--request-size=3M src.img null:|not a power of 2
	--request-size=64M src.img null:|--request-size
	--request-size=1k src.img null:|--request-size
	-S 100 src.img null:|--sparse
	-S 64M src.img null:|--sparse
	--queue-size=-1 src.img null:|--queue-size: cannot be negative
	--queue-size=1x src.img null:|--queue-size: could not parse
	--progress=x src.img null:|--progress
	--progress=99 src.img null:|--progress=99
	--no-such-option src.img null:|--no-such-option
	END
}
