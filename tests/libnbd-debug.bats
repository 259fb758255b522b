#!/usr/bin/env bats
# Issue 12 item 4: libnbd's debug messages come with -v only, as with
# nbdcopy and nbdinfo; LIBNBD_DEBUG=1 in the environment alone prints
# nothing.

load helpers

@test "copy: LIBNBD_DEBUG=1 without -v keeps stderr empty" {
	start_nbdkit src pattern 1M
	LIBNBD_DEBUG=1 run_tool nbd-copy "$src" dst.img
	[ -z "$stderr" ] || fail "stderr: ${stderr:0:300}"
	[ "$(stat -c %s dst.img)" -eq 1048576 ]
}

@test "info: LIBNBD_DEBUG=1 without -v keeps stderr empty" {
	start_nbdkit src memory 1M
	LIBNBD_DEBUG=1 run_tool nbd-info --size "$src"
	[ "$output" = 1048576 ]
	[ -z "$stderr" ] || fail "stderr: ${stderr:0:300}"
}

@test "copy, info: -v prints libnbd's debug messages" {
	start_nbdkit src memory 1M
	run_tool nbd-info -v --size "$src"
	[ "$output" = 1048576 ]
	[[ $stderr == *"libnbd: debug: "* ]] || fail "stderr: $stderr"
	run_tool nbd-copy -v "$src" null:
	[[ $stderr == *"libnbd: debug: "* ]] || fail "stderr: ${stderr:0:300}"
}
