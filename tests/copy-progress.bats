#!/usr/bin/env bats
# nbd-copy progress: "N/100" lines for --progress=FD, always ending with
# 100/100 on success, and the bar that -p draws only on a terminal.
# shellcheck disable=SC2030,SC2031

load helpers

# check_lines FILE: every line is N/100, never going back, last 100/100.
check_lines() {
	local prev=-1 n line last=
	while read -r line; do
		[[ $line =~ ^([0-9]+)/100$ ]] || fail "bad line: '$line'"
		n=${BASH_REMATCH[1]}
		(( n >= prev && n <= 100 )) || fail "went from $prev to $n"
		prev=$n
		last=$line
	done <"$1"
	[ "$last" = 100/100 ] || fail "last line '$last'"
	[ "$(grep -c '^100/100$' "$1")" -eq 1 ]
}

@test "copy: --progress=FD writes N/100 lines ending with 100/100" {
	start_nbdkit src --filter=delay pattern 64M delay-read=20ms
	run_tool nbd-copy --progress=5 -R 2 "$src" null: 5>prog
	check_lines prog
	[ "$(wc -l <prog)" -ge 2 ]
	[ -z "$stderr" ]
}

@test "copy: --progress=FD for a synchronous copy and a stream" {
	head -c 3M /dev/urandom >src.img
	run_tool nbd-copy --synchronous --progress=5 src.img dst.img 5>prog
	check_lines prog
	tool nbd-copy --progress=5 - dst2.img <src.img 5>prog2
	check_lines prog2
	cmp src.img dst2.img
}

@test "copy: --progress=FD for a zero-length source" {
	: >empty.img
	run_tool nbd-copy --progress=5 empty.img null: 5>prog
	check_lines prog
}

@test "copy: no 100/100 when the copy fails" {
	start_nbdkit src --filter=error pattern 8M error-pread-rate=1
	run_tool 1 nbd-copy --progress=5 "$src" null: 5>prog
	! grep -q '^100/100$' prog
}

@test "copy: -p draws nothing when stderr is not a terminal" {
	head -c 1M /dev/urandom >src.img
	run_tool nbd-copy -p src.img dst.img
	[ -z "$stderr" ] && [ -z "$output" ]
	run_tool nbd-copy --progress src.img dst.img
	[ -z "$stderr" ]
}

@test "copy: -p draws a bar on a terminal and finishes it" {
	require script --version
	head -c 4M /dev/urandom >src.img
	run script -qec "$NBDU_BUILD/nbd-copy -p src.img dst.img" /dev/null
	[ "$status" -eq 0 ]
	[[ $output == *"100%"*"4.0 MiB / 4.0 MiB"* ]] || fail "$output"
	[[ $output == *total* ]]
	cmp src.img dst.img
}
