#!/usr/bin/env bats
# nbd-copy --dirty-bitmap from a server that offers the bitmap but not
# base:allocation (issue 15): qemu-nbd always offers both, so this is
# tests/hostile-server.py with --handshake no-base.  Without extents the
# dirty ranges are all read as data; nothing else is read or written.
# shellcheck disable=SC2154

load helpers

HS=$BATS_TEST_DIRNAME/hostile-server.py
# The server's image is 1 MiB of 64k blocks, even ones data, odd ones
# zero.  Dirty: a zero block, 8k of data off the 64k grid, and the last
# two blocks (data then zero), so a range ends at the end of the export.
DIRTY='65536 65536
200704 8192
917504 131072'

setup() {
	nbdu_setup
	python3 "$HS" --write-content src.raw
	# Every byte 0xee: shows which bytes a copy wrote.
	head -c 1M /dev/zero | tr '\0' '\356' >poison.raw
	cp poison.raw dst.raw
}

# start_nobase: the server with bitmap b0 and no
# base:allocation, logging its reads to reads.log, as $src.
start_nobase() {
	local args=(--bitmap b0 --handshake no-base --read-log "$PWD/reads.log")
	local off len
	while read -r off len; do
		args+=(--dirty "$off+$len")
	done <<<"$DIRTY"
	start_hostile src "${args[@]}"
}

# same_at FILE1 FILE2 OFF LEN: the LEN bytes at OFF are the same.
same_at() {
	cmp -n "$4" -i "$3:$3" "$1" "$2" ||
		fail "$1 and $2 differ in $3+$4"
}

# dst.raw is the source in each dirty range and poison elsewhere.
assert_only_dirty_written() {
	[ "$(stat -c %s dst.raw)" -eq 1048576 ] || fail "dst.raw resized"
	same_at dst.raw src.raw 65536 65536
	same_at dst.raw src.raw 200704 8192
	same_at dst.raw src.raw 917504 131072
	same_at dst.raw poison.raw 0 65536
	same_at dst.raw poison.raw 131072 69632
	same_at dst.raw poison.raw 208896 708608
}

# The reads the server served, merged: exactly the dirty ranges, as
# nothing tells the copy which of their bytes are holes.
assert_read_only_dirty() {
	[ -s reads.log ] || fail "the server logged no read"
	run sort -n -k1,1 reads.log
	run awk '
		n && $1 <= e { if ($1 + $2 > e) e = $1 + $2; next }
		n { print s, e - s }
		{ s = $1; e = $1 + $2; n = 1 }
		END { if (n) print s, e - s }' <<<"$output"
	assert_output "$DIRTY"
}

@test "copy: --dirty-bitmap without base:allocation copies the dirty ranges" {
	start_nobase
	run_tool nbd-copy --dirty-bitmap=b0 "$src" dst.raw
	assert_output ''
	[ -z "$stderr" ] || fail "unexpected stderr: $stderr"
	assert_only_dirty_written
	assert_read_only_dirty
}

@test "copy: --dirty-bitmap without base:allocation, multi-conn, --flush" {
	start_nobase
	run_tool nbd-copy --dirty-bitmap=qemu:dirty-bitmap:b0 -C 2 -T 2 -R 4 \
		--request-size=4096 --flush "$src" dst.raw
	assert_output ''
	assert_only_dirty_written
	assert_read_only_dirty
}

@test "copy: --dirty-bitmap without base:allocation, --synchronous" {
	start_nobase
	run_tool nbd-copy --dirty-bitmap=b0 --synchronous "$src" dst.raw
	assert_only_dirty_written
	assert_read_only_dirty
}

@test "copy: --dirty-bitmap of another name names the one offered" {
	start_nobase
	run_tool 1 nbd-copy --dirty-bitmap=b1 "$src" dst.raw
	assert_error_is "nbd-copy: --dirty-bitmap: server does not support metadata context \"qemu:dirty-bitmap:b1\"; it offers: qemu:dirty-bitmap:b0"
	cmp dst.raw poison.raw
	[ ! -s reads.log ] || fail "read: $(cat reads.log)"
}

@test "stat-map: --map=qemu:dirty-bitmap:NAME without base:allocation" {
	start_nobase
	run_tool nbd-stat-map --map=qemu:dirty-bitmap:b0 "$src"
	assert_output "         0       65536    0  clean
     65536       65536    1  dirty
    131072       69632    0  clean
    200704        8192    1  dirty
    208896      708608    0  clean
    917504      131072    1  dirty"
	[ -z "$stderr" ] || fail "unexpected stderr: $stderr"
	map_same_as_nbdinfo "$src" --map=qemu:dirty-bitmap:b0
}

@test "stat-map: --map=qemu:dirty-bitmap:NAME --totals without base:allocation" {
	start_nobase
	run_tool nbd-stat-map --map=qemu:dirty-bitmap:b0 --totals "$src"
	assert_output "    843776  80.5%   0 clean
    204800  19.5%   1 dirty"
	map_same_as_nbdinfo "$src" --map=qemu:dirty-bitmap:b0 --totals
}
