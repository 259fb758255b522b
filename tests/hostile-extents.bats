#!/usr/bin/env bats
# Malformed block-status replies from tests/hostile-server.py (issue 12,
# SPEC 1.2): only the last extent of a reply may run past the request.
# A reply with an earlier extent past it (past the export too), an
# extent of length 0, or no extents is trusted in no part: copy and dump
# read the range as data with one warning naming the offset and exit 0
# with the exact bytes; nbd-stat-map exits 1 naming the offset.

load helpers

HS=$BATS_TEST_DIRNAME/hostile-server.py
SIZE=1048576

# overreach is the issue's: 64 KiB data, 2 GiB hole, 2 GiB data for a
# 1 MiB export, whose odd 64 KiB blocks hold data the hole would skip.
MALFORMED=(overreach early-past huge zero-first zero-middle zero-last none)

setup() {
	nbdu_setup
	python3 "$HS" --size "$SIZE" --write-content expect.img
}

# why MODE: the reason the tools give for MODE's reply.
why() {
	case $1 in
	zero-*) echo "an extent of length 0" ;;
	none) echo "server did not return any extents" ;;
	*) echo "an extent before the last ends past the request" ;;
	esac
}

# serve MODE: a hostile server answering block status as MODE says;
# sets srv to its URI.
serve() {
	start_hostile "srv_${1//-/_}" --size "$SIZE" --extents "$1"
	local var=srv_${1//-/_}
	srv=${!var}
}

@test "copy: a malformed block-status reply is read as data, with one warning" {
	for m in "${MALFORMED[@]}"; do
		serve "$m"
		for engine in "" --synchronous; do
			rm -f out.img
			run_tool nbd-copy $engine "$srv" out.img
			cmp -s out.img expect.img || fail "$m $engine: wrong bytes"
			[ "$stderr" = "nbd-copy: source: $srv: block status at offset 0: malformed reply ($(why "$m")); reading the range as data" ] ||
				fail "$m $engine: stderr: $stderr"
		done
	done
}

@test "dump: a malformed block-status reply is read as data, with one warning" {
	hexdump -C expect.img >expect.hex
	for m in "${MALFORMED[@]}"; do
		serve "$m"
		run_tool nbd-dump "$srv"
		[ "$output" = "$(cat expect.hex)" ] || fail "$m: wrong dump"
		[ "$stderr" = "nbd-dump: source: $srv: block status at offset 0: malformed reply ($(why "$m")); reading the range as data" ] ||
			fail "$m: stderr: $stderr"
	done
}

@test "stat-map: a malformed block-status reply exits 1 naming the offset" {
	for m in "${MALFORMED[@]}"; do
		serve "$m"
		run_tool 1 nbd-stat-map "$srv"
		[ -z "$output" ] || fail "$m: printed a map: $output"
		[ "$stderr" = "nbd-stat-map: source: $srv: block status at offset 0: malformed reply ($(why "$m"))" ] ||
			fail "$m: stderr: $stderr"
		run_tool 1 nbd-stat-map --totals --offset 131072 "$srv"
		[ "$stderr" = "nbd-stat-map: source: $srv: block status at offset 131072: malformed reply ($(why "$m"))" ] ||
			fail "$m --offset: stderr: $stderr"
	done
}

@test "copy, dump: a last extent past the request is clipped, no warning" {
	hexdump -C expect.img >expect.hex
	for m in past-request past-end; do
		serve "$m"
		rm -f out.img
		run_tool nbd-copy "$srv" out.img
		cmp -s out.img expect.img || fail "$m: wrong bytes"
		[ -z "$stderr" ] || fail "$m: copy warned: $stderr"
		run_tool nbd-dump "$srv"
		[ "$output" = "$(cat expect.hex)" ] || fail "$m: wrong dump"
		[ -z "$stderr" ] || fail "$m: dump warned: $stderr"
	done
}

@test "stat-map: a failure among requests a server never answers ends the run" {
	start_hostile srv --size $((64 << 20)) --extents error-stall
	# The bound only tells a hang from an exit; the run takes seconds.
	run --separate-stderr timeout -k 5 60 "${nbdu_wrap[@]}" \
		"$NBDU_BUILD/nbd-stat-map" "$srv"
	[ "$status" -eq 1 ] || fail "exit $status; stderr: $stderr"
	[ "$stderr" = "nbd-stat-map: source: $srv: block status at offset 1048576: Input/output error" ] ||
		fail "stderr: $stderr"
}
