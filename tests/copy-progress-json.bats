#!/usr/bin/env bats
# nbd-copy --progress-json[=FD]: one JSON object a line, bytes_done never
# going back, a last line at 100% equal to the source's size, the later
# phases (flush, checksum, verify) named, beside -p's bar.
# shellcheck disable=SC2030,SC2031

load helpers

setup() {
	nbdu_setup
	require jq --version
}

# check_json FILE SIZE: every line is one JSON object with every field,
# bytes_done never decreases, the last line says 100% and SIZE bytes.
check_json() {
	local line n=0
	while IFS= read -r line; do
		jq -e 'type == "object" and
		    ([keys[]] | sort) == (["bytes_done", "bytes_total",
		      "elapsed_seconds", "eta_seconds", "percent", "phase",
		      "rate", "resumed_bytes", "retries"] | sort) and
		    (.rate | type) == "number" and .retries == 0' \
			<<<"$line" >/dev/null || fail "bad line: '$line'"
		n=$((n + 1))
	done <"$1"
	[ "$n" -ge 2 ] || fail "$n lines"
	jq -e -s --argjson size "$2" '
	    (map(.bytes_done) as $d |
	     [range(1; length)] | all($d[.] >= $d[. - 1])) and
	    (last.percent == 100) and (last.bytes_done == $size) and
	    (last.eta_seconds == 0) and
	    all(.bytes_done <= $size)' "$1" >/dev/null ||
		fail "$(cat "$1")"
}

@test "copy: --progress-json on a dense copy, slowed so that it has lines" {
	start_nbdkit src --filter=delay pattern 32M delay-read=20ms
	run_tool nbd-copy --progress-json=5 -C 1 -R 2 "$src" null: 5>prog
	check_json prog $((32 << 20))
	[ -z "$stderr" ]
	# 128 reads of 20 ms, 2 at a time, last over a second: lines come
	# five times a second.
	[ "$(wc -l <prog)" -ge 3 ]
	jq -e -s 'all(.bytes_total == 33554432 and .phase == "copy")' prog
	# Mid-copy lines guess the time left from the rate.
	jq -e -s 'any(.percent > 0 and .percent < 100 and .rate > 0 and
	    (.eta_seconds | type) == "number")' prog
}

@test "copy: --progress-json on a sparse copy counts the holes as done" {
	truncate -s 64M src.img
	printf 'data' | dd of=src.img bs=1 seek=$((40 << 20)) conv=notrunc \
		status=none
	run_tool nbd-copy --progress-json=5 src.img dst.img 5>prog
	check_json prog $((64 << 20))
	cmp src.img dst.img
}

@test "copy: --progress-json on a stream has no total" {
	head -c 3M /dev/urandom >src.img
	tool nbd-copy --progress-json=5 - dst.img <src.img 5>prog
	check_json prog $((3 << 20))
	jq -e -s 'all(.bytes_total == null) and
	    (.[:-1] | all(.percent == null))' prog
	cmp src.img dst.img
}

@test "copy: --progress-json on an empty source is 0 of 0 bytes" {
	: >empty.img
	run_tool nbd-copy --progress-json=5 empty.img null: 5>prog
	check_json prog 0
	jq -e -s 'all(.bytes_total == 0)' prog
}

@test "copy: --progress-json goes to stderr by default" {
	head -c 1M /dev/urandom >src.img
	run_tool nbd-copy --progress-json src.img dst.img
	[ -z "$output" ]
	printf '%s\n' "$stderr" >prog
	check_json prog $((1 << 20))
}

@test "copy: --progress-json names the later phases, the last line after them" {
	head -c 2M /dev/urandom >src.img
	run_tool nbd-copy --progress-json=5 --flush --blkhash --verify \
		src.img dst.img 5>prog
	check_json prog $((2 << 20))
	run jq -r .phase prog
	# Each phase once it starts; the last line is the end of the run.
	assert_equal "$(uniq <<<"$output" | tr '\n' ' ')" \
		"copy flush checksum verify "
	jq -e -s '[.[] | select(.phase != "copy")] |
	    all(.bytes_done == 2097152)' prog
}

@test "copy: no 100% --progress-json line when the copy fails" {
	start_nbdkit src --filter=error pattern 8M error-pread-rate=1
	run_tool 1 nbd-copy --progress-json=5 "$src" null: 5>prog
	jq -e -s 'all(.percent != 100)' prog
}

@test "copy: --progress-json=FD that is not open is an error" {
	head -c 4k /dev/urandom >src.img
	run_tool 1 nbd-copy --progress-json=9 src.img null:
	assert_one_line_error nbd-copy "--progress-json=9: Bad file descriptor"
	run_tool 1 nbd-copy --progress-json=x src.img null:
	assert_one_line_error nbd-copy "--progress-json"
}

@test "copy: -p on a terminal and --progress-json=FD together" {
	require script --version
	head -c 4M /dev/urandom >src.img
	run script -qec "$NBDU_BUILD/nbd-copy -p --progress-json=5 src.img dst.img 5>prog" /dev/null
	[ "$status" -eq 0 ]
	[[ $output == *"100%"*"4.0 MiB / 4.0 MiB"*total* ]] || fail "$output"
	[[ $output != *'"phase"'* ]] || fail "JSON on the terminal: $output"
	check_json prog $((4 << 20))
	cmp src.img dst.img
}

@test "copy: the README's Python example reads --progress-json" {
	require python3 --version
	sed -n '/^## For programs/,/^## /{/^```python$/,/^```$/p}' \
		"$BATS_TEST_DIRNAME/../README.md" | sed '1d;$d' >progress.py
	[ "$(wc -l <progress.py)" -eq 5 ]
	head -c 2M /dev/urandom >src.img
	PATH=$NBDU_BUILD:$PATH run python3 progress.py src.img dst.img
	assert_success
	assert_line --index -1 "copy 2097152 100.0 0"
	cmp src.img dst.img
	PATH=$NBDU_BUILD:$PATH run python3 progress.py no-such.img dst.img
	assert_failure 1
}

@test "copy: --progress-json counts the retries of a copy that recovers" {
	head -c 4M /dev/urandom >src.img
	start_nbdkit src --filter=error file src.img error-pread-rate=0.2 \
		error-pread=EIO
	run_tool nbd-copy --request-size=64k --retries=100 \
		--retry-delay=0.001 --progress-json=5 "$src" dst.img 5>prog
	cmp src.img dst.img
	jq -e -s 'last.retries > 0 and last.percent == 100' prog >/dev/null ||
		fail "$(tail -1 prog)"
	# One stderr line a retry, as many as the JSON counts.
	[ "$(jq -s 'last.retries' prog)" -eq "${#stderr_lines[@]}" ] ||
		fail "$(tail -1 prog) vs ${#stderr_lines[@]} lines: $stderr"
}
