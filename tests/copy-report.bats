#!/usr/bin/env bats
# nbd-copy --report[=FILE]: one JSON document at exit, whichever way the
# run ends, with the numbers the servers saw (nbdkit's stats filter), the
# exit status and the error message.
# shellcheck disable=SC2030,SC2031

load helpers

setup() {
	nbdu_setup
	require jq --version
}

# stats_line FILE OP: "N ops SIZE" from nbdkit-stats-filter's FILE for
# OP (read, write, zero, extents, flush), "0 ops" if OP never came.
stats_line() {
	local line
	line=$(grep "^$2: " "$1") || { echo "0 ops"; return; }
	line=${line#*: }
	# "2 ops, 0.005783 s, 1.06 MiB, ...": the count and the size.
	awk -F', ' '{ sub(/ ops$/, "", $1); print $1 " ops " $3 }' <<<"$line"
}

# human N: a byte count as the stats filter prints it.
human() {
	awk -v n="$1" 'BEGIN {
		split("bytes KiB MiB GiB TiB", u, " ")
		if (n < 1024) { print n " bytes"; exit }
		i = 1; while (n >= 1024 && i < 5) { n /= 1024; i++ }
		printf "%.2f %s\n", n, u[i] }'
}

# stop_stats VAR: ends the nbdkit started as VAR, which writes its stats.
stop_stats() {
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/$1.pid")
	kill "$pid"
	for _ in $(seq 100); do
		_alive "$pid" || break
		sleep 0.1
	done
	_wait_file "$BATS_TEST_TMPDIR/$1.stats"
}

@test "copy: --report after a success has what the servers counted" {
	start_nbdkit dst --filter=stats memory 16M \
		statsfile="$BATS_TEST_TMPDIR/dst.stats"
	start_nbdkit src --filter=stats data \
		'(0x55)*65536 @8388608 (0xaa)*1048576' size=16M \
		statsfile="$BATS_TEST_TMPDIR/src.stats"
	run_tool nbd-copy --report=r.json --flush "$src" "$dst"
	[ -z "$output" ] && [ -z "$stderr" ]
	stop_stats src
	stop_stats dst
	r() { jq -r "$1" r.json; }
	assert_equal "$(stats_line src.stats read)" \
		"$(r .source.requests.reads) ops $(human "$(r .bytes_read)")"
	assert_equal "$(stats_line src.stats extents | cut -d' ' -f1-2)" \
		"$(r .source.requests.block_status) ops"
	assert_equal "$(stats_line dst.stats write)" \
		"$(r .destination.requests.writes) ops $(human "$(r .bytes_written)")"
	assert_equal "$(stats_line dst.stats zero)" \
		"$(r .destination.requests.zeroes) ops $(human "$(r .bytes_zeroed)")"
	assert_equal "$(stats_line dst.stats flush | cut -d' ' -f1-2)" \
		"$(r .destination.requests.flushes) ops"
	jq -e '.size == 16777216 and .bytes_copied == 16777216 and
	    .bytes_read == 1114112 and .bytes_written == 1114112 and
	    .bytes_zeroed == 15663104 and .bytes_skipped == 0 and
	    .source.kind == "nbd" and .destination.kind == "nbd" and
	    .source.connections >= 1 and .threads >= 1 and
	    (.seconds | type) == "number" and (.rate | type) == "number" and
	    .digest == null and .status == 0 and .signal == null and
	    .error == null' r.json
	# Nothing but FILE: its temporary sibling was renamed over it.
	assert_equal "$(echo r.json*)" r.json
}

@test "copy: --report after a read error has status 1 and the message" {
	start_nbdkit src --filter=error pattern 8M error-pread-rate=1
	run_tool 1 nbd-copy --report=r.json "$src" null:
	assert_one_line_error nbd-copy "read at offset"
	jq -e --arg e "${stderr#nbd-copy: }" '.status == 1 and
	    .error == $e and .signal == null and .bytes_copied == 0 and
	    .source.requests.reads >= 1' r.json
}

@test "copy: --report to stdout, a stream's size is null, holes skipped" {
	truncate -s 4M src.img
	printf 'data' | dd of=src.img bs=1 seek=1M conv=notrunc status=none
	run_tool nbd-copy --report src.img dst.img
	[ -z "$stderr" ]
	jq -e '.size == 4194304 and .bytes_copied == 4194304 and
	    .bytes_skipped > 0 and .destination.kind == "file" and
	    .status == 0' <<<"$output"
	run_tool nbd-copy --report - null: <src.img
	jq -e '.size == null and .bytes_copied == 4194304 and
	    .source.kind == "pipe"' <<<"$output"
}

@test "copy: --report has the digest and the sides without passwords" {
	start_nbdkit src pattern 1M
	uri="nbd+unix://alice:secret@/?socket=$src_sock"
	run_tool nbd-copy --report=r.json --blkhash-file=sum "$uri" null:
	[ -z "$stderr" ]
	jq -e --arg hex "$(cat sum)" '.digest == {"algorithm": "sha256",
	    "block_size": 65536, "hex": $hex}' r.json
	! grep -q secret r.json
	jq -e '.source.name | contains("alice")' r.json
}

@test "copy: --report after a signal says so" {
	start_nbdkit src --filter=delay pattern 64M delay-read=50ms
	# Not through tool(): $! would be a subshell that shields the copy.
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" --report=r.json \
		--progress-json=5 -R 1 "$src" null: 5>prog 2>err &
	pid=$!
	_wait_file prog
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ] || fail "status $st: $(cat err)"
	jq -e '.status == 143 and .signal == "SIGTERM" and
	    .error == "interrupted"' r.json
}

@test "copy: --report refuses stdout when stdout carries something else" {
	head -c 4k /dev/urandom >src.img
	run_tool 1 nbd-copy --report src.img - </dev/null
	assert_one_line_error nbd-copy "--report: the destination is stdout"
	run_tool 1 nbd-copy --report --blkhash src.img null:
	assert_one_line_error nbd-copy "--report: the digest goes to stdout"
	[ -z "$output" ]
}

@test "copy: --report=FILE in a missing directory fails before copying" {
	head -c 4k /dev/urandom >src.img
	run_tool 1 nbd-copy --report=no/such/r.json src.img dst.img
	assert_one_line_error nbd-copy "--report: no/such/r.json"
	[ ! -e dst.img ]
}
