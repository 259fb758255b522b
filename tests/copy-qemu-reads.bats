#!/usr/bin/env bats
# nbd-copy's reads from qemu-nbd are at most 512 KiB: qemu-nbd maps a
# fresh buffer for every read of 1 MiB or more and faults in each of its
# pages, several times the CPU of the read itself, so a full copy cost it
# 3-6 times what nbdcopy's 256 KiB reads do.  The read requests are
# counted by --report: a 16 MiB dense source takes 32 of 512 KiB, and a
# few more for the first window's 64 KiB probes (copy-async.c: at most 8
# a worker); with 1 MiB reads even 16 probes would leave it at 31.
# --request-size still says the size when given (and sends no probes).

load helpers

SIZE=16777216

setup() {
	nbdu_setup
	require qemu-nbd --version
	require jq --version
	random_img src.raw "$SIZE"
}

# reads REPORT: the source's read requests in a --report file.
reads() {
	jq -e '.source.requests.reads' "$1"
}

# assert_small_reads REPORT: 16 MiB read in requests of 512 KiB at most.
assert_small_reads() {
	local n
	n=$(reads "$1")
	[ "$n" -ge 32 ] && [ "$n" -le 48 ] || fail "$n reads"
}

@test "copy: reads from a raw file behind qemu-nbd are 512 KiB" {
	start_qemu_nbd src -r -f raw src.raw
	run_tool nbd-copy --report=rep.json "$src" dst.img
	cmp src.raw dst.img
	assert_small_reads rep.json
	run jq -e '.bytes_read' rep.json
	assert_output "$SIZE"
}

@test "copy: reads from a qcow2 behind qemu-nbd are 512 KiB, into null: too" {
	qemu-img convert -f raw -O qcow2 src.raw src.qcow2
	start_qemu_nbd src -r -f qcow2 src.qcow2
	run_tool nbd-copy --report=rep.json "$src" null:
	assert_small_reads rep.json
	run_tool nbd-copy --report=rep2.json "$src" dst.img
	cmp src.raw dst.img
	assert_small_reads rep2.json
}

@test "copy: --request-size still sets the reads from qemu-nbd" {
	start_qemu_nbd src -r -f raw src.raw
	run_tool nbd-copy --request-size=4M --report=rep.json "$src" dst.img
	cmp src.raw dst.img
	run reads rep.json
	assert_output 4
}
