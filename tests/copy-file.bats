#!/usr/bin/env bats
# nbd-copy between local files, pipes and null:, content checked byte
# for byte.  NBD endpoints are in copy-nbd.bats.
# shellcheck disable=SC2030,SC2031

load helpers

@test "copy: file to a new file" {
	mkimg src.img 4
	run_tool nbd-copy src.img dst.img
	cmp src.img dst.img
	[ "$(stat -c %s dst.img)" -eq 4194304 ]
}

@test "copy: an existing larger file is cut to the source size" {
	mkimg src.img 4
	head -c 8M /dev/urandom >dst.img
	run_tool nbd-copy src.img dst.img
	cmp src.img dst.img
}

@test "copy: an existing smaller file is extended to the source size" {
	mkimg src.img 4
	head -c 1000 /dev/urandom >dst.img
	run_tool nbd-copy src.img dst.img
	cmp src.img dst.img
}

@test "copy: file to stdout" {
	mkimg src.img 4
	tool nbd-copy src.img - >out.img
	cmp src.img out.img
}

@test "copy: stdin to a new file, holes at the end kept" {
	mkimg src.img 4
	truncate -s 6M src.img
	tool nbd-copy - dst.img <src.img
	cmp src.img dst.img
}

@test "copy: stdin to stdout" {
	mkimg src.img 4
	tool nbd-copy - - <src.img | cat >out.img
	cmp src.img out.img
}

@test "copy: a pipe to a file" {
	mkimg src.img 4
	cat src.img | tool nbd-copy - dst.img
	cmp src.img dst.img
}

@test "copy: file to null:" {
	mkimg src.img 4
	run_tool nbd-copy src.img null:
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "copy: zero-length source" {
	: >empty.img
	head -c 4096 /dev/urandom >dst.img
	run_tool nbd-copy empty.img dst.img
	[ "$(stat -c %s dst.img)" -eq 0 ]
	run_tool nbd-copy empty.img null:
	tool nbd-copy empty.img - >out.img
	[ ! -s out.img ]
	tool nbd-copy - dst2.img </dev/null
	[ "$(stat -c %s dst2.img)" -eq 0 ]
}

@test "copy: stdout that is a terminal is refused" {
	require script --version
	mkimg src.img 4
	run script -qec "$NBDU_BUILD/nbd-copy src.img -" /dev/null
	[ "$status" -eq 1 ]
	[[ $output == *terminal* ]]
}

@test "copy: --synchronous, -T, -R, --request-size give the same bytes" {
	mkimg src.img 4
	while read -r args; do
		rm -f dst.img
		# shellcheck disable=SC2086
		run_tool nbd-copy $args src.img dst.img
		cmp src.img dst.img || fail "differs with: $args"
	done <<-EOF
	--synchronous
	-T 1
	-T 4 -C 4
	-R 1
	--request-size=4096
	--request-size=32M
	--queue-size=4096 -R 2
	-S 0
	-S 512
	--allocated
	--no-extents
	EOF
}
