#!/usr/bin/env bats
# nbd-stat-map --json and --totals --json: one valid JSON document with
# nbdinfo's fields and values, whatever the export.
# shellcheck disable=SC2016,SC2154

load helpers

DATA='1 @1000 2 @65537 3 @1048576 0 @4000000 1'

# json_same_as_nbdinfo URI ARGS...: our JSON parses to the same value as
# nbdinfo --map --json ARGS on URI (skipped without nbdinfo).
json_same_as_nbdinfo() {
	local uri=$1 want
	shift
	command -v nbdinfo >/dev/null || return 0
	want=$(nbdinfo --map --json "$@" "$uri" | jq -S .) ||
		fail "nbdinfo failed"
	run_tool nbd-stat-map --json "$@" "$uri"
	assert_equal "$(jq -S . <<<"$output")" "$want"
}

@test "stat-map: --json lists offset, length, type, description" {
	start_nbdkit d data "$DATA" size=5000001
	run_tool nbd-stat-map --json --length=64k "$d"
	assert_output - <<-'EOF'
	[
	  {
	    "offset": 0,
	    "length": 32768,
	    "type": 0,
	    "description": "data"
	  },
	  {
	    "offset": 32768,
	    "length": 32768,
	    "type": 3,
	    "description": "hole,zero"
	  }
	]
	EOF
	json_same_as_nbdinfo "$d"
	json_same_as_nbdinfo "$d" --totals
}

@test "stat-map: --totals --json gives size, %g percent, type, description" {
	start_nbdkit d data "$DATA" size=5000001
	run_tool nbd-stat-map --totals --json "$d"
	assert_equal "$(jq -c '.[]' <<<"$output")" \
'{"size":98304,"percent":1.96608,"type":0,"description":"data"}
{"size":32768,"percent":0.65536,"type":2,"description":"zero"}
{"size":4868929,"percent":97.3786,"type":3,"description":"hole,zero"}'
}

@test "stat-map: JSON matches nbdinfo on sparse-random and memory exports" {
	start_nbdkit s sparse-random 512M seed=7 runlength=16384 percent=40
	start_nbdkit m memory 1M
	json_same_as_nbdinfo "$s"
	json_same_as_nbdinfo "$s" --totals
	json_same_as_nbdinfo "$m"
	json_same_as_nbdinfo "$m" --totals
}

@test "stat-map: an empty range is an empty JSON array" {
	start_nbdkit m memory 1M
	run_tool nbd-stat-map --json --offset=1M "$m"
	assert_output "[]"
	run_tool nbd-stat-map --json --totals --length=0 "$m"
	assert_output "[]"
	start_nbdkit z memory 0
	json_same_as_nbdinfo "$z"
	json_same_as_nbdinfo "$z" --totals
}

@test "stat-map: --json on a dirty bitmap says clean and dirty" {
	require qemu-nbd --version
	qemu-img create -q -f qcow2 d.qcow2 1M
	qemu-img bitmap --add d.qcow2 b0
	start_qemu_nbd q -r -f qcow2 -B b0 d.qcow2
	run_tool nbd-stat-map --json --map=qemu:dirty-bitmap:b0 "$q"
	assert_equal "$(jq -c '.[]' <<<"$output")" \
		'{"offset":0,"length":1048576,"type":0,"description":"clean"}'
	json_same_as_nbdinfo "$q" --map=qemu:dirty-bitmap:b0
}
