#!/usr/bin/env bats
# Request sizes that follow the latency the source shows (issues 14, 18):
# nbd-copy's first window of reads are 64 KiB probes, and behind a long
# delay per read it goes to requests of 4 MiB after that one round trip.
# Sizes are read from the server's log, never from a timing.
# shellcheck disable=SC2154  # start_nbdkit sets src

load helpers

# The request sizes of the reads in nbdkit's log FILE, one per line.
read_counts() {
	sed -n 's/.* Read id=[0-9]* offset=[0-9a-fx]* count=\(0x[0-9a-f]*\) .*/\1/p' \
		"$1"
}

@test "copy: a source behind 500 ms per read gets 4 MiB requests, exact bytes" {
	head -c 64M /dev/urandom >src.img
	start_nbdkit src --filter=log --filter=delay file src.img \
		delay-read=500ms logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy "$src" dst.img
	cmp src.img dst.img
	read_counts src.log >counts
	# A window is 8 reads towards a file: 8 probes, then reads of 1 MiB
	# while the bytes of 8 such are not in flight, then after one round
	# trip 4 MiB (and a piece or two that realign): at most 8 + 8 + 7
	# + 2 reads that are not 4 MiB, where 64 would be without latency.
	assert_equal "$(grep -cx 0x10000 counts)" 8
	grep -qx 0x400000 counts || fail "no 4 MiB read: $(sort counts | uniq -c)"
	[ "$(grep -cvx 0x400000 counts)" -le 25 ] ||
		fail "too many small reads: $(sort counts | uniq -c)"
}

@test "copy: a source behind 500 ms per read into null: gets 4 MiB requests" {
	start_nbdkit src --filter=log --filter=delay pattern 64M \
		delay-read=500ms logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy "$src" null:
	read_counts src.log >counts
	# The same with a window of 4 into null:.
	assert_equal "$(grep -cx 0x10000 counts)" 4
	grep -qx 0x400000 counts || fail "no 4 MiB read: $(sort counts | uniq -c)"
	[ "$(grep -cvx 0x400000 counts)" -le 13 ] ||
		fail "too many small reads: $(sort counts | uniq -c)"
}

@test "copy: --request-size keeps its size behind 500 ms per read" {
	start_nbdkit src --filter=log --filter=delay pattern 16M \
		delay-read=500ms logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-copy --request-size=256k "$src" null:
	read_counts src.log >counts
	[ "$(sort -u counts)" = 0x40000 ] ||
		fail "other sizes than 256 KiB: $(sort counts | uniq -c)"
}
