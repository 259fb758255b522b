#!/usr/bin/env bats
# nbd-dump and holes: zero extents are printed as the lines (or the "*")
# that zero bytes give, without being read; nbdkit's log filter shows
# every request the server really got.
# shellcheck disable=SC2030,SC2031,SC2154

load helpers

# Fails if log LOG has a Read outside the ranges "START END" on stdin.
reads_only_in() {
	local log=$1 off count s e ok
	local -a ranges=()
	while read -r s e; do
		ranges+=("$s $e")
	done
	grep ' Read ' "$log" >reads || fail "no reads at all in $log"
	while read -r off count; do
		ok=0
		for r in "${ranges[@]}"; do
			read -r s e <<<"$r"
			(( off >= s && off + count <= e )) && ok=1
		done
		[ "$ok" = 1 ] || fail "read of a hole: offset $off count $count"
	done < <(sed -n 's/.* Read .*offset=\(0x[0-9a-f]*\) count=\(0x[0-9a-f]*\).*/\1 \2/p' reads)
}

@test "dump: holes are never read" {
	# Data at [0, 32K), [32M, 32M+32K) and [48M-32K, 48M): the data
	# plugin's pages.  Everything else is a hole.
	start_nbdkit src -r --filter=log \
		data '"first" @33554432 "second" @50331647 "x"' size=48M \
		logfile="$BATS_TEST_TMPDIR/src.log"
	run_tool nbd-dump "$src"
	assert_output - <<-'EOF'
	00000000  66 69 72 73 74 00 00 00  00 00 00 00 00 00 00 00  |first...........|
	00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
	*
	02000000  73 65 63 6f 6e 64 00 00  00 00 00 00 00 00 00 00  |second..........|
	02000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
	*
	02fffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 78  |...............x|
	03000000
	EOF
	grep -q ' Extents ' src.log
	reads_only_in src.log <<-'EOF'
	0 32768
	33554432 33587200
	50298880 50331648
	EOF

	# The same with a range that starts and ends inside holes.
	: >src.log
	run_tool nbd-dump -s 1000001 -n 33000000 "$src"
	assert_output - <<-'EOF'
	000f4241  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
	*
	01fffff1  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 73  |...............s|
	02000001  65 63 6f 6e 64 00 00 00  00 00 00 00 00 00 00 00  |econd...........|
	02000011  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
	*
	0206cc81
	EOF
	reads_only_in src.log <<-'EOF'
	33554432 33587200
	EOF
}

@test "dump: a 1 TiB export with one data block at the end" {
	start_nbdkit big -r --filter=log \
		data '@1099511623680 ("4 KiB at the end" 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15) * 128' \
		size=1T logfile="$BATS_TEST_TMPDIR/big.log"
	run_tool nbd-dump "$big"
	assert_line --index 0 "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|"
	assert_line --index 1 "*"
	assert_line --index 2 "fffffff000  34 20 4b 69 42 20 61 74  20 74 68 65 20 65 6e 64  |4 KiB at the end|"
	assert_line --index 3 "fffffff010  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
	assert_line --index 257 "fffffffff0  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
	# The zero line, the "*", 256 lines of data and the end offset.
	[ "${#lines[@]}" -eq 259 ]
	assert_line --index 258 10000000000
	reads_only_in big.log <<-'EOF'
	1099511595008 1099511627776
	EOF

	# The end of the export matches hexdump -C on a sparse file.
	truncate -s 1T big.img || skip "no 1 TiB sparse file here"
	for ((i = 0; i < 128; i++)); do
		printf '4 KiB at the end\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f'
	done | dd of=big.img bs=4096 seek=$(((1 << 40) / 4096 - 1)) \
		conv=notrunc status=none
	hexdump -C -s $(((1 << 40) - 4096 - 40)) big.img >expected
	tool nbd-dump -s $(((1 << 40) - 4096 - 40)) "$big" >got
	cmp expected got
	rm -f big.img
}

@test "dump: zero lines in data and in holes squash together" {
	# Zero bytes read as data, then a hole: one "*" for both.
	start_nbdkit src -r data '"abc" @16 0 * 65536 @1048576 "z"' size=2M
	run_tool nbd-dump "$src"
	assert_output - <<-'EOF'
	00000000  61 62 63 00 00 00 00 00  00 00 00 00 00 00 00 00  |abc.............|
	00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
	*
	00100000  7a 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |z...............|
	00100010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
	*
	00200000
	EOF
}

@test "dump: a qcow2 image through qemu-nbd matches hexdump -C" {
	require qemu-img --version
	truncate -s 8M raw.img
	printf 'qcow2 data' | dd of=raw.img bs=1 seek=3000000 conv=notrunc status=none
	head -c 70000 /dev/urandom | dd of=raw.img bs=1 seek=5000001 conv=notrunc status=none
	qemu-img convert -f raw -O qcow2 raw.img img.qcow2
	start_qemu_nbd q -r -f qcow2 img.qcow2
	hexdump -C raw.img >expected
	tool nbd-dump "$q" >got
	cmp expected got
	hexdump -C -s 2999999 -n 2070010 raw.img >expected
	tool nbd-dump -s 2999999 -n 2070010 "$q" >got
	cmp expected got
}
