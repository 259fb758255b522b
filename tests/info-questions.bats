#!/usr/bin/env bats
# nbd-info's newer questions, from nbdinfo 1.18 and 1.20: --has/--hasnt
# CONTEXT, --isnt/--cannot FLAG and --uri, and the human sizes beside
# the block size limits.  The exit status is the answer (0 true, 2
# false, 1 error), each against a server whose answer the test sets.
# nbdinfo 1.14 lacks these options: --cannot/--isnt are checked against
# its --can/--is, --uri against its "uri:" line, the rest against
# nbdinfo(1) 1.20's documentation.
# shellcheck disable=SC2016,SC2154

load helpers

# A Unix socket file that nothing listens on: connecting is refused.
dead_socket() {
	python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BATS_TEST_TMPDIR/dead.sock"
	dead="nbd+unix:///?socket=$BATS_TEST_TMPDIR/dead.sock"
}

# A qcow2 image with a persistent dirty bitmap named b0.
make_bitmap_image() {
	require qemu-img --version
	qemu-img create -q -f qcow2 disk.qcow2 1M
	qemu-img bitmap --add disk.qcow2 b0
}

@test "info: --has/--hasnt base:allocation on nbdkit, with and without structured replies" {
	start_nbdkit srv memory 1M
	start_nbdkit nosr --no-sr memory 1M
	run_tool 0 nbd-info --has base:allocation "$srv"
	assert_output ''
	assert_equal "$stderr" ''
	run_tool 2 nbd-info --hasnt base:allocation "$srv"
	assert_output ''
	# No structured replies, no meta contexts at all.
	run_tool 2 nbd-info --has base:allocation "$nosr"
	run_tool 0 nbd-info --hasnt base:allocation "$nosr"
	# nbdkit offers nothing of qemu's.
	run_tool 2 nbd-info --has qemu:allocation-depth "$srv"
	run_tool 0 nbd-info --hasnt qemu:allocation-depth "$srv"
}

@test "info: --has qemu:dirty-bitmap:NAME follows qemu-nbd -B NAME" {
	make_bitmap_image
	start_qemu_nbd bm -f qcow2 -r -B b0 disk.qcow2
	run_tool 0 nbd-info --has qemu:dirty-bitmap:b0 "$bm"
	run_tool 2 nbd-info --hasnt qemu:dirty-bitmap:b0 "$bm"
	run_tool 2 nbd-info --has qemu:dirty-bitmap:other "$bm"
	run_tool 0 nbd-info --hasnt qemu:dirty-bitmap:other "$bm"
	run_tool 0 nbd-info --has base:allocation "$bm"
	# The same image served without -B offers no bitmap.
	start_qemu_nbd plain -f qcow2 -r disk.qcow2
	run_tool 2 nbd-info --has qemu:dirty-bitmap:b0 "$plain"
	run_tool 0 nbd-info --hasnt qemu:dirty-bitmap:b0 "$plain"
}

@test "info: --has qemu:allocation-depth follows qemu-nbd -A, through [ CMD ]" {
	require qemu-img --version
	qemu-img create -q -f qcow2 disk.qcow2 1M
	run_tool 0 nbd-info --has qemu:allocation-depth -- \
		[ qemu-nbd -r -f qcow2 -A disk.qcow2 ]
	run_tool 2 nbd-info --has qemu:allocation-depth -- \
		[ qemu-nbd -r -f qcow2 disk.qcow2 ]
}

@test "info: --isnt and --cannot answer the opposite of nbdinfo's --is and --can" {
	require nbdinfo --version
	start_nbdkit rw memory 1M
	start_nbdkit ro -r --filter=multi-conn memory 1M multi-conn-mode=disable
	local srv flag theirs want
	for srv in "$rw" "$ro"; do
		for flag in read-only write multi-conn trim zero flush \
			connect tls structured-reply; do
			run -- nbdinfo --can "$flag" "$srv"
			theirs=$status
			[ "$theirs" = 0 ] || [ "$theirs" = 2 ] ||
				fail "nbdinfo --can $flag: $theirs"
			want=$((2 - theirs))
			run_tool "$want" nbd-info --cannot "$flag" "$srv"
			assert_output ''
			run_tool "$want" nbd-info --isnt "$flag" "$srv"
			run_tool "$theirs" nbd-info --can "$flag" "$srv"
		done
	done
	# The controlled answers themselves, so this cannot pass vacuously.
	run_tool 2 nbd-info --isnt read-only "$ro"
	run_tool 0 nbd-info --isnt read-only "$rw"
	run_tool 0 nbd-info --cannot multi-conn "$ro"
	run_tool 2 nbd-info --cannot multi-conn "$rw"
	run_tool 0 nbd-info --cannot write "$ro"
	run_tool 2 nbd-info --cannot connect "$rw"
}

@test "info: --cannot and --isnt take --can's words and refuse others" {
	start_nbdkit srv memory 1M
	run_tool 0 nbd-info --cannot Read_Only "$srv"
	run_tool 0 nbd-info --isnt rotational "$srv"
	run_tool 1 nbd-info --cannot bogus "$srv"
	assert_output ''
	assert_one_line_error nbd-info "unknown --cannot or --isnt option: bogus"
	run_tool 1 nbd-info --has '' "$srv"
	assert_one_line_error nbd-info "--has: the meta context name is empty"
	run_tool 1 nbd-info --has base:allocation --cannot write "$srv"
	assert_one_line_error nbd-info \
		"you cannot use --has and --cannot together"
	run_tool 1 nbd-info --uri --size "$srv"
	assert_one_line_error nbd-info "you cannot use --uri and --size together"
}

@test "info: --uri prints the URI nbdinfo shows, and only that" {
	start_nbdkit srv memory 1M
	run_tool 0 nbd-info --uri "$srv"
	assert_output "$srv"
	assert_equal "$stderr" ''
	if command -v nbdinfo >/dev/null; then
		run -0 --separate-stderr nbdinfo --no-content "$srv"
		assert_line $'\turi: '"$srv"
	fi
	run_tool 0 nbd-info --uri --json "$srv"
	assert_equal "$(jq -r . <<<"$output")" "$srv"
	assert_output "\"$srv\""
}

@test "info: --uri names the export, escaped as a URI" {
	start_nbdkit srv --filter=exportname memory 1M exportname='a b' \
		exportname-strict=true
	run_tool 0 nbd-info --uri "nbd+unix:///a%20b?socket=$srv_sock"
	assert_output "nbd+unix:///a%20b?socket=$srv_sock"
	if command -v nbdinfo >/dev/null; then
		run -0 --separate-stderr nbdinfo --no-content \
			"nbd+unix:///a%20b?socket=$srv_sock"
		assert_line $'\turi: '"nbd+unix:///a%20b?socket=$srv_sock"
	fi
}

@test "info: --uri of a [ CMD ] server is exit 1 without starting it" {
	run_tool 1 nbd-info --uri -- [ sh -c 'touch started' ]
	assert_output ''
	assert_one_line_error nbd-info \
		"--uri: a [ CMD ] server ends with nbd-info, so it has no URI to print"
	[ ! -e started ] || fail "the server was started"
}

@test "info: every new question on a dead socket is exit 1" {
	dead_socket
	local q
	for q in "--has base:allocation" "--hasnt base:allocation" \
		"--has qemu:dirty-bitmap:b0" "--isnt read-only" \
		"--cannot connect" "--cannot write" "--uri" "--uri --json"; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-info $q "$dead"
		assert_output ''
		assert_one_line_error nbd-info "Connection refused"
	done
}

@test "info: block size limits carry human sizes in text, numbers in JSON" {
	start_nbdkit srv --filter=blocksize-policy memory 1M \
		blocksize-minimum=512 blocksize-preferred=64k \
		blocksize-maximum=32M
	run_tool 0 nbd-info --no-content "$srv"
	assert_line $'\tblock_size_minimum: 512'
	assert_line $'\tblock_size_preferred: 65536 (64K)'
	assert_line $'\tblock_size_maximum: 33554432 (32M)'
	assert_line $'\texport-size: 1048576 (1M)'
	run_tool 0 nbd-info --json --no-content "$srv"
	run jq -c '.exports[0] | [.block_size_minimum, .block_size_preferred,
		.block_size_maximum]' <<<"$output"
	assert_output '[512,65536,33554432]'
}

@test "info: a minimum of 1 and an odd maximum print as plain numbers" {
	start_nbdkit srv --filter=blocksize-policy memory 1M \
		blocksize-minimum=1 blocksize-preferred=4096 \
		blocksize-maximum=1000000
	run_tool 0 nbd-info --no-content "$srv"
	assert_line $'\tblock_size_minimum: 1'
	assert_line $'\tblock_size_preferred: 4096 (4K)'
	assert_line $'\tblock_size_maximum: 1000000'
}
