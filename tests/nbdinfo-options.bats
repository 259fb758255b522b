#!/usr/bin/env bats
# The options of nbdinfo 1.24 and nbddump 1.24 that nbd-info, nbd-dump
# and nbd-stat-map accept with the same meaning, and the ones nbd-info
# refuses on purpose with a pointer to the tool that does the job
# (issue 16, item 4).  See DIFFERENCES FROM NBDINFO / NBDDUMP in the
# man pages.
# shellcheck disable=SC2154

load helpers

@test "info: --totals and --total name nbd-stat-map, as --map does" {
	local opt
	for opt in --totals --total; do
		run_tool 1 nbd-info "$opt" nbd://localhost:1
		assert_output ''
		assert_one_line_error nbd-info "$opt: allocation maps are nbd-stat-map's job: nbd-stat-map --totals NBD"
	done
}

@test "stat-map: --total is nbdinfo's other spelling of --totals" {
	local want json
	start_nbdkit srv data '1 @1000 2 @1048576 3' size=2M
	run_tool 0 nbd-stat-map --totals "$srv"
	want=$output
	run_tool 0 nbd-stat-map --total "$srv"
	assert_output "$want"
	assert_line --regexp '^ +[0-9]+ +[0-9.]+% +0 data$'
	run_tool 0 nbd-stat-map --totals --json "$srv"
	json=$output
	run_tool 0 nbd-stat-map --total --json "$srv"
	assert_output "$json"
	if command -v nbdinfo >/dev/null; then
		run nbdinfo --map --total "$srv"
		assert_output "$want"
	fi
}

@test "stat-map: nbdinfo --map's words, --map included" {
	local want
	start_nbdkit srv data '1 @1000 2 @1048576 3' size=2M
	run_tool 0 nbd-stat-map "$srv"
	want=$output
	run_tool 0 nbd-stat-map --map "$srv"
	assert_output "$want"
	run_tool 0 nbd-stat-map --map=base:allocation --colours "$srv"
	[[ $output == *$'\e['* ]] || fail "--colours did not colour"
	run_tool 0 nbd-stat-map --map --no-colours "$srv"
	assert_output "$want"
}

@test "dump: every spelling nbddump has, with its meaning" {
	local opts want
	start_nbdkit srv data '@4096 1 2 3' size=8K
	run_tool 0 nbd-dump -s 4090 -n 12 "$srv"
	want=$output
	assert_line --index 0 '00000ffa  00 00 00 00 00 00 01 02  03 00 00 00              |............|'
	for opts in "-o 4090 -n 12" "--offset=4090 --length=12" \
		"--offset=4090 --limit=12" "-o 4090 --limit 12" \
		"--offset 4090 --no-colours -n 12" "--skip=4090 -n 12 --no-colors"; do
		# shellcheck disable=SC2086  # the options are words on purpose
		run_tool 0 nbd-dump $opts "$srv"
		assert_output "$want"
	done
	run_tool 0 nbd-dump --colours -o 4090 -n 12 "$srv"
	[[ $output == *$'\e['* ]] || fail "--colours did not colour"
}
