#!/usr/bin/env bats
# Faults during copies (issue 8, part 3): I/O errors at fixed offsets
# (an nbdkit sh plugin of our own) and at random ones (nbdkit's error
# filter), ENOSPC from nbdkit-full-plugin and from a full file system,
# servers killed in the middle, a destination made immutable or on a
# read-only mount.  Every one is exit 1 with one line naming the side, the offset and the
# error, never a success; a failing block status is no error at all.
# shellcheck disable=SC2030,SC2031,SC2154

load helpers

MiB=1048576

teardown() {
	# An immutable file or a mount would outlive the test otherwise.
	chattr -i "$BATS_TEST_TMPDIR/dst.img" 2>/dev/null || true
	nbdu_teardown
	if mountpoint -q "$BATS_TEST_TMPDIR/mnt" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/mnt"
	fi
}

# faulty VAR OP FROM TO DISK: an nbdkit sh plugin serving DISK (a file)
# whose OP (pread, pwrite, zero or flush) fails for every request that
# touches [FROM, TO): EIO for reads and flushes, ENOSPC for writes and
# zeroes.  VAR is set as by start_nbdkit.
faulty() {
	local var=$1
	cat >faulty.sh <<-'EOF'
	#!/bin/bash
	# $2 handle, $3 count, $4 offset
	hit() {
		[ "$FAULT_OP" = "$1" ] && [ "$4" -lt "$FAULT_TO" ] &&
			[ $(($4 + $3)) -gt "$FAULT_FROM" ]
	}
	case "$1" in
	get_size) stat -L -c %s "$FAULT_DISK" ;;
	can_write | can_zero | can_flush | can_multi_conn) exit 0 ;;
	thread_model) echo parallel ;;
	pread)
		if hit "$@"; then echo "EIO injected" >&2; exit 1; fi
		dd if="$FAULT_DISK" skip="$4" count="$3" \
			iflag=skip_bytes,count_bytes status=none ;;
	pwrite)
		if hit "$@"; then cat >/dev/null; echo "ENOSPC" >&2; exit 1; fi
		dd of="$FAULT_DISK" seek="$4" oflag=seek_bytes conv=notrunc \
			status=none ;;
	zero)
		if hit "$@"; then echo "ENOSPC" >&2; exit 1; fi
		dd if=/dev/zero of="$FAULT_DISK" seek="$4" count="$3" \
			oflag=seek_bytes iflag=count_bytes conv=notrunc \
			status=none ;;
	flush)
		if [ "$FAULT_OP" = flush ]; then echo "EIO injected" >&2; exit 1; fi ;;
	*) exit 2 ;;
	esac
	EOF
	chmod +x faulty.sh
	FAULT_OP=$2 FAULT_FROM=$3 FAULT_TO=$4 FAULT_DISK=$5 \
		start_nbdkit "$var" sh ./faulty.sh
}

@test "copy: a read error at a fixed offset names the source and that offset" {
	random_img disk.img $((8 * MiB))
	faulty src pread $((3 * MiB)) $((4 * MiB)) "$PWD/disk.img"
	for args in "" "--synchronous" "-T 1 -R 1" "-C 1"; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args --request-size=1M "$src" out.img
		assert_error_is "nbd-copy: source: $src: read at offset 3145728: Input/output error"
	done
	run_tool 1 nbd-copy --request-size=1M "$src" -
	assert_error_is "nbd-copy: source: $src: read at offset 3145728: Input/output error"
	run_tool 1 nbd-dump -s 3M "$src"
	[ "${stderr_lines[0]}" = "nbd-dump: source: $src: read at offset 3145728: Input/output error" ] ||
		fail "$stderr"
}

@test "copy: a write error at a fixed offset names the destination and that offset" {
	random_img src.img $((8 * MiB))
	truncate -s 8M disk.img
	faulty dst pwrite $((5 * MiB)) $((6 * MiB)) "$PWD/disk.img"
	for args in "" "--synchronous" "-C 1 -R 1"; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args --request-size=1M src.img "$dst"
		assert_error_is "nbd-copy: destination: $dst: write at offset 5242880: No space left on device"
	done
	# A stream source goes through the ordered engine.
	run_tool 1 nbd-copy --request-size=1M - "$dst" <src.img
	assert_error_is "nbd-copy: destination: $dst: write at offset 5242880: No space left on device"
}

@test "copy: a zero error at a fixed offset names the destination and that offset" {
	random_img src.img $((8 * MiB))
	# One hole, [4M, 5M): the only zeroing the copy does.
	fallocate -p -o $((4 * MiB)) -l $MiB src.img
	random_img disk.img $((8 * MiB))
	faulty dst zero $((4 * MiB)) $((5 * MiB)) "$PWD/disk.img"
	for args in "" "--synchronous"; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args --request-size=1M src.img "$dst"
		assert_error_is "nbd-copy: destination: $dst: zero at offset 4194304: No space left on device"
	done
}

@test "copy: a failing flush fails --flush in every engine, not plain copies" {
	random_img src.img $MiB
	truncate -s 1M disk.img
	faulty dst flush 0 0 "$PWD/disk.img"
	run_tool nbd-copy src.img "$dst"
	cmp src.img disk.img
	for args in "" "--synchronous" "-C 1"; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args --flush src.img "$dst"
		assert_error_is "nbd-copy: destination: $dst: flush at offset 0: Input/output error"
	done
}

@test "copy: random errors on every operation stop the copy with side, offset, errno" {
	# 64 holes of 256k, so there are many zero requests too.
	random_img holes.img $((32 * MiB))
	for i in $(seq 0 63); do
		fallocate -p -o $((i * MiB / 2)) -l $((MiB / 4)) holes.img
	done
	# Multi-conn on both sides: four workers with requests in flight.
	while read -r side what filter err text; do
		if [ "$side" = source ]; then
			start_nbdkit s --filter=error file holes.img \
				"error-$filter-rate=30%" "error-$filter=$err"
			start_nbdkit d memory 32M
		else
			start_nbdkit s file holes.img
			start_nbdkit d --filter=error memory 32M \
				"error-$filter-rate=30%" "error-$filter=$err"
		fi
		local uri=$s
		[ "$side" = source ] || uri=$d
		for args in "" "--synchronous" "-C 1 -R 4"; do
			# shellcheck disable=SC2086
			run_tool 1 nbd-copy $args --request-size=256k "$s" "$d"
			assert_error_matches "^nbd-copy: $side: $(quote_re "$uri"): $what at offset [0-9]+: $text\$"
		done
		nbdu_teardown
		nbdu_setup
	done <<-END
	source read pread EIO Input/output error
	source read pread ENOSPC No space left on device
	destination write pwrite EPERM Operation not permitted
	destination write pwrite ENOSPC No space left on device
	destination zero zero EIO Input/output error
	END
}

@test "copy: the full plugin as destination is ENOSPC, data or holes" {
	random_img src.img $((4 * MiB))
	truncate -s 4M sparse.img
	start_nbdkit dst full 8M
	run_tool 1 nbd-copy src.img "$dst"
	assert_error_matches "^nbd-copy: destination: $(quote_re "$dst"): write at offset [0-9]+: No space left on device\$"
	run_tool 1 nbd-copy --synchronous src.img "$dst"
	assert_error_is "nbd-copy: destination: $dst: write at offset 0: No space left on device"
	run_tool 1 nbd-copy - "$dst" <src.img
	assert_error_is "nbd-copy: destination: $dst: write at offset 0: No space left on device"
	run_tool 1 nbd-copy --synchronous sparse.img "$dst"
	assert_error_is "nbd-copy: destination: $dst: zero at offset 0: No space left on device"
	run_tool 1 nbd-copy --allocated sparse.img "$dst"
	assert_error_matches "^nbd-copy: destination: .*: (zero|write) at offset [0-9]+: No space left on device\$"
}

# A tmpfs of its own, for ENOSPC and EROFS on local files.
mount_tmpfs() {
	mkdir -p mnt
	mount -t tmpfs -o "size=$1" tmpfs mnt 2>/dev/null ||
		skip "needs: mount -t tmpfs (root in a privileged container)"
}

@test "copy: a file destination on a full file system is ENOSPC at an offset" {
	mount_tmpfs 1m
	random_img src.img $((4 * MiB))
	for args in "" "--synchronous"; do
		rm -f mnt/dst.img
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args src.img mnt/dst.img
		assert_error_matches '^nbd-copy: destination: mnt/dst.img: write at offset [0-9]+: No space left on device$'
	done
	rm -f mnt/dst.img
	run -1 --separate-stderr copy_appending mnt/dst.img src.img -
	assert_error_matches '^nbd-copy: destination: stdout: write at offset [0-9]+: No space left on device$'
}

@test "copy: a destination on a read-only file system fails before writing" {
	mount_tmpfs 8m
	printf 'keep' >mnt/dst.img
	mount -o remount,ro mnt
	random_img src.img $MiB
	run_tool 1 nbd-copy src.img mnt/dst.img
	assert_error_is "nbd-copy: destination: mnt/dst.img: Read-only file system"
	run_tool 1 nbd-copy src.img mnt/new.img
	assert_error_is "nbd-copy: destination: mnt/new.img: Read-only file system"
	[ "$(cat mnt/dst.img)" = keep ]
}

# wait_log FILE: until nbdkit -v has logged a pread, so the copy is
# known to be under way (a hang guard, not a timing assertion).
wait_log() {
	for _ in $(seq 300); do
		grep -q 'pread' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no pread in $1"
}

# copy_in_background ARGS...: nbd-copy ARGS in the background with a
# 60 s hang guard; sets pid, stderr goes to err.
copy_in_background() {
	timeout -k 5 60 "${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" "$@" 2>err &
	pid=$!
}

# finished: waits for the copy, which must exit 1; sets stderr and
# stderr_lines.
finished() {
	local st=0
	wait "$pid" || st=$?
	stderr=$(cat err)
	[ "$st" -eq 1 ] || fail "exit $st, want 1: $stderr"
	mapfile -t stderr_lines <err
}

@test "copy: a source server killed in the middle of a copy" {
	for args in "" "--synchronous"; do
		start_nbdkit src -v --filter=delay pattern 1G delay-read=100ms \
			2>src.log
		# shellcheck disable=SC2086
		copy_in_background $args "$src" null:
		wait_log src.log
		kill -9 "$(cat "$BATS_TEST_TMPDIR/src.pid")"
		finished
		assert_error_matches "^nbd-copy: source: $(quote_re "$src"): read at offset [0-9]+: .+"
		rm -f src.log
	done
}

@test "copy: a destination server killed in the middle of a copy" {
	for args in "" "--synchronous"; do
		start_nbdkit dst -v --filter=delay memory 1G delay-write=100ms \
			2>dst.log
		# shellcheck disable=SC2086
		copy_in_background $args [ nbdkit pattern 1G ] "$dst"
		for _ in $(seq 300); do
			grep -q 'pwrite' dst.log && break
			sleep 0.1
		done
		kill -9 "$(cat "$BATS_TEST_TMPDIR/dst.pid")"
		finished
		assert_error_matches "^nbd-copy: destination: $(quote_re "$dst"): write at offset [0-9]+: .+"
		rm -f dst.log
	done
}

@test "copy: a destination file made immutable in the middle of a copy" {
	touch probe
	chattr +i probe 2>/dev/null || skip "needs: chattr +i on $PWD"
	chattr -i probe
	for args in "" "--synchronous"; do
		rm -f dst.img
		start_nbdkit src -v --filter=delay pattern 1G delay-read=100ms \
			2>src.log
		# shellcheck disable=SC2086
		copy_in_background $args "$src" dst.img
		wait_log src.log
		chattr +i dst.img
		finished
		chattr -i dst.img
		assert_error_matches '^nbd-copy: destination: dst.img: write at offset [0-9]+: Operation not permitted$'
		rm -f src.log
	done
}

@test "copy: a failing block-status reads that range as data" {
	start_nbdkit src --filter=error data '1 @4194304 2' size=8M \
		error-extents-rate=1
	run_tool nbd-copy "$src" dst.img
	start_nbdkit ref data '1 @4194304 2' size=8M
	run_tool nbd-copy "$ref" ref.img
	cmp ref.img dst.img
}
