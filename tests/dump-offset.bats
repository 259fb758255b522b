#!/usr/bin/env bats
# nbd-dump -o N, nbddump 1.22's short form of --offset: the same output
# as -s N, --offset=N and --skip=N, and as hexdump -C -s N.
# shellcheck disable=SC2154

load helpers

@test "dump: -o N is --offset N, byte for byte as hexdump -C -s N" {
	start_nbdkit srv -r pattern 64k
	nbdcopy "$srv" pattern.img 2>/dev/null || skip "needs: nbdcopy"
	hexdump -C -s 1000 -n 100 pattern.img >want
	local args
	for args in "-o 1000" "-o1000" "-s 1000" "--offset=1000" \
		"--skip=1000"; do
		# shellcheck disable=SC2086
		tool nbd-dump $args -n 100 "$srv" >got
		diff -u want got || fail "nbd-dump $args differs from hexdump -C"
	done
	run_tool 0 nbd-dump -o 1k -n 16 "$srv"
	assert_output - <<-'EOF2'
	00000400  00 00 00 00 00 00 04 00  00 00 00 00 00 00 04 08  |................|
	00000410
	EOF2
}

@test "dump: a bad -o value is refused as --offset's, as -s's is" {
	start_nbdkit srv -r pattern 64k
	run_tool 1 nbd-dump -o x "$srv"
	assert_output ''
	assert_one_line_error nbd-dump "--offset: could not parse size: 'x'"
	run_tool 1 nbd-dump -s x "$srv"
	assert_one_line_error nbd-dump "--offset: could not parse size: 'x'"
	run_tool 1 nbd-dump -o
	assert_one_line_error nbd-dump "-o: missing argument"
}

@test "dump: -o past the end prints the final offset line, as hexdump" {
	start_nbdkit srv -r pattern 4k
	run_tool 0 nbd-dump -o 8k "$srv"
	assert_output '00001000'
}
