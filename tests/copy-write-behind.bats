#!/usr/bin/env bats
# Writes into local files and devices are pushed to the disk behind the
# copy and dropped from the page cache (common/write-behind.c, issue 18):
# a large copy leaves only its last few MiB cached, and a writeback that
# fails is an error of the copy even without --flush, where before it
# was lost in the page cache and the copy exited 0.
# shellcheck disable=SC2030,SC2031

load helpers

MiB=1048576

teardown() {
	[ -n "${dev:-}" ] && losetup -d "$dev"
	if mountpoint -q "$BATS_TEST_TMPDIR/mnt" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/mnt"
	fi
	nbdu_teardown
}

# Bytes of FILE in the page cache.
cached() {
	fincore --bytes --noheadings --output RES "$1"
}

@test "copy: a large copy into a new file leaves little of it in the page cache" {
	require fincore --version
	# tmpfs pages are the file itself: they cannot be dropped.
	[ "$(stat -f -c %T .)" != tmpfs ] || skip "the test directory is on tmpfs"
	random_img src.img $((128 * MiB))
	for args in "-T 2" "--synchronous"; do
		rm -f dst.img
		# shellcheck disable=SC2086
		run_tool nbd-copy $args src.img dst.img
		# Per worker: 8 MiB behind, a window of 4 MiB and one request.
		[ "$(cached dst.img)" -le $((32 * MiB)) ] ||
			fail "$args: $(cached dst.img) bytes of dst.img cached"
		cmp src.img dst.img
	done
}

@test "copy: a device whose writeback fails is an error without --flush" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for loop devices"
	require losetup --version
	mkdir -p mnt
	mount -t tmpfs -o size=4m tmpfs mnt 2>/dev/null ||
		skip "needs: mount -t tmpfs (root in a privileged container)"
	# A 64 MiB device on 4 MiB of memory: writes past that fail in
	# writeback, long after the write call returned.
	truncate -s 64M mnt/back.img
	dev=$(losetup -f --show "$PWD/mnt/back.img" 2>/dev/null) ||
		skip "no loop device available"
	random_img src.img $((48 * MiB))
	run_tool 1 nbd-copy src.img "$dev"
	assert_error_matches "^nbd-copy: destination: $(quote_re "$dev"): write at offset [0-9]+: a writeback failed \(seen waiting for [0-9]+ bytes at offset [0-9]+\): (Input/output error|No space left on device)$"
}
