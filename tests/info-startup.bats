#!/usr/bin/env bats
# What nbd-info pays before it answers (issue 18): --size and --uri ask
# the server for nothing but NBD_OPT_GO, and libmagic is loaded only
# when a content line is printed.  Counted, never timed: the options
# nbdkit -v logs, the libraries the dynamic loader logs.
# shellcheck disable=SC2154

load helpers

# The NBD_OPT_* requests nbdkit -v logged in $stderr, one per line.
options_sent() {
	grep -o 'newstyle negotiation: NBD_OPT_[A-Z_]*: client' <<<"$stderr" |
		sed 's/.*: \(NBD_OPT_[A-Z_]*\): client/\1/' | uniq
}

@test "info: --size and --uri negotiate with NBD_OPT_GO alone" {
	run_tool 0 nbd-info --size -- [ nbdkit -v memory 1M ]
	assert_output 1048576
	assert_equal "$(options_sent)" NBD_OPT_GO
	run_tool 0 nbd-info --size --json -- [ nbdkit -v memory 1M ]
	assert_output 1048576
	assert_equal "$(options_sent)" NBD_OPT_GO
	start_nbdkit srv memory 1M
	run_tool 0 nbd-info --uri "$srv"
	assert_output "$srv"
}

@test "info: the default output still asks for structured replies and contexts" {
	run_tool 0 nbd-info --no-content -- [ nbdkit -v memory 1M ]
	assert_line $'\tcan_multi_conn: true'
	run options_sent
	assert_line NBD_OPT_STRUCTURED_REPLY
	assert_line NBD_OPT_LIST_META_CONTEXT
}

@test "info: --size on a server without structured replies" {
	start_nbdkit srv --no-sr memory 3M
	run_tool 0 nbd-info --size "$srv"
	assert_output 3145728
}

@test "info: libmagic is loaded only for the content line" {
	[ -z "${NBDU_VALGRIND:-}" ] || skip "valgrind's loader logs differently"
	start_nbdkit srv memory 1M
	LD_DEBUG=libs run_tool 0 nbd-info --size "$srv"
	assert_output 1048576
	[[ $stderr != *libmagic* ]] || fail "--size loaded libmagic"
	LD_DEBUG=libs run_tool 0 nbd-info --no-content "$srv"
	[[ $stderr != *libmagic* ]] || fail "--no-content loaded libmagic"
	LD_DEBUG=libs run_tool 0 nbd-info "$srv"
	assert_line $'\tcontent: data'
	[[ $stderr == *libmagic.so.1* ]] || fail "the content probe did not load libmagic"
}

@test "info: no tool is linked with libmagic" {
	local t
	for t in "$NBDU_BUILD"/nbd-*; do
		run ldd "$t"
		refute_output --partial libmagic
	done
}
