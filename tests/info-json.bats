#!/usr/bin/env bats
# nbd-info --json: one valid document whatever the server sends, with
# every key and value nbdinfo --json gives on the same server (added
# keys allowed).
# shellcheck disable=SC2154

load helpers

# Our --json holds all of nbdinfo's keys and values (and is valid).
json_like_nbdinfo() {
	local theirs=
	if command -v nbdinfo >/dev/null; then
		run -0 --separate-stderr nbdinfo --json "$@"
		theirs=$output
	fi
	run_tool 0 nbd-info --json "$@"
	if [ -n "$theirs" ]; then
		assert_json_subset "$theirs" "$output"
	else
		json_assert "$output" 'pass'
	fi
}

# json_assert JSON CODE [ARGS...]: JSON is valid (strict, as json.tool)
# and the Python CODE's asserts hold, with d the document, e its first
# export and A the ARGS.  One interpreter per check keeps tests fast.
json_assert() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
e = d["exports"][0] if isinstance(d, dict) and d.get("exports") else None
A = sys.argv[3:]
exec(sys.argv[2])' "$@" || fail "JSON check failed: $2"$'\n'"$1"
}

@test "info: --json on nbdkit exports matches nbdinfo" {
	start_nbdkit mem memory 1M
	start_nbdkit null0 null 0
	start_nbdkit ro -r memory 1M
	start_nbdkit nosr --no-sr memory 1M
	start_nbdkit old --oldstyle memory 1M
	start_nbdkit bs --filter=blocksize-policy memory 1M \
		blocksize-minimum=512 blocksize-preferred=4096 blocksize-maximum=1M
	json_like_nbdinfo "$mem"
	json_assert "$output" '
assert e["uri"] == A[0], e
assert e["export-size"] == 1048576 and e["export-size-str"] == "1M"
assert d["structured"] is True and d["TLS"] is False' "$mem"
	json_like_nbdinfo "$null0"
	json_assert "$output" 'assert e["content"] == "empty"'
	json_like_nbdinfo "$ro"
	json_assert "$output" 'assert e["is_read_only"] is True'
	json_like_nbdinfo "$nosr"
	json_assert "$output" 'assert "contexts" not in e and not d["structured"]'
	json_like_nbdinfo "$old"
	json_assert "$output" 'assert d["protocol"] == "oldstyle"'
	json_like_nbdinfo "$bs"
	json_assert "$output" '
assert (e["block_size_minimum"], e["block_size_preferred"],
    e["block_size_maximum"]) == (512, 4096, 1048576)'
	json_like_nbdinfo --no-content -- [ nbdkit memory 64M ]
	json_assert "$output" '
assert sorted(d) == ["TLS", "exports", "protocol", "structured"], d
assert sorted(e) == ["can_cache", "can_df", "can_fast_zero", "can_flush",
    "can_fua", "can_multi_conn", "can_trim", "can_zero", "contexts",
    "export-name", "export-size", "export-size-str", "is_read_only",
    "is_rotational"], e'
}

@test "info: --json on qemu-nbd raw and qcow2 matches nbdinfo" {
	qemu-img create -q -f raw disk.raw 10M
	qemu-img create -q -f qcow2 disk.qcow2 20M
	start_qemu_nbd raw -f raw -D 'raw "disk"' disk.raw
	start_qemu_nbd qcow -f qcow2 -A -r disk.qcow2
	json_like_nbdinfo "$raw"
	json_assert "$output" 'assert e["description"] == "raw \"disk\""'
	json_like_nbdinfo "$qcow"
	json_assert "$output" '
assert e["contexts"] == ["base:allocation", "qemu:allocation-depth"]
assert e["is_read_only"] is True'
}

@test "info: --json on nbd-server matches nbdinfo" {
	require nbd-server -V
	truncate -s 2M disk.img
	# Started by hand: nbd-server wants -p for its pid file.
	printf '[generic]\nunixsock = %s\nallowlist = true\n[disk]\nexportname = %s\n' \
		"$PWD/ns.sock" "$PWD/disk.img" >ns.conf
	nbd-server -C "$PWD/ns.conf" -p "$PWD/ns.pid" >/dev/null 2>&1
	_wait_file ns.pid
	_record_pid "$(cat ns.pid)"
	for _ in $(seq 100); do [ -S ns.sock ] && break; sleep 0.1; done
	json_like_nbdinfo --no-content "nbd+unix:///disk?socket=$PWD/ns.sock"
	json_assert "$output" 'assert e["export-name"] == "disk"'
}

@test "info: --json stays valid for any export name and description" {
	local name n=0 uri
	while IFS= read -r -d '' name; do
		n=$((n + 1))
		start_nbdkit "srv$n" --filter=exportname memory 1M \
			default-export="$name" exportdesc=fixed:"d:$name"
		uri=srv$n
		run_tool 0 nbd-info --json --no-content "${!uri}"
		json_assert "$output" '
want = A[0].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
assert e["export-name"] == want, (e["export-name"], want)
if want:
    assert e["description"] == "d:" + want, e' "$name"
	done < <(printf '%s\0' 'with space' 'q"uote' 'back\slash' $'new\nline' \
		$'tab\tand\x01ctl\x7f' 'ünïcødé ☃ 😀' $'bad\xffutf8\xc3' '')
}

@test "info: --json output is all or nothing" {
	run_tool 1 nbd-info --json 'nbd+unix:///?socket=/nonexistent'
	assert_output ''
	assert_one_line_error nbd-info 'No such file or directory'
	run_tool 1 nbd-info --json -- [ nbdkit --filter=exportname memory 1M \
		exportname-strict=true exportname=a ]
	assert_output ''
	[[ ${stderr_lines[-1]} == "nbd-info: nbdkit: "*"server replied with error"* ]] ||
		fail "$stderr"
}
