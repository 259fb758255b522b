#!/usr/bin/env bats
# nbd-copy --blkhash: digests equal to known values (SPEC 2 and nbdcopy's
# own tests) and to tests/blkhash-ref.py, an independent hashlib
# reference fed the bytes `nbd-copy SRC -` gives, for every algorithm,
# block sizes from 4 bytes to 1 MiB, odd sizes, sparse exports, and
# every kind of source.
# shellcheck disable=SC2154

load helpers

ref() {
	python3 "$BATS_TEST_DIRNAME/blkhash-ref.py" "$@"
}

@test "copy: --blkhash known values" {
	local data spec want n=0 v
	while read -r data spec want; do
		v=s$((n++))
		[ "$data" = - ] && data=
		start_nbdkit "$v" data "$data"
		run_tool nbd-copy --blkhash="$spec" "${!v}" null:
		assert_output "$want"
		[ -z "$stderr" ]
	done <<-'EOF'
	-                            sha256      af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc
	"hello"                      sha256      337355feb53a5309d5aba92796223c2c84ffab930e706c01fef573a2722545e6
	"hello"                      md5/4       8262896de34125dec173722c920e8bd0
	"hello"                      md5         f741ac9ce55f5325906bb14e9c05d467
	"hello"                      sha512      eca04a593cf12ec4132993da709048e25a2f1be3526e132fb521ec9d41f023ec4018b3fd07b014a33e36bb5fa145b36991f431e62f9e1a93bebea6c9565682c1
	"hello"@1048576"goodbye"     sha256      61b8f3a8cea76e16eeff7ce27f1b7711c1f1e437f5038cec17773772a4bded28
	"12345678"*512*256           md5         84fc21ac2f49ac283ff399378d834d1a
	"12345678"*512*256           sha256      cbb388edd25e567b85f504c7b345497f9fb4f6bbf4e39768809184b9f9e678f8
	"12345678"*512*256           sha512/512k 379f7eb1628058c7abbc4c96941ac972074815ea9ef4aca95eefb2b4f9c29f64023fff8d966e9fddf08d07bdba548e75298917f10268fdf9ba636c2321a2214e
	EOF
}

@test "copy: --blkhash without a value is sha256/64k and takes no word" {
	start_nbdkit src data '"hello"'
	run_tool nbd-copy --blkhash "$src" null:
	assert_output 337355feb53a5309d5aba92796223c2c84ffab930e706c01fef573a2722545e6
	run_tool nbd-copy "$src" null: --blkhash=sha256/64k
	assert_output 337355feb53a5309d5aba92796223c2c84ffab930e706c01fef573a2722545e6
	# The last --blkhash=ALG wins, as with nbdcopy's getopt.
	run_tool nbd-copy --blkhash=sha1 --blkhash=md5/4 "$src" null:
	assert_output 8262896de34125dec173722c920e8bd0
}

@test "copy: --blkhash for every ALG and SIZE from 4 bytes to 1M, odd sizes" {
	local alg size img uri
	# 1 MiB + 3 (not a multiple of any block size), 40000 bytes for the
	# tiny blocks (the reference hashes them one by one).
	head -c $((1048576 + 3)) /dev/urandom >big.img
	head -c 40000 /dev/urandom >small.img
	start_nbdkit big file big.img
	start_nbdkit small file small.img
	for alg in md5 sha1 sha224 sha256 sha384 sha512; do
		for size in 4 512 4k 64k 1M; do
			if [ "$size" = 4 ]; then img=small.img uri=$small
			else img=big.img uri=$big; fi
			run_tool nbd-copy --blkhash="$alg/$size" "$uri" null:
			assert_output "$(ref "$alg/$size" "$img")"
		done
	done
}

@test "copy: --blkhash of a sparse export equals the reference on its bytes" {
	local want
	start_nbdkit src sparse-random 300M seed=11 percent=5 runlength=65536
	want=$(tool nbd-copy "$src" - | ref sha256/64k)
	run_tool nbd-copy "$src" null: --blkhash
	assert_output "$want"
	# Other block sizes see the same zero blocks differently.
	want=$(tool nbd-copy "$src" - | ref sha1/4k)
	run_tool nbd-copy "$src" null: --blkhash=sha1/4k
	assert_output "$want"
	run_tool nbd-copy --synchronous "$src" null: --blkhash=sha1/4k
	assert_output "$want"
	run_tool nbd-copy --no-extents -S 0 "$src" null: --blkhash=sha1/4k
	assert_output "$want"
}

@test "copy: --blkhash reads only the data of a sparse export" {
	local data read
	start_nbdkit src --filter=log sparse-random 64M seed=5 percent=10 \
		runlength=65536 logfile="$BATS_TEST_TMPDIR/log"
	run_tool nbd-copy -C 4 -T 4 "$src" null: --blkhash
	# Only nbd-copy --blkhash has read so far.
	read=$(sed -n 's/.* Read id=[0-9]* offset=0x[0-9a-f]* count=0x\([0-9a-f]*\) .*/\1/p' \
		"$BATS_TEST_TMPDIR/log" | while read -r c; do echo $((16#$c)); done |
		awk '{ n += $1 } END { print n + 0 }')
	assert_output "$(tool nbd-copy "$src" - | ref)"
	data=$(nbdinfo --map "$src" | awk '$3 == 0 { n += $2 } END { print n }')
	[ "$data" -gt 0 ] && [ "$read" -eq "$data" ]
}

@test "copy: --blkhash of qemu-nbd with holes at odd offsets" {
	require qemu-img --version
	qemu-img create -q -f qcow2 img.qcow2 5000003
	qemu-io -f qcow2 -c 'write -P 0x41 65536 131072' \
		-c 'write -P 0 1048576 65536' -c 'write -P 0x5a 4800000 4096' \
		img.qcow2 >/dev/null
	start_qemu_nbd src -f qcow2 img.qcow2
	run_tool nbd-copy "$src" null: --blkhash=sha224/1M
	assert_output "$(tool nbd-copy "$src" - | ref sha224/1M)"
}

@test "copy: --blkhash is the same from NBD, [ CMD ], a file, a sparse file and stdin" {
	local want
	head -c 777777 /dev/urandom >data.img
	# A sparse file: data, a 3 MiB hole, data, a hole at the end.
	truncate -s $((8 * 1048576 + 5)) sparse.img
	dd if=data.img of=sparse.img conv=notrunc status=none
	dd if=data.img of=sparse.img bs=1M seek=4 conv=notrunc status=none
	want=$(ref sha384/64k sparse.img)
	run_tool nbd-copy sparse.img null: --blkhash=sha384
	assert_output "$want"
	run_tool nbd-copy - null: --blkhash=sha384 <sparse.img
	assert_output "$want"
	run_tool nbd-copy --blkhash=sha384 -- [ nbdkit file sparse.img ] null:
	assert_output "$want"
	start_nbdkit src file sparse.img
	run_tool nbd-copy "$src" null: --blkhash=sha384
	assert_output "$want"
	want=$(ref sha256/64k data.img)
	run_tool nbd-copy - null: --blkhash <data.img
	assert_output "$want"
	# A pipe, not a file, on stdin: read until EOF in odd pieces.
	run_tool nbd-copy - null: --blkhash < <(cat data.img)
	assert_output "$want"
	run_tool nbd-copy - null: --blkhash < /dev/null
	assert_output af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc
}

@test "copy: --blkhash while copying to a file, to NBD and to stdout" {
	local want
	start_nbdkit src sparse-random 20M seed=3 runlength=65536
	want=$(tool nbd-copy "$src" - | ref)
	run_tool nbd-copy --blkhash "$src" dst.img
	assert_output "$want"
	run_tool nbd-copy --blkhash dst.img null:
	assert_output "$want"
	start_nbdkit dst memory 20M
	run_tool nbd-copy --blkhash "$src" "$dst"
	assert_output "$want"
	tool nbd-copy --blkhash --blkhash-file=hash "$src" - >out.img
	[ "$(cat hash)" = "$want" ]
	cmp out.img dst.img
}

@test "copy: --blkhash-file writes the digest and a newline, nothing on stdout" {
	start_nbdkit src data '"hello"'
	run_tool nbd-copy --blkhash=md5/4 --blkhash-file=h "$src" null:
	[ -z "$output" ]
	[ "$(cat h)" = 8262896de34125dec173722c920e8bd0 ]
	[ "$(wc -c <h)" -eq 33 ]
	# --blkhash-file alone implies --blkhash (sha256).
	run_tool nbd-copy --blkhash-file=h2 "$src" null:
	[ "$(cat h2)" = 337355feb53a5309d5aba92796223c2c84ffab930e706c01fef573a2722545e6 ]
	run_tool 1 nbd-copy --blkhash-file=nodir/h "$src" null:
	assert_one_line_error nbd-copy "nodir/h"
}

@test "copy: --blkhash to stdout with data on stdout fails before copying" {
	start_nbdkit src data '"hello"'
	run_tool 1 nbd-copy --blkhash "$src" -
	[ -z "$output" ]
	assert_one_line_error nbd-copy "--blkhash-file"
	run_tool 1 nbd-copy --blkhash --blkhash-file=- "$src" -
	[ -z "$output" ]
	assert_one_line_error nbd-copy "--blkhash-file"
}

@test "copy: --blkhash rejects bad algorithms and sizes in one line" {
	local spec msg
	while IFS='|' read -r spec msg; do
		run_tool 1 nbd-copy --blkhash="$spec" in.img null:
		assert_one_line_error nbd-copy "$msg"
		[ -z "$output" ]
	done <<-'EOF'
	sha3|unknown algorithm 'sha3' (valid: md5, sha1, sha224, sha256, sha384, sha512)
	SHA256|unknown algorithm 'SHA256'
	sha256/3|power of two
	sha256/1x|bad block size
	sha256/2G|too large
	EOF
}
