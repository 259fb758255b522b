#!/usr/bin/env bats
# Block devices (loop devices over files in the test directory): copy
# to and from them, dump them, map them.  Needs root and loop support;
# skipped otherwise.

load helpers

setup() {
	nbdu_setup
	[ "$(id -u)" -eq 0 ] || skip "needs root for loop devices"
	require losetup --version
	truncate -s 8M backing.img
	dev=$(losetup -f --show "$PWD/backing.img" 2>/dev/null) ||
		skip "no loop device available"
}

teardown() {
	[ -n "${dev:-}" ] && losetup -d "$dev"
	nbdu_teardown
}

@test "block: copy a file onto a device, and the device back to a file" {
	head -c 3M /dev/urandom >src.img
	truncate -s 4M src.img
	run_tool nbd-copy src.img "$dev"
	run_tool nbd-copy "$dev" back.img
	cmp <(head -c 4M back.img) src.img
	[ "$(stat -c %s back.img)" -eq 8388608 ]
}

@test "block: a device larger than the source keeps its tail" {
	printf 'TAIL' | dd of="$dev" bs=1 seek=8388604 conv=notrunc status=none
	head -c 1M /dev/urandom >src.img
	run_tool nbd-copy src.img "$dev"
	cmp <(head -c 1M "$dev") src.img
	[ "$(tail -c 4 "$dev")" = TAIL ]
}

@test "block: a source larger than the device fails before writing" {
	printf 'KEEP' | dd of="$dev" bs=1 conv=notrunc status=none
	truncate -s 9M big.img
	run_tool 1 nbd-copy big.img "$dev"
	assert_one_line_error nbd-copy "$dev"
	[ "$(head -c 4 "$dev")" = KEEP ]
}

@test "block: holes in the source read back as zeroes on the device" {
	head -c 8M /dev/urandom >"$dev"
	truncate -s 8M sparse.img
	printf 'data' | dd of=sparse.img bs=1 seek=4194304 conv=notrunc status=none
	run_tool nbd-copy sparse.img "$dev"
	cmp "$dev" sparse.img
}

@test "block: nbd-copy from NBD to a device" {
	start_nbdkit SRC pattern 8M
	run_tool nbd-copy "$SRC" "$dev"
	nbdkit -U - pattern 8M --run 'nbdcopy "$uri" ref.img'
	cmp "$dev" ref.img
}

@test "block: nbd-dump of a device matches hexdump -C" {
	printf 'hello, block device' | dd of="$dev" bs=1 seek=4097 conv=notrunc status=none
	run_tool nbd-dump -s 4000 -n 200 "$dev"
	assert_output "$(hexdump -C -s 4000 -n 200 "$dev")"
}

@test "block: nbd-stat-map of a device is one data extent" {
	run_tool nbd-stat-map "$dev"
	assert_output --regexp '^ +0 +8388608 +0 +data$'
}

@test "block: copying a device onto itself is refused" {
	printf 'SAME' | dd of="$dev" bs=1 conv=notrunc status=none
	run_tool 1 nbd-copy "$dev" "$dev"
	[ "$(head -c 4 "$dev")" = SAME ]
}
