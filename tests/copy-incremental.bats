#!/usr/bin/env bats
# nbd-copy --dirty-bitmap and --ranges: an incremental copy onto
# yesterday's full copy.  The image is a qcow2 with a persistent dirty
# bitmap added after yesterday's copy; today's writes (data at 64k and
# 1M, zeroes at 2M) dirty three ranges, served by qemu-nbd -B.
# shellcheck disable=SC2154

load helpers

# The ranges the bitmap marks dirty (qemu's 64k granularity).
DIRTY='65536 65536
1048576 65536
2097152 131072'

setup_file() {
	command -v qemu-img >/dev/null && command -v qemu-io >/dev/null &&
		command -v qemu-nbd >/dev/null || return 0
	cd "$BATS_FILE_TMPDIR" || return 1
	qemu-img create -q -f qcow2 disk.qcow2 4M
	qemu-io -c 'write -P 0x11 0 4M' disk.qcow2 >/dev/null
	qemu-img convert -O raw disk.qcow2 yesterday.raw
	qemu-img bitmap --add disk.qcow2 b0
	qemu-io -c 'write -P 0x22 64k 64k' -c 'write -P 0x33 1M 4k' \
		-c 'write -z 2M 128k' disk.qcow2 >/dev/null
	qemu-img convert -O raw disk.qcow2 today.raw
	# Every byte 0xee: shows which bytes a copy wrote.
	head -c 4M /dev/zero | tr '\0' '\356' >poison.raw
}

setup() {
	nbdu_setup
	[ -s "$BATS_FILE_TMPDIR/today.raw" ] || skip "needs: qemu-img, qemu-io, qemu-nbd"
	cp "$BATS_FILE_TMPDIR"/{disk.qcow2,yesterday.raw,today.raw,poison.raw} .
}

# start_bitmap [QEMU-NBD-ARGS...]: today's image with bitmap b0, as $src.
start_bitmap() {
	start_qemu_nbd src -r -f qcow2 -B b0 "$@" "$PWD/disk.qcow2"
}

# same_at FILE1 FILE2 OFF LEN: the LEN bytes at OFF are the same.
same_at() {
	cmp -n "$4" -i "$3:$3" "$1" "$2" ||
		fail "$1 and $2 differ in $3+$4"
}

# Each clean range of a copy onto poison.raw is still poison, each
# dirty range is today's.
assert_only_dirty_written() {
	local f=$1
	same_at "$f" today.raw 65536 65536
	same_at "$f" today.raw 1048576 65536
	same_at "$f" today.raw 2097152 131072
	same_at "$f" poison.raw 0 65536
	same_at "$f" poison.raw 131072 917504
	same_at "$f" poison.raw 1114112 983040
	same_at "$f" poison.raw 2228224 1966080
}

@test "copy: --dirty-bitmap onto yesterday's copy gives today's image" {
	start_bitmap
	run_tool nbd-copy --dirty-bitmap=b0 "$src" yesterday.raw
	assert_output ''
	cmp yesterday.raw today.raw
}

@test "copy: --dirty-bitmap writes only the dirty ranges" {
	start_bitmap
	run_tool nbd-copy --dirty-bitmap=qemu:dirty-bitmap:b0 "$src" poison.raw
	[ "$(stat -c %s poison.raw)" -eq 4194304 ]
	assert_only_dirty_written poison.raw
}

@test "copy: --dirty-bitmap reads nothing outside the dirty ranges" {
	start_bitmap --trace "nbd_receive_request,file=$PWD/trace.log"
	run_tool nbd-copy --dirty-bitmap=b0 -C 2 -R 4 "$src" yesterday.raw
	cmp yesterday.raw today.raw
	nbdu_teardown	# the trace is complete once qemu-nbd is gone
	# Reads (type 0) as "from len"; the zeroed range at 2M is a hole.
	sed -n 's/.*type = 0x0, from = \([0-9]*\), len = \([0-9]*\) }.*/\1 \2/p' \
		trace.log >reads
	[ -s reads ] || fail "no reads traced: $(cat trace.log)"
	while read -r off len; do
		{ [ "$off" -ge 65536 ] && [ $((off + len)) -le 131072 ]; } ||
			{ [ "$off" -ge 1048576 ] && [ $((off + len)) -le 1114112 ]; } ||
			fail "read outside the dirty ranges: $off+$len"
	done <reads
}

@test "copy: --dirty-bitmap onto an NBD export, multi-conn, --flush --verify" {
	start_bitmap
	start_nbdkit dst file "$PWD/poison.raw"
	run_tool nbd-copy --dirty-bitmap=b0 -C 2 -T 2 -R 4 --flush --verify \
		"$src" "$dst"
	assert_output ''
	assert_only_dirty_written poison.raw
}

@test "copy: --dirty-bitmap --synchronous --no-extents gives today's image" {
	start_bitmap
	run_tool nbd-copy --dirty-bitmap=b0 --synchronous --no-extents "$src" \
		yesterday.raw
	cmp yesterday.raw today.raw
}

@test "copy: --dirty-bitmap --verify compares only the dirty ranges" {
	start_bitmap
	# The clean ranges stay poison, unlike the source: not a mismatch.
	run_tool nbd-copy --dirty-bitmap=b0 --verify "$src" poison.raw
	assert_only_dirty_written poison.raw
}

@test "copy: --blkhash of an incremental copy is the whole destination's" {
	local want
	want=$("$NBDU_BUILD/nbd-copy" today.raw null: --blkhash)
	start_bitmap
	run_tool nbd-copy --dirty-bitmap=b0 --blkhash --check="$want" "$src" \
		yesterday.raw
	assert_output "$want"
	# Onto a destination that differs in clean ranges: a different digest.
	run_tool 1 nbd-copy --dirty-bitmap=b0 --check="$want" "$src" poison.raw
	assert_one_line_error nbd-copy "mismatch: expected $want"
}

@test "copy: --dirty-bitmap naming a bitmap the server lacks lists what it offers" {
	start_bitmap
	run_tool 1 nbd-copy --dirty-bitmap=nope "$src" yesterday.raw
	assert_one_line_error nbd-copy '--dirty-bitmap: server does not support metadata context "qemu:dirty-bitmap:nope"; it offers: base:allocation, qemu:dirty-bitmap:b0'
	cmp yesterday.raw "$BATS_FILE_TMPDIR/yesterday.raw"
}

@test "copy: --dirty-bitmap never creates or resizes the destination" {
	start_bitmap
	run_tool 1 nbd-copy --dirty-bitmap=b0 "$src" missing.raw
	assert_one_line_error nbd-copy 'destination: missing.raw: No such file or directory'
	[ ! -e missing.raw ]
	truncate -s 1M small.raw
	run_tool 1 nbd-copy --dirty-bitmap=b0 "$src" small.raw
	assert_one_line_error nbd-copy 'destination: small.raw: size 1048576 is smaller than the source'"'"'s 4194304'
	[ "$(stat -c %s small.raw)" -eq 1048576 ]
	run_tool 1 nbd-copy --dirty-bitmap=b0 "$src" null:
	assert_one_line_error nbd-copy '--dirty-bitmap: destination null: must be an existing image'
}

@test "copy: --dirty-bitmap needs an NBD source, and not --ranges too" {
	run_tool 1 nbd-copy --dirty-bitmap=b0 today.raw yesterday.raw
	assert_one_line_error nbd-copy '--dirty-bitmap: the source must be an NBD export'
	echo '0 1' >r.txt
	run_tool 1 nbd-copy --dirty-bitmap=b0 --ranges=r.txt today.raw yesterday.raw
	assert_one_line_error nbd-copy '--dirty-bitmap and --ranges cannot be used together'
	run_tool 1 nbd-copy --ranges-type=1 today.raw yesterday.raw
	assert_one_line_error nbd-copy '--ranges-type needs --ranges'
	cmp yesterday.raw "$BATS_FILE_TMPDIR/yesterday.raw"
}

@test "copy: --ranges from a hand-written list writes only those ranges" {
	cat >r.txt <<-'EOF'
	# today's changes, unsorted and overlapping
	1M 64k
	2M 128k   # zeroed
	64k 32k
	96k 32k
	64k 4k
	EOF
	run_tool nbd-copy --ranges=r.txt today.raw poison.raw
	assert_only_dirty_written poison.raw
}

@test "copy: --ranges from nbd-stat-map --json of the bitmap, and from stdin" {
	start_bitmap
	tool nbd-stat-map --json --map=qemu:dirty-bitmap:b0 "$src" >map.json
	run_tool nbd-copy --ranges=map.json --ranges-type=1 "$src" poison.raw
	assert_only_dirty_written poison.raw
	cp "$BATS_FILE_TMPDIR/poison.raw" p2.raw
	tool nbd-copy --ranges=- --ranges-type=1 "$src" p2.raw <map.json
	cmp p2.raw poison.raw
	# Without --ranges-type every extent is copied: the whole image.
	run_tool nbd-copy --ranges=map.json "$src" yesterday.raw
	cmp yesterday.raw today.raw
}

@test "copy: --ranges reads only the listed ranges" {
	start_nbdkit src --filter=log file "$PWD/today.raw" logfile="$PWD/log"
	printf '%s\n' "$DIRTY" >r.txt
	run_tool nbd-copy --ranges=r.txt "$src" poison.raw
	assert_only_dirty_written poison.raw
	nbdu_teardown
	grep -o 'Read id=[0-9]* offset=0x[0-9a-f]* count=0x[0-9a-f]*' log |
		sed 's/.*offset=\(0x[0-9a-f]*\) count=\(0x[0-9a-f]*\)/\1 \2/' >reads
	[ -s reads ] || fail "no reads logged: $(cat log)"
	while read -r off len; do
		off=$((off))
		len=$((len))
		{ [ "$off" -ge 65536 ] && [ $((off + len)) -le 131072 ]; } ||
			{ [ "$off" -ge 1048576 ] && [ $((off + len)) -le 1114112 ]; } ||
			{ [ "$off" -ge 2097152 ] && [ $((off + len)) -le 2228224 ]; } ||
			fail "read outside the listed ranges: $off+$len"
	done <reads
}

@test "copy: --ranges errors name the file and line, and write nothing" {
	printf '0 4k\n\nfoo 4k\n' >bad.txt
	run_tool 1 nbd-copy --ranges=bad.txt today.raw yesterday.raw
	assert_one_line_error nbd-copy "bad.txt:3: offset 'foo' is not a size"
	printf '# end\n4M-4k 4k\n4M 1\n' | sed 's/4M-4k/4190208/' >past.txt
	run_tool 1 nbd-copy --ranges=past.txt today.raw yesterday.raw
	[ "${stderr_lines[0]}" = 'nbd-copy: past.txt:3: range 4194304+1 ends past the end of the source (4194304 bytes)' ]
	printf '0 4k 8k\n' >three.txt
	run_tool 1 nbd-copy --ranges=three.txt today.raw yesterday.raw
	assert_one_line_error nbd-copy "three.txt:1: expected OFFSET LENGTH, got more: '8k'"
	printf '[\n{ "offset": 0 }\n]\n' >bad.json
	run_tool 1 nbd-copy --ranges=bad.json today.raw yesterday.raw
	assert_one_line_error nbd-copy 'bad.json:2: an extent without "offset" and "length"'
	run -1 --separate-stderr bash -c \
		"printf '0 4k\n1 2 3\n' | '$NBDU_BUILD/nbd-copy' --ranges=- today.raw yesterday.raw"
	assert_one_line_error nbd-copy "stdin:2: expected OFFSET LENGTH, got more: '3'"
	run_tool 1 nbd-copy --ranges=missing.txt today.raw yesterday.raw
	assert_one_line_error nbd-copy '--ranges: missing.txt: No such file or directory'
	touch unreadable.txt
	chmod 000 unreadable.txt
	if ! [ -r unreadable.txt ]; then
		run_tool 1 nbd-copy --ranges=unreadable.txt today.raw yesterday.raw
		assert_one_line_error nbd-copy '--ranges: unreadable.txt: Permission denied'
	fi
	cmp yesterday.raw "$BATS_FILE_TMPDIR/yesterday.raw"
}

@test "copy: --ranges of a streamed source is refused" {
	echo '0 1' >r.txt
	run -1 --separate-stderr bash -c \
		"cat today.raw | '$NBDU_BUILD/nbd-copy' --ranges=r.txt - yesterday.raw"
	assert_one_line_error nbd-copy '--ranges: source stdin is a stream'
}

@test "copy: --dirty-bitmap --checkpoint: a rerun after SIGINT ends the incremental copy" {
	local pid st=0
	start_bitmap
	# A slow destination, so that SIGINT lands mid-copy, once two
	# writes are done (a checkpoint is written only if it claims some).
	start_nbdkit dst --filter=log --filter=delay file "$PWD/poison.raw" \
		delay-write=300ms delay-zero=300ms logfile="$PWD/dst.log"
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" --checkpoint=ck --synchronous \
		--request-size=4k --dirty-bitmap=b0 --blkhash "$src" "$dst" \
		>/dev/null 2>err &
	pid=$!
	for _ in $(seq 600); do
		[ "$(grep -Ec '\.\.\.(Write|Zero) id=[0-9]+ return=0' dst.log)" -ge 2 ] &&
			break
		sleep 0.05
	done
	kill -INT "$pid"
	wait "$pid" || st=$?
	[ "$st" = 130 ] || fail "status $st: $(cat err)"
	[ -s ck ] || fail "no checkpoint after SIGINT: $(cat err)"
	grep -q '^selection --dirty-bitmap%20sha256:' ck || fail "$(cat ck)"
	grep -q '^done ' ck || fail "nothing claimed: $(cat ck)"
	run_tool nbd-copy --checkpoint=ck --dirty-bitmap=b0 --blkhash "$src" \
		"$dst"
	assert_output "$(tool nbd-copy --blkhash poison.raw null:)"
	assert_only_dirty_written poison.raw
	[ ! -e ck ]
}
