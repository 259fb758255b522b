#!/usr/bin/env bats
# nbd-copy --timeout (issue 14): a server that stops answering (nbdkit's
# delay filter with a delay far beyond the timeout) is a fault, never a
# hang: exit 1 naming the side and the offset, or with --retries a
# reconnect.  Only exit codes and messages are asserted, never a
# duration.  copy-retry.bats has the error replies and killed servers.
# A server the client leaves with a delayed reply due runs one thread
# (-t 1): nbdkit 1.32's worker threads may then fail an assertion
# (raw_send_socket: sock >= 0) and take the next connection with them.
# shellcheck disable=SC2030,SC2031,SC2154

load helpers

@test "copy: bad --timeout, --retries and --retry-delay values" {
	: >src.img
	while IFS='|' read -r args text; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args src.img null:
		assert_one_line_error nbd-copy "$text"
	done <<-END
	--timeout=-1|--timeout: '-1' is not a number of seconds
	--timeout=abc|--timeout: 'abc' is not a number of seconds
	--timeout=|--timeout: '' is not a number of seconds
	--timeout=1x|--timeout: '1x' is not a number of seconds
	--timeout=1e9|--timeout: '1e9' is not a number of seconds
	--retries=-1|--retries: cannot be negative
	--retries=x|--retries: could not parse
	--retry-delay=x|--retry-delay: 'x' is not a number of seconds
	--retry-delay=-0.5|--retry-delay: '-0.5' is not a number of seconds
	END
}

@test "copy: fractions of seconds are accepted" {
	head -c 1M /dev/urandom >src.img
	run_tool nbd-copy --timeout=2.5 --retries=2 --retry-delay=0.25 \
		src.img dst.img
	cmp src.img dst.img
	assert_equal "$stderr" ""
}

@test "copy: a source that stops answering is a timeout naming the offset" {
	for mode in "" --synchronous "-C 4"; do
		start_nbdkit src -t 1 --filter=delay pattern 4M delay-read=100
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $mode --timeout=2 "$src" dst.img
		assert_one_line_error nbd-copy \
			"source: $src: read at offset 0: Connection timed out"
	done
}

@test "copy: a destination that stops answering is a timeout" {
	head -c 1M /dev/urandom >src.img
	start_nbdkit dst -t 1 --filter=delay memory 1M delay-write=100
	run_tool 1 nbd-copy --timeout=1 src.img "$dst"
	assert_one_line_error nbd-copy \
		"destination: $dst: write at offset 0: Connection timed out"
}

@test "copy: a timeout with --retries reconnects, then gives up" {
	start_nbdkit src -t 1 --filter=delay pattern 4M delay-read=100
	run_tool 1 nbd-copy --timeout=1 --retries=2 --retry-delay=0.1 \
		"$src" null:
	assert_equal "${#stderr_lines[@]}" 3
	assert_equal "${stderr_lines[0]}" \
		"nbd-copy: source: read at offset 0: Connection timed out; retry 1 of 2 in 0.1 s"
	assert_equal "${stderr_lines[1]}" \
		"nbd-copy: source: read at offset 0: Connection timed out; retry 2 of 2 in 0.2 s"
	assert_equal "${stderr_lines[2]}" \
		"nbd-copy: source: $src: read at offset 0: Connection timed out"
}

@test "copy: a timeout with --retries: a server back to health finishes the copy" {
	head -c 4M /dev/urandom >src.img
	start_nbdkit src --filter=delay file src.img delay-read=100
	"$NBDU_BUILD/nbd-copy" --timeout=1 --retries=6 "$src" dst.img 2>err &
	copy=$!
	for _ in $(seq 200); do
		grep -q 'retry 1 of 6' err && break
		sleep 0.05
	done
	grep -q 'Connection timed out; retry 1 of 6 in 1 s$' err
	kill "$(cat src.pid)"
	while _alive "$(cat src.pid)"; do sleep 0.05; done
	start_nbdkit src file src.img
	wait "$copy" || fail "exit $?: $(cat err)"
	cmp src.img dst.img
}

@test "copy: a server that never finishes the handshake is a timeout" {
	start_nbdkit src --filter=delay memory 1M delay-open=100
	run_tool 1 nbd-copy --timeout=1 "$src" null:
	assert_one_line_error nbd-copy "$src: Connection timed out"
}
