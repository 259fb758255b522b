#!/usr/bin/env bats
# nbd-copy and holes: extents decide what is read, runs of zeroes become
# holes (-S), --allocated fills them, and nbdkit's log filter shows what
# was really sent to the servers.
# shellcheck disable=SC2030,SC2031

load helpers

# Allocated size of FILE in KiB.
alloc_kib() {
	du -k "$1" | cut -f1
}

@test "copy: a sparse-random source gives a sparse file with the same bytes" {
	require nbdcopy --version
	start_nbdkit src -r sparse-random 256M seed=7
	run_tool nbd-copy "$src" dst.img
	nbdcopy "$src" ref.img
	cmp ref.img dst.img
	# About 10% of the source is data.
	[ "$(alloc_kib dst.img)" -lt $((64 * 1024)) ]
	[ "$(alloc_kib dst.img)" -gt 0 ]
}

@test "copy: --allocated gives a fully allocated file" {
	start_nbdkit src -r sparse-random 64M seed=7
	run_tool nbd-copy --allocated "$src" dst.img
	run_tool nbd-copy "$src" sparse.img
	cmp sparse.img dst.img
	[ "$(alloc_kib dst.img)" -ge $((64 * 1024)) ]
}

@test "copy: holes in a file stay holes in a new file" {
	truncate -s 64M src.img
	head -c 1M /dev/urandom | dd of=src.img bs=1M seek=10 conv=notrunc status=none
	run_tool nbd-copy src.img dst.img
	cmp src.img dst.img
	[ "$(alloc_kib dst.img)" -le 1100 ]
}

@test "copy: runs of written zeroes become holes unless -S 0" {
	# 1M data, 2M of zeroes that are allocated, 1M data.
	head -c 1M /dev/urandom >src.img
	head -c 2M /dev/zero >>src.img
	head -c 1M /dev/urandom >>src.img
	[ "$(alloc_kib src.img)" -ge 4096 ]
	run_tool nbd-copy src.img dst.img
	cmp src.img dst.img
	[ "$(alloc_kib dst.img)" -le 2100 ]
	run_tool nbd-copy -S 0 src.img dst0.img
	cmp src.img dst0.img
	[ "$(alloc_kib dst0.img)" -ge 4096 ]
}

@test "copy: holes are not read" {
	start_nbdkit src --filter=log data '1 @33554432 2' size=64M \
		logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy "$src" dst.img
	# Data is at [0, 32K) and [32M, 32M+32K): every read is inside.
	grep ' Read ' src.log >reads
	[ -s reads ]
	while read -r off count; do
		if (( (off + count <= 32768) ||
		      (off >= 33554432 && off + count <= 33587200) )); then
			continue
		fi
		fail "read of a hole: offset $off count $count"
	done < <(sed -n 's/.* Read .*offset=\(0x[0-9a-f]*\) count=\(0x[0-9a-f]*\).*/\1 \2/p' reads)
	cmp <(head -c 1 dst.img | od -An -tx1) <(printf ' 01\n')
}

@test "copy: --no-extents reads the holes too" {
	start_nbdkit src --filter=log data '1 @33554432 2' size=64M \
		logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy --no-extents "$src" dst.img
	grep -q ' Read .*offset=0x1000000 ' src.log
	! grep -q ' Extents ' src.log
}

@test "copy: holes become zeroing on an NBD destination" {
	start_nbdkit src -r data '1 @33554432 2' size=64M
	start_nbdkit dst --filter=log memory 64M logfile="$BATS_TEST_TMPDIR/dst.log"
	run_tool nbd-copy "$src" "$dst"
	grep -q ' Zero ' dst.log
	! grep -q ' Write .*offset=0x1000000 ' dst.log
}

@test "copy: --destination-is-zero writes nothing for holes" {
	start_nbdkit src -r data '1 @33554432 2' size=64M
	start_nbdkit dst --filter=log memory 64M logfile="$BATS_TEST_TMPDIR/dst.log"
	run_tool nbd-copy --destination-is-zero "$src" "$dst"
	! grep -Eq ' (Zero|Trim) ' dst.log
	[ "$(grep -c ' Write ' dst.log)" -ge 2 ]
	# The synonym, onto an export that is still zero (checked first).
	start_nbdkit dst2 memory 64M
	run_tool nbd-copy --target-is-zero "$src" "$dst2"
}

@test "copy: --flush is the last command" {
	start_nbdkit src -r sparse-random 16M seed=3
	start_nbdkit dst --filter=log memory 16M logfile="$BATS_TEST_TMPDIR/dst.log"
	run_tool nbd-copy --flush "$src" "$dst"
	grep -E ' (Read|Write|Zero|Trim|Flush|Cache) id=' dst.log | tail -1 |
		grep -q ' Flush '
	run_tool nbd-copy --flush "$src" flushed.img
	run_tool nbd-copy "$dst" back.img
	cmp flushed.img back.img
}
