#!/usr/bin/env bats
# nbd-info at the edges a new user reaches first (issue 16 item 5):
# nbdinfo's --map lives in nbd-stat-map here, and options of a [ CMD ]
# server need "--" before "[".  Each is one line naming what to type,
# exit 1, and no server started.
# shellcheck disable=SC2016,SC2154

load helpers

@test "info: --map names nbd-stat-map, in each spelling" {
	start_nbdkit srv memory 1M
	run_tool 1 nbd-info --map "$srv"
	assert_output ''
	assert_one_line_error nbd-info \
		"--map: allocation maps are nbd-stat-map's job: nbd-stat-map --map NBD"
	run_tool 1 nbd-info --map=qemu:allocation-depth "$srv"
	assert_one_line_error nbd-info \
		"nbd-stat-map --map=qemu:allocation-depth NBD"
	run_tool 1 nbd-info --totals --map "$srv"
	assert_one_line_error nbd-info "nbd-stat-map's job"
	# After "--" a --map is an argument, not our option.
	run_tool 1 nbd-info -- --map
	[[ $stderr != *nbd-stat-map* ]] || fail "after --: $stderr"
}

@test "info: server options without -- suggest --, before starting it" {
	run_tool 1 nbd-info [ nbdkit -r memory 1M ]
	assert_output ''
	assert_one_line_error nbd-info \
		'-r is an option of the server command: put "--" before "[", as in nbd-info -- [ CMD ARGS ... ]'
	# An option nbd-info has would otherwise be taken silently.
	run_tool 1 nbd-info --size [ nbdkit -v memory 1M ]
	assert_one_line_error nbd-info '-v is an option of the server command'
	run_tool 1 nbd-info [ sh -c 'touch started' ]
	assert_one_line_error nbd-info '-c is an option of the server command'
	[ ! -e started ] || fail "the server was started"
}

@test "info: with -- the same server works, and options after ] are ours" {
	run_tool 0 nbd-info --size -- [ nbdkit -r memory 1M ]
	assert_output 1048576
	run_tool 0 nbd-info [ nbdkit memory 1M ] --size
	assert_output 1048576
	run_tool 2 nbd-info --is read-only [ nbdkit memory 1M ]
}
