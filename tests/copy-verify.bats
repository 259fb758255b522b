#!/usr/bin/env bats
# nbd-copy --check and --verify: a copy proven right, or exit 1 with a
# message that says what is wrong.  The corrupted destination is a real
# NBD server (nbdkit's python plugin) that keeps what is written but
# returns every byte of the ranges given by corrupt= inverted on read.
# shellcheck disable=SC2154

load helpers

HELLO=337355feb53a5309d5aba92796223c2c84ffab930e706c01fef573a2722545e6

setup_file() {
	cat >"$BATS_FILE_TMPDIR/corrupt.py" <<-'PY'
	import nbdkit

	API_VERSION = 2
	size = 0
	ranges = []
	disk = None


	def config(key, value):
	    global size
	    if key == "size":
	        size = int(value)
	    elif key == "corrupt":
	        for r in value.split(","):
	            off, length = r.split(":")
	            ranges.append((int(off), int(length)))


	def config_complete():
	    global disk
	    disk = bytearray(size)


	def thread_model():
	    return nbdkit.THREAD_MODEL_SERIALIZE_ALL_REQUESTS


	def open(readonly):
	    return 1


	def get_size(h):
	    return size


	def pread(h, buf, offset, flags):
	    n = len(buf)
	    buf[:] = disk[offset:offset + n]
	    for off, length in ranges:
	        lo, hi = max(off, offset), min(off + length, offset + n)
	        if lo < hi:
	            buf[lo - offset:hi - offset] = bytes(
	                b ^ 0xff for b in disk[lo:hi])


	def pwrite(h, buf, offset, flags):
	    disk[offset:offset + len(buf)] = buf


	def zero(h, count, offset, flags):
	    disk[offset:offset + count] = bytes(count)
	PY
}

# start_corrupt VAR SIZE RANGES: the corrupting server described above.
start_corrupt() {
	require nbdkit python --version
	start_nbdkit "$1" python "$BATS_FILE_TMPDIR/corrupt.py" size="$2" \
		corrupt="$3"
}

@test "copy: --verify passes on good copies of dense and sparse images" {
	start_nbdkit dense pattern 9M
	run_tool nbd-copy --verify "$dense" dense.img
	[ -z "$output" ] && [ -z "$stderr" ]
	start_nbdkit sparse sparse-random 64M seed=9 percent=20 runlength=65536
	run_tool nbd-copy --verify "$sparse" sparse.img
	[ -z "$output" ] && [ -z "$stderr" ]
	start_nbdkit mem memory 64M
	run_tool nbd-copy --verify "$sparse" "$mem"
	[ -z "$stderr" ]
	run_tool nbd-copy --verify --synchronous sparse.img "$mem"
	[ -z "$stderr" ]
	# A larger destination: only the source's size is compared.
	head -c 100001 /dev/urandom >odd.img
	run_tool nbd-copy --verify odd.img "$mem"
	[ -z "$stderr" ]
}

@test "copy: --verify into qemu-nbd qcow2 and to a file with --destination-is-zero" {
	require qemu-img --version
	start_nbdkit src sparse-random 16M seed=4 runlength=65536
	qemu-img create -q -f qcow2 out.qcow2 16M
	run_tool nbd-copy --verify -- "$src" [ qemu-nbd -f qcow2 out.qcow2 ]
	[ -z "$stderr" ]
	run_tool nbd-copy --verify --destination-is-zero "$src" new.img
	[ -z "$stderr" ]
}

@test "copy: --verify lists the corrupted byte range" {
	start_nbdkit src pattern 4M
	start_corrupt dst 4194304 1000000:100
	run_tool 1 nbd-copy --verify "$src" "$dst"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	assert_equal "${stderr_lines[0]}" "nbd-copy: --verify: destination $dst differs from source $src: 100 bytes in 1 range"
	assert_equal "${stderr_lines[1]}" "  bytes 1000000-1000099 (100 bytes)"
}

@test "copy: --verify merges close ranges and lists the first five" {
	start_nbdkit src pattern 4M
	start_corrupt dst 4194304 \
		0:1,100:1,2000:10,1048576:4096,2097152:1,3000000:1,3500000:5,4194303:1
	run_tool 1 nbd-copy --verify "$src" "$dst"
	[ -z "$output" ]
	assert_equal "$stderr" "nbd-copy: --verify: destination $dst differs from source $src: 4116 bytes in 7 ranges
  bytes 0-100 (101 bytes)
  bytes 2000-2009 (10 bytes)
  bytes 1048576-1052671 (4096 bytes)
  bytes 2097152-2097152 (1 byte)
  bytes 3000000-3000000 (1 byte)
  ... and 2 more ranges"
}

@test "copy: --verify catches a destination that is not zero where the source has holes" {
	start_nbdkit src data '"hello" @4194303 "!"'
	start_nbdkit dst data '@1048576 "garbage!"' size=4M
	# --destination-is-zero is a lie here, trusted unchecked: the holes
	# are not written.
	run_tool 1 nbd-copy --verify --destination-is-zero=trust "$src" "$dst"
	assert_equal "${stderr_lines[0]}" "nbd-copy: --verify: destination $dst differs from source $src: 8 bytes in 1 range"
	assert_equal "${stderr_lines[1]}" "  bytes 1048576-1048583 (8 bytes)"
	# Without the lie the same copy verifies.
	run_tool nbd-copy --verify "$src" "$dst"
	[ -z "$stderr" ]
}

@test "copy: --verify catches data missing where the destination reports holes" {
	start_nbdkit src data '"hello" @1048576 "goodbye"' size=2M
	# nbdkit null throws writes away and reports one big hole.
	start_nbdkit dst null 2M
	run_tool 1 nbd-copy --verify "$src" "$dst"
	assert_equal "$stderr" "nbd-copy: --verify: destination $dst differs from source $src: 12 bytes in 2 ranges
  bytes 0-4 (5 bytes)
  bytes 1048576-1048582 (7 bytes)"
}

@test "copy: --verify refuses what cannot be read again, before copying" {
	run_tool 1 nbd-copy --verify - dst.img </dev/null
	assert_one_line_error nbd-copy "source stdin is a stream"
	[ ! -e dst.img ]
	start_nbdkit src data '"hello"'
	run_tool 1 nbd-copy --verify "$src" null:
	assert_one_line_error nbd-copy "null: keeps nothing to read back"
	run_tool 1 nbd-copy --verify "$src" -
	assert_one_line_error nbd-copy "stdout is a stream"
	[ -z "$output" ]
}

@test "copy: --check passes silently, with --blkhash prints the digest" {
	start_nbdkit src data '"hello"'
	run_tool nbd-copy --check=$HELLO "$src" dst.img
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(cat dst.img)" = hello ]
	run_tool nbd-copy --blkhash --check=$HELLO "$src" null:
	assert_output $HELLO
	# Upper case, as some tools print it.
	run_tool nbd-copy --check="${HELLO^^}" "$src" null:
	# The digest of another ALG/SIZE.
	run_tool nbd-copy --blkhash=md5/4 --check=8262896de34125dec173722c920e8bd0 "$src" null:
	assert_output 8262896de34125dec173722c920e8bd0
	# Checking an image in place, from stdin, with --verify too.
	run_tool nbd-copy --check=$HELLO dst.img null:
	run_tool nbd-copy --check=$HELLO - null: <dst.img
	run_tool nbd-copy --verify --check=$HELLO "$src" dst2.img
	[ -z "$stderr" ]
}

@test "copy: --check-file reads blksum and sha256sum output" {
	start_nbdkit src data '"hello"'
	echo "$HELLO  disk.img" >sum
	run_tool nbd-copy --check-file=sum "$src" null:
	[ -z "$output" ] && [ -z "$stderr" ]
	tool nbd-copy --blkhash-file=sum2 "$src" null:
	run_tool nbd-copy --check-file=sum2 "$src" null:
	printf '\\%s  odd\\nname\n' "$HELLO" >sum3
	run_tool nbd-copy --check-file=sum3 "$src" null:
}

@test "copy: --check fails with exit 1 and one line naming both digests" {
	local bad=${HELLO%?}0
	start_nbdkit src data '"hello"'
	run_tool 1 nbd-copy --check="$bad" "$src" null:
	[ -z "$output" ]
	assert_one_line_error nbd-copy "--check: $src: blkhash sha256/64k mismatch: expected $bad, got $HELLO"
	run_tool 1 nbd-copy --blkhash --check="$bad" "$src" null:
	assert_output $HELLO
	assert_one_line_error nbd-copy "expected $bad, got $HELLO"
	echo "$bad  x" >sum
	run_tool 1 nbd-copy --blkhash=sha256/1M --check-file=sum - null: <<<hello
	assert_one_line_error nbd-copy "--check: stdin: blkhash sha256/1M mismatch: expected $bad"
	run_tool 1 nbd-copy --blkhash=md5/4 --check=8262896de34125dec173722c920e8bd1 "$src" null:
	assert_one_line_error nbd-copy "blkhash md5/4 mismatch"
}

@test "copy: --check rejects a bad digest before copying" {
	local msg args
	start_nbdkit src data '"hello"'
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args "$src" dst.img
		assert_one_line_error nbd-copy "$msg"
		[ ! -e dst.img ]
	done <<-EOF
	--check=abc|--check: 'abc' is not a sha256 digest (64 hex digits)
	--check=${HELLO}00|is not a sha256 digest
	--blkhash=md5 --check=$HELLO|is not a md5 digest (32 hex digits)
	--check=${HELLO%?}g|is not a sha256 digest
	--check-file=missing|--check-file: missing: No such file or directory
	--check=$HELLO --check-file=sum|--check and --check-file
	EOF
}

@test "copy: --verify names the side and offset of a read error" {
	start_nbdkit src pattern 3M
	start_nbdkit dst --filter=error memory 3M error-pread-rate=1 \
		error-pread=EIO
	run_tool 1 nbd-copy --verify "$src" "$dst"
	assert_one_line_error nbd-copy "destination: $dst: verify: read at offset 0: Input/output error"
}
