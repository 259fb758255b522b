#!/usr/bin/env bats
# nbd-copy at the edges of its command line (issue 16, item 5): options
# after the destination even after "--", -S's default said the same way
# by --help and the man page, and --verify -v saying what it compared.

load helpers

@test "copy: options after the destination, even after '--' and a [ CMD ]" {
	printf hello >hello.img
	run_tool nbd-copy -- [ nbdkit -r file hello.img ] null: --blkhash
	assert_output 337355feb53a5309d5aba92796223c2c84ffab930e706c01fef573a2722545e6
	run_tool nbd-copy -- [ nbdkit file hello.img ] null: --blkhash=md5/4 -R 4
	assert_output 8262896de34125dec173722c920e8bd0
	run_tool 1 nbd-copy -- [ nbdkit memory 1M ] null: --no-such-option
	assert_one_line_error nbd-copy "--no-such-option: unknown option"
	run_tool 1 nbd-copy -- [ nbdkit memory 1M ] null: extra
	assert_one_line_error nbd-copy "unexpected argument 'extra' after the destination"
}

@test "copy: --help and the man page give the same default for -S" {
	run_tool nbd-copy --help
	help=$(tr -s ' \n' ' ' <<<"$output")
	[[ $help == *"(default 4096 or the destination's preferred block size, whichever is larger)"* ]] ||
		fail "$output"
	page=$(tr -s ' \n' ' ' <"$BATS_TEST_DIRNAME/../man/nbd-copy.1")
	[[ $page == *"The default is 4096 or the destination's preferred block size, whichever is larger"* ]]
}

@test "copy: --verify -v says what was compared" {
	truncate -s 1M src.img
	printf 'data' | dd of=src.img bs=1 seek=4096 conv=notrunc status=none
	run_tool nbd-copy --verify -v src.img dst.img
	assert_equal "$(grep '^nbd-copy: verify:' <<<"$stderr")" \
		"nbd-copy: verify: 1048576 bytes equal, 4096 read back, the rest zero on both sides"
	run_tool nbd-copy --verify src.img dst.img
	[ -z "$stderr" ]
}
