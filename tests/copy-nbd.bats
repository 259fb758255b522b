#!/usr/bin/env bats
# nbd-copy with NBD on one or both sides: URIs and "[ CMD ]" servers,
# multi-conn, qemu-nbd with qcow2, and the destination size rules.
# shellcheck disable=SC2030,SC2031

load helpers

@test "copy: file to NBD and back" {
	mkimg src.img 32
	start_nbdkit mem memory 32M
	run_tool nbd-copy src.img "$mem"
	run_tool nbd-copy "$mem" back.img
	cmp src.img back.img
}

@test "copy: NBD to NBD, multi-conn on both sides" {
	mkimg src.img 32
	start_nbdkit a memory 32M
	start_nbdkit b memory 32M
	run_tool nbd-copy src.img "$a"
	run_tool nbd-copy -C 4 -T 4 "$a" "$b"
	run_tool nbd-copy "$b" back.img
	cmp src.img back.img
}

@test "copy: [ CMD ] on both sides" {
	mkimg src.img 32
	# nbdkit's file plugin needs the file to exist: create it first.
	truncate -s 32M dst.img
	run_tool nbd-copy -- [ nbdkit -r file src.img ] [ nbdkit file dst.img ]
	cmp src.img dst.img
}

@test "copy: NBD to stdout and stdin to NBD" {
	mkimg src.img 32
	start_nbdkit mem memory 32M
	tool nbd-copy - "$mem" <src.img
	tool nbd-copy "$mem" - >out.img
	cmp src.img out.img
}

@test "copy: NBD to null:" {
	start_nbdkit pat pattern 64M
	run_tool nbd-copy "$pat" null:
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "copy: qemu-nbd qcow2 on both sides" {
	require qemu-img --version
	mkimg src.img 32
	qemu-img create -q -f qcow2 a.qcow2 32M
	qemu-img create -q -f qcow2 b.qcow2 32M
	run_tool nbd-copy -- src.img [ qemu-nbd -f qcow2 a.qcow2 ]
	run_tool nbd-copy -- [ qemu-nbd -r -f qcow2 a.qcow2 ] \
		[ qemu-nbd -f qcow2 b.qcow2 ]
	run_tool nbd-copy -- [ qemu-nbd -r -f qcow2 b.qcow2 ] back.img
	cmp src.img back.img
	qemu-img convert -O raw b.qcow2 conv.img
	cmp src.img conv.img
	# The 28 MiB of holes stayed holes in the qcow2.
	[ "$(qemu-img info --output=json b.qcow2 |
		sed -n 's/.*"actual-size": \([0-9]*\).*/\1/p')" -lt $((16 << 20)) ]
}

@test "copy: destination smaller than the source fails before writing" {
	mkimg src.img 32
	start_nbdkit mem --filter=log memory 16M logfile="$BATS_TEST_TMPDIR/log"
	run_tool 1 nbd-copy src.img "$mem"
	assert_one_line_error nbd-copy "smaller than the source's"
	! grep -Eq 'Write|Zero|Trim' log
}

@test "copy: a larger destination keeps its bytes past the source size" {
	mkimg src.img 32
	head -c 40M /dev/urandom >big.img
	start_nbdkit mem memory 40M
	run_tool nbd-copy big.img "$mem"
	run_tool nbd-copy src.img "$mem"
	run_tool nbd-copy "$mem" back.img
	cmp -n 33554432 src.img back.img
	cmp -i 33554432 big.img back.img
}

@test "copy: a read-only destination fails before writing" {
	mkimg src.img 32
	start_nbdkit mem -r memory 32M
	run_tool 1 nbd-copy src.img "$mem"
	assert_one_line_error nbd-copy "read-only"
}

@test "copy: a 7E destination and offsets above 4 GiB" {
	require qemu-io --version
	start_nbdkit src data '@5368709120 1 2 3 @6442450940 9 9 9 9' size=6G
	start_nbdkit dst memory 7E
	run_tool nbd-copy "$src" "$dst"
	run qemu-io -f raw -r "$dst" -c 'read -P 1 5368709120 1' \
		-c 'read -P 3 5368709122 1' -c 'read -P 9 6442450943 1' \
		-c 'read -P 0 5368709123 512'
	[[ $output != *failed* ]] || fail "$output"
}

@test "copy: -C, -T, -R, --request-size, --synchronous give the same bytes" {
	mkimg src.img 32
	start_nbdkit mem -r file src.img
	while read -r args; do
		rm -f dst.img
		# shellcheck disable=SC2086
		run_tool nbd-copy $args "$mem" dst.img
		cmp src.img dst.img || fail "differs with: $args"
	done <<-END
	--synchronous
	-C 1
	-C 4 -T 4
	-T 1 -R 1
	-R 2 --request-size=4096
	--request-size=32M
	--queue-size=64k
	--no-extents
	END
}
