#!/usr/bin/env bats
# Request sizes that follow the latency the source shows (issues 14, 18):
# behind a long delay per read, nbd-copy leaves its first small reads
# for requests of 4 MiB after one round trip.  Sizes are read from the
# server's log, never from a timing.

load helpers

# The request sizes of the reads in nbdkit's log FILE, one per line.
read_counts() {
	sed -n 's/.* Read id=[0-9]* offset=0x[0-9a-f]* count=\(0x[0-9a-f]*\) .*/\1/p' "$1"
}

@test "copy: a source behind 500 ms per read gets 4 MiB requests, exact bytes" {
	head -c 64M /dev/urandom >src.img
	start_nbdkit src --filter=log --filter=delay file src.img \
		delay-read=500ms logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy "$src" dst.img
	cmp src.img dst.img
	read_counts src.log >counts
	grep -qx 0x100000 counts || fail "no 1 MiB read first: $(sort counts | uniq -c)"
	grep -qx 0x400000 counts || fail "no 4 MiB read: $(sort counts | uniq -c)"
	# One round trip of small reads, then large ones: at most two
	# windows' worth of 1 MiB reads (8 deep towards a file).
	[ "$(grep -cx 0x100000 counts)" -le 16 ] ||
		fail "too many 1 MiB reads: $(sort counts | uniq -c)"
}

@test "copy: a source behind 500 ms per read into null: gets 4 MiB requests" {
	start_nbdkit src --filter=log --filter=delay pattern 64M \
		delay-read=500ms logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy "$src" null:
	read_counts src.log >counts
	grep -qx 0x400000 counts || fail "no 4 MiB read: $(sort counts | uniq -c)"
	[ "$(grep -cx 0x100000 counts)" -le 8 ] ||
		fail "too many 1 MiB reads: $(sort counts | uniq -c)"
}

@test "copy: --request-size keeps its size behind 500 ms per read" {
	start_nbdkit src --filter=log --filter=delay pattern 16M \
		delay-read=500ms logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy --request-size=256k "$src" null:
	read_counts src.log >counts
	[ "$(sort -u counts)" = 0x40000 ] ||
		fail "other sizes than 256 KiB: $(sort counts | uniq -c)"
}
