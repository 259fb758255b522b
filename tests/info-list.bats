#!/usr/bin/env bats
# nbd-info -L/--list: every export the server lists, as text and JSON,
# going on past an export that fails and then exiting 1.
# shellcheck disable=SC2016,SC2154

load helpers

# Four exports with awkward names, each described as "desc".
start_multi() {
	start_nbdkit srv --filter=exportname memory 1M \
		exportname-list=explicit exportname=a exportname='with space' \
		exportname='q"uote' exportname=$'new\nline' exportname='ünï' \
		exportdesc=fixed:desc
}

# An eval server listing a, bad and c, where opening "bad" fails.
start_failing() {
	start_nbdkit srv eval list_exports='printf "%s\n" a bad c' \
		open='if [ "$3" = bad ]; then echo "EINVAL no" >&2; exit 1; fi' \
		get_size='echo 1024' \
		pread='dd if=/dev/zero count=$3 iflag=count_bytes status=none'
}

json_assert() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
A = sys.argv[3:]
exec(sys.argv[2])' "$@" || fail "JSON check failed: $2"$'\n'"$1"
}

@test "info: --list shows each export, as nbdinfo does" {
	start_multi
	run -0 --separate-stderr nbdinfo --list "$srv"
	local theirs=$output
	run_tool 0 nbd-info --list "$srv"
	# nbdinfo writes the newline as \u000a, we as \n: both JSON escapes.
	assert_equal "$output" "${theirs//\\u000a/\\n}"
	assert_line --index 0 \
		'protocol: newstyle-fixed without TLS, using structured packets'
	assert_line --index 1 'export="a":'
	assert_line --index 2 $'\tdescription: desc'
	assert_line 'export="with space":'
	assert_line 'export="q\"uote":'
	assert_line 'export="new\nline":'
	assert_line 'export="ünï":'
	assert_line $'\turi: nbd+unix:///with%20space?socket='"$srv_sock"
	refute_line --partial 'content:'
	assert_equal "$(grep -c '^export=' <<<"$output")" 5
}

@test "info: --list --json is one valid document with every export" {
	start_multi
	run -0 --separate-stderr nbdinfo -L --json "$srv"
	local theirs=$output
	run_tool 0 nbd-info -L --json "$srv"
	assert_json_subset "$theirs" "$output"
	json_assert "$output" '
names = [e["export-name"] for e in d["exports"]]
assert names == ["a", "with space", "q\"uote", "new\nline", "ünï"], names
assert all(e["description"] == "desc" for e in d["exports"])
assert all("content" not in e for e in d["exports"])'
}

@test "info: --list --content probes each export" {
	start_multi
	run_tool 0 nbd-info --list --content "$srv"
	assert_equal "$(grep -c $'^\tcontent: data$' <<<"$output")" 5
	run_tool 0 nbd-info --list --content --json -- [ nbdkit \
		--filter=exportname memory 1M exportname-list=explicit exportname=x \
		exportname=y ]
	json_assert "$output" '
assert [e["content"] for e in d["exports"]] == ["data", "data"]'
}

@test "info: --list goes on past a failing export, then exits 1" {
	start_failing
	run -1 --separate-stderr nbdinfo --list "$srv"
	local theirs=$output
	run_tool 1 nbd-info --list "$srv"
	assert_equal "$output" "$theirs"
	assert_line 'export="a":'
	assert_line 'export="c":'
	refute_line 'export="bad":'
	assert_equal "${stderr_lines[-1]}" \
		'nbd-info: export "bad": nbd_opt_go: server replied with error to opt_go request: No such file or directory'
	run_tool 1 nbd-info --list --json "$srv"
	json_assert "$output" '
assert [e["export-name"] for e in d["exports"]] == ["a", "c"]'
	run_tool 1 nbd-info --list --content "$srv"
	assert_equal "$(grep -c $'^\tcontent: data$' <<<"$output")" 2
}

@test "info: --list of a server with no exports" {
	run_tool 0 nbd-info --list -- [ nbdkit --filter=exportname memory 1M \
		exportname-list=empty ]
	assert_output 'protocol: newstyle-fixed without TLS, using structured packets'
	run_tool 0 nbd-info --list --json -- [ nbdkit --filter=exportname \
		memory 1M exportname-list=empty ]
	json_assert "$output" 'assert d["exports"] == [] and d["protocol"]'
}

@test "info: --list on qemu-nbd, which serves one client at a time" {
	qemu-img create -q -f qcow2 disk.qcow2 10M
	start_qemu_nbd srv -f qcow2 -x vm -D 'the vm' disk.qcow2
	run_tool 0 nbd-info --list --content "$srv"
	assert_line --index 1 'export="vm":'
	assert_line --index 2 $'\tdescription: the vm'
	assert_line $'\tcontent: data'
	assert_line $'\turi: nbd+unix:///vm?socket='"$srv_sock"
}

@test "info: --list a server that cannot list is exit 1, stdout empty" {
	run_tool 1 nbd-info --list -- [ nbdkit --filter=exportname memory 1M \
		exportname-list=error ]
	assert_output ''
	# nbdkit says why on the same stderr first.
	assert_equal "${stderr_lines[-1]}" \
		"nbd-info: nbdkit: nbd_opt_list: server replied with error to list request: Operation not supported"
	run_tool 1 nbd-info --list -- [ nbdkit --oldstyle memory 1M ]
	assert_output ''
	assert_one_line_error nbd-info 'opt_list'
}
