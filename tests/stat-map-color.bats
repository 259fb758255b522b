#!/usr/bin/env bats
# nbd-stat-map colours its text map on a terminal as nbdinfo --map does
# (issue 12): the same escape sequences, and the text without them the
# same as the plain map.  --no-color, NO_COLOR, pipes and JSON stay
# plain.  The terminal is a pty the test opens.
# shellcheck disable=SC2016,SC2154

load helpers

# in_pty CMD ARGS...: runs CMD with stdout on a new pty (stderr stays a
# pipe) and prints what it wrote, "\r\n" turned back into "\n"; exits
# with CMD's status.
in_pty() {
	python3 - "$@" <<'PY'
import os, subprocess, sys
master, slave = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdout=slave, stdin=subprocess.DEVNULL)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:		# EIO: the last writer closed the pty
        break
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(p.wait())
PY
}

strip_ansi() {
	sed -E $'s/\033\\[[0-9;]*m//g'
}

# Data at 0 and 64k, holes and zeroes between and after: types nbdinfo
# colours and types it leaves alone.
start_data() {
	start_nbdkit srv data '1 @65536 2 @131072 0' size=1M
}

@test "stat-map: on a terminal the map is coloured, the text unchanged" {
	start_data
	run_tool 0 nbd-stat-map "$srv"
	local plain=$output
	run -0 in_pty "$NBDU_BUILD/nbd-stat-map" "$srv"
	local colored=$output
	[[ $colored == *$'\033[1;30m'* ]] || fail "no colour on a pty: $colored"
	assert_equal "$(strip_ansi <<<"$colored")" "$plain"
	# Data lines are bold black and reset before the newline; holes plain.
	assert_line --index 0 \
		$'\033[1;30m         0       32768    0  data\033[0m'
	assert_line --index 1 '     32768       32768    3  hole,zero'
}

@test "stat-map: the coloured map is byte for byte nbdinfo --map's" {
	require nbdinfo --version
	start_data
	run -0 in_pty "$NBDU_BUILD/nbd-stat-map" "$srv"
	local ours=$output
	run -0 in_pty nbdinfo --map "$srv"
	assert_equal "$ours" "$output"
}

@test "stat-map: dirty bitmap lines are green and red as in nbdinfo" {
	require qemu-img --version
	qemu-img create -q -f qcow2 disk.qcow2 1M
	qemu-img bitmap --add disk.qcow2 b0
	require qemu-io --version
	qemu-io -f qcow2 -c 'write 64k 64k' disk.qcow2 >/dev/null
	start_qemu_nbd srv -f qcow2 -r -B b0 disk.qcow2
	run -0 in_pty "$NBDU_BUILD/nbd-stat-map" --map=qemu:dirty-bitmap:b0 "$srv"
	assert_line --index 0 \
		$'\033[22;32m         0       65536    0  clean\033[0m'
	assert_line --index 1 \
		$'\033[22;31m     65536       65536    1  dirty\033[0m'
	local colored=$output
	run_tool 0 nbd-stat-map --map=qemu:dirty-bitmap:b0 "$srv"
	assert_equal "$(strip_ansi <<<"$colored")" "$output"
	if command -v nbdinfo >/dev/null; then
		run -0 in_pty nbdinfo --map=qemu:dirty-bitmap:b0 "$srv"
		assert_equal "$colored" "$output"
	fi
}

@test "stat-map: --no-color and NO_COLOR keep a terminal plain, --color wins" {
	start_data
	run_tool 0 nbd-stat-map "$srv"
	local plain=$output
	run -0 in_pty "$NBDU_BUILD/nbd-stat-map" --no-color "$srv"
	assert_equal "$output" "$plain"
	NO_COLOR=1 run -0 in_pty "$NBDU_BUILD/nbd-stat-map" "$srv"
	assert_equal "$output" "$plain"
	NO_COLOR=1 run -0 in_pty "$NBDU_BUILD/nbd-stat-map" --color "$srv"
	[[ $output == *$'\033['* ]] || fail "--color did not win over NO_COLOR"
}

@test "stat-map: a pipe, --json and --totals stay plain" {
	start_data
	run_tool 0 nbd-stat-map "$srv"
	[[ $output != *$'\033'* ]] || fail "escapes in a pipe: $output"
	run -0 in_pty "$NBDU_BUILD/nbd-stat-map" --json "$srv"
	[[ $output != *$'\033'* ]] || fail "escapes in JSON: $output"
	jq -e 'length == 6' <<<"$output" >/dev/null
	run -0 in_pty "$NBDU_BUILD/nbd-stat-map" --totals "$srv"
	[[ $output != *$'\033'* ]] || fail "escapes in totals: $output"
	run_tool 0 nbd-stat-map --color --json "$srv"
	[[ $output != *$'\033'* ]] || fail "escapes in JSON with --color"
}

@test "stat-map: --color colours a pipe too" {
	start_data
	run_tool 0 nbd-stat-map --color "$srv"
	assert_line --index 0 \
		$'\033[1;30m         0       32768    0  data\033[0m'
}
