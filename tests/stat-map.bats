#!/usr/bin/env bats
# nbd-stat-map text output and --totals: the same merged extents, types,
# descriptions and percentages as nbdinfo --map on the same export, and
# --offset/--length clipping the map to a range.
# shellcheck disable=SC2016,SC2154

load helpers

# The data plugin's layout: extents at odd offsets, a size that is not a
# multiple of 512, a zero-filled page ("zero") next to data.
DATA='1 @1000 2 @65537 3 @1048576 0 @4000000 1'

@test "stat-map: data plugin extents at odd offsets, as nbdinfo prints them" {
	start_nbdkit d data "$DATA" size=5000001
	run_tool nbd-stat-map "$d"
	assert_output - <<-'EOF'
	         0       32768    0  data
	     32768       32768    3  hole,zero
	     65536       32768    0  data
	     98304      950272    3  hole,zero
	   1048576       32768    2  zero
	   1081344     2916352    3  hole,zero
	   3997696       32768    0  data
	   4030464      969537    3  hole,zero
	EOF
	map_same_as_nbdinfo "$d"
	map_same_as_nbdinfo "$d" --totals
}

@test "stat-map: --totals gives bytes and percentages per type" {
	start_nbdkit d data "$DATA" size=5000001
	run_tool nbd-stat-map --totals "$d"
	assert_output - <<-'EOF'
	     98304   2.0%   0 data
	     32768   0.7%   2 zero
	   4868929  97.4%   3 hole,zero
	EOF
}

@test "stat-map: sparse-random maps match nbdinfo, text and totals" {
	local seed
	for seed in 1 2 3; do
		start_nbdkit "s$seed" sparse-random 256M seed=$seed \
			runlength=65536 percent=$((seed * 20))
	done
	for seed in s1 s2 s3; do
		map_same_as_nbdinfo "${!seed}"
		map_same_as_nbdinfo "${!seed}" --totals
	done
}

@test "stat-map: memory export, empty and written, matches nbdinfo" {
	start_nbdkit m memory 10M
	run_tool nbd-stat-map "$m"
	assert_output "         0    10485760    3  hole,zero"
	qemu-io -f raw -c 'write -P 7 1M 64k' -c 'write -z 4M 64k' "$m" \
		>/dev/null
	map_same_as_nbdinfo "$m"
	map_same_as_nbdinfo "$m" --totals
}

@test "stat-map: a server with block size limits matches nbdinfo" {
	start_nbdkit s sparse-random 10M seed=9 runlength=4096 \
		--filter=blocksize minblock=4096 maxdata=65536
	map_same_as_nbdinfo "$s"
	map_same_as_nbdinfo "$s" --totals
}

@test "stat-map: --offset and --length clip extents, offsets stay absolute" {
	start_nbdkit d data "$DATA" size=5000001
	run_tool nbd-stat-map --offset=1000 --length=1M "$d"
	assert_output - <<-'EOF'
	      1000       31768    0  data
	     32768       32768    3  hole,zero
	     65536       32768    0  data
	     98304      950272    3  hole,zero
	   1048576        1000    2  zero
	EOF
	run_tool nbd-stat-map --offset=1000 --length=1M --totals "$d"
	assert_output - <<-'EOF'
	     64536   6.2%   0 data
	      1000   0.1%   2 zero
	    983040  93.8%   3 hole,zero
	EOF
}

@test "stat-map: --offset and --length take size suffixes" {
	start_nbdkit m memory 4M
	run_tool nbd-stat-map --offset=2s --length=1k "$m"
	assert_output "      1024        1024    3  hole,zero"
	run_tool nbd-stat-map --offset=3M --length=10M "$m"
	assert_output "   3145728     1048576    3  hole,zero"
	run_tool nbd-stat-map --offset=4M "$m"
	assert_output ""
	run_tool nbd-stat-map --offset=4M --totals "$m"
	assert_output ""
}

@test "stat-map: bad --offset and --length values are one-line errors" {
	start_nbdkit m memory 4M
	while read -r opt value; do
		run_tool 1 nbd-stat-map "$opt=$value" "$m"
		assert_output ""
		assert_one_line_error nbd-stat-map "$opt"
	done <<-'EOF'
	--offset 1x
	--offset -1
	--length 9E
	--length 1M1
	--picture 0
	EOF
	run_tool 1 nbd-stat-map --offset=5M "$m"
	assert_one_line_error nbd-stat-map "past the end"
}

@test "stat-map: usage errors exit 1" {
	run_tool 1 nbd-stat-map
	assert_output ""
	[[ $stderr == "nbd-stat-map: "* ]]
	run_tool 1 nbd-stat-map --picture --json /dev/null
	[[ $stderr == *"--picture and --json"* ]]
	run_tool 1 nbd-stat-map null:
	[[ $stderr == "nbd-stat-map: "* ]]
}

@test "stat-map: a bare --map does not eat the endpoint" {
	start_nbdkit m memory 1M
	run_tool nbd-stat-map --map "$m"
	assert_output "         0     1048576    3  hole,zero"
	run_tool nbd-stat-map --map --totals "$m"
	assert_output "   1048576 100.0%   3 hole,zero"
}

@test "stat-map: a closed pipe ends the map quietly, /dev/full is an error" {
	start_nbdkit s sparse-random 1G seed=5 runlength=4096
	run bash -c '"$1" "$2" | head -1' _ "$NBDU_BUILD/nbd-stat-map" "$s"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	run bash -c '"$1" "$2" >/dev/full' _ "$NBDU_BUILD/nbd-stat-map" "$s"
	assert_failure 1
	assert_output --partial "write error"
}

@test "stat-map: --help and the man page list the same long options" {
	local opt
	run_tool nbd-stat-map --long-options
	for opt in $output; do
		grep -q -- "Fl -${opt#--}\b" "$BATS_TEST_DIRNAME/../man/nbd-stat-map.1" ||
			fail "$opt is not in the man page"
		grep -A3 '# BEGIN nbd-stat-map options' \
		    "$BATS_TEST_DIRNAME/../completions/nbd-utils.bash" |
			grep -q -- "$opt\b" || fail "$opt is not in the completion"
	done
}
