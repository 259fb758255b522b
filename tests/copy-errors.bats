#!/usr/bin/env bats
# nbd-copy failures: usage errors, I/O errors injected with nbdkit's
# error filter (each names the side and the offset, exit 1), a failing
# block-status that is not fatal, and SIGINT/SIGTERM.
# shellcheck disable=SC2016,SC2030,SC2031

load helpers

@test "copy: usage errors are one line, exit 1" {
	: >src.img
	while IFS='|' read -r args text; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args
		[ "${#stderr_lines[@]}" -ge 1 ] || fail "no error for: $args"
		[[ ${stderr_lines[0]} == "nbd-copy: "*"$text"* ]] ||
			fail "'$args': got '$stderr', wanted '$text'"
	done <<-END
	src.img|expected SOURCE and DESTINATION
	src.img null: extra|unexpected argument 'extra'
	null: src.img|source
	-R 0 src.img null:|--requests
	-R -1 src.img null:|--requests: cannot be negative
	-R x src.img null:|--requests: could not parse
	-C 0 src.img null:|--connections
	-T -1 src.img null:|--threads: cannot be negative
	--request-size=3M src.img null:|not a power of 2
	--request-size=64M src.img null:|--request-size
	--request-size=1k src.img null:|--request-size
	-S 100 src.img null:|--sparse
	-S 64M src.img null:|--sparse
	--queue-size=-1 src.img null:|--queue-size: cannot be negative
	--queue-size=1x src.img null:|--queue-size: could not parse
	--progress=x src.img null:|--progress
	--progress=99 src.img null:|--progress=99
	--no-such-option src.img null:|--no-such-option
	END
}

@test "copy: a read error names the source and the offset" {
	start_nbdkit src --filter=error pattern 8M error-pread-rate=1
	run_tool 1 nbd-copy "$src" null:
	assert_one_line_error nbd-copy "source: $src: read at offset"
	[[ $stderr == *"Input/output error"* ]]
}

@test "copy: a read error in synchronous and streaming copies" {
	start_nbdkit src --filter=error pattern 8M error-pread-rate=1
	run_tool 1 nbd-copy --synchronous "$src" dst.img
	assert_one_line_error nbd-copy "source: $src: read at offset 0"
	run_tool 1 nbd-copy "$src" -
	assert_one_line_error nbd-copy "read at offset 0"
}

@test "copy: a write error names the destination and the offset" {
	head -c 8M /dev/urandom >src.img
	start_nbdkit dst --filter=error memory 8M error-pwrite-rate=1
	run_tool 1 nbd-copy src.img "$dst"
	assert_one_line_error nbd-copy "destination: $dst: write at offset"
}

@test "copy: a zero error stops the copy" {
	truncate -s 8M src.img
	printf 'x' >>src.img
	start_nbdkit dst --filter=error memory 16M error-zero-rate=1
	run_tool 1 nbd-copy src.img "$dst"
	assert_one_line_error nbd-copy "destination: $dst: zero at offset"
}

@test "copy: a flush error fails --flush" {
	head -c 1M /dev/urandom >src.img
	# nbdkit 1.32's error filter cannot fail flush: a script can.
	start_nbdkit dst eval get_size='echo 1048576' \
		pread='dd if=/dev/zero count=$3 iflag=count_bytes status=none' \
		pwrite='cat >/dev/null' can_flush='exit 0' \
		flush='echo "EIO flush refused" >&2; exit 1'
	run_tool nbd-copy src.img "$dst"
	run_tool 1 nbd-copy --flush src.img "$dst"
	assert_one_line_error nbd-copy "destination: $dst: flush"
}

@test "copy: a failing block-status reads that range as data" {
	start_nbdkit src --filter=error data '1 @4194304 2' size=8M \
		error-extents-rate=1
	run_tool nbd-copy "$src" dst.img
	start_nbdkit ref data '1 @4194304 2' size=8M
	run_tool nbd-copy "$ref" ref.img
	cmp ref.img dst.img
}

# interrupt SIGNAL ARGS...: starts a slow copy, signals it once the
# "[ CMD ]" server is up, and checks that nbd-copy died by that signal
# (128 + its number, SPEC 1.3) and that the server is gone.
interrupt() {
	local sig=$1 pid spid st=0 want
	shift
	"$NBDU_BUILD/nbd-copy" "$@" -- [ nbdkit -P "$BATS_TEST_TMPDIR/srv.pid" \
		--filter=delay pattern 1G delay-read=1 ] null: 2>err &
	pid=$!
	_wait_file "$BATS_TEST_TMPDIR/srv.pid"
	spid=$(cat "$BATS_TEST_TMPDIR/srv.pid")
	sleep 0.5
	kill "-$sig" "$pid"
	wait "$pid" || st=$?
	want=$((128 + $(kill -l "$sig")))
	[ "$st" -eq "$want" ] || fail "exit status $st, wanted $want: $(cat err)"
	grep -q 'nbd-copy: interrupted' err
	! kill -0 "$spid" 2>/dev/null || fail "server $spid still running"
}

@test "copy: SIGINT stops cleanly and reaps the server" {
	interrupt INT
}

@test "copy: SIGTERM stops cleanly, synchronous copy too" {
	interrupt TERM
	interrupt TERM --synchronous
}
