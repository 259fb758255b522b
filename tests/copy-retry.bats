#!/usr/bin/env bats
# nbd-copy --retries and --retry-delay (issue 14): error replies from
# nbdkit's error filter, servers SIGKILLed mid-copy and started again on
# the same socket.  With retries the copy is exact (cmp, and the blkhash
# of an undisturbed copy); without, exit 1 naming the offset as before.
# What is never retried (ENOSPC, a "[ CMD ] server", another disk) fails
# with one line.  copy-timeout.bats has the servers that stop answering.
# shellcheck disable=SC2030,SC2031,SC2154

load helpers

# A sparse image: random data with holes between, so a copy reads,
# writes, zeroes and asks for block status.
sparse_img() {
	truncate -s 16M "$1"
	for off in 0 3 4 9 14; do
		head -c 700k /dev/urandom |
			dd of="$1" bs=1M seek="$off" conv=notrunc status=none
	done
}

# Every line of stderr is a retry line of SIDE (and there is one).
assert_retry_lines() {
	local side=$1 line
	[ "${#stderr_lines[@]}" -ge 1 ] || fail "no retry line"
	for line in "${stderr_lines[@]}"; do
		[[ $line =~ ^nbd-copy:\ $side:\ (read|write|zero|block\ status)\ at\ offset\ [0-9]+:\ .+\;\ retry\ [0-9]+\ of\ [0-9]+\ in\ [0-9.]+\ s$ ]] ||
			fail "not a retry line: $line"
	done
}

# The blkhash of FILE, as an undisturbed copy computes it.
blkhash_of() {
	"$NBDU_BUILD/nbd-copy" "$1" null: --blkhash
}

# wait_log FILE WORD: until nbdkit's log filter has logged a WORD request.
wait_log() {
	for _ in $(seq 200); do
		grep -q " $2 id=" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no $2 in $1"
}

# restart VAR NBDKIT-ARGS...: SIGKILLs the nbdkit VAR was started as,
# waits until it is gone, then starts NBDKIT-ARGS on the same socket.
restart() {
	local var=$1 pid
	shift
	pid=$(cat "$BATS_TEST_TMPDIR/$var.pid")
	kill -9 "$pid"
	while _alive "$pid"; do sleep 0.05; done
	start_nbdkit "$var" "$@"
}

@test "copy: --retries makes a copy from a faulty source exact" {
	sparse_img src.img
	want=$(blkhash_of src.img)
	start_nbdkit src --filter=error file src.img error-pread-rate=0.2 \
		error-extents-rate=0.2
	for mode in "" --synchronous "-C 4"; do
		rm -f dst.img
		# shellcheck disable=SC2086
		run_tool nbd-copy $mode --request-size=64k --retries=100 \
			--retry-delay=0.001 --blkhash "$src" dst.img
		cmp src.img dst.img
		assert_equal "$output" "$want"
		assert_retry_lines source
	done
	run_tool 1 nbd-copy --request-size=64k "$src" dst.img
	assert_one_line_error nbd-copy "source: $src:"
	[[ $stderr =~ (read|block\ status)\ at\ offset\ [0-9]+:\ Input/output\ error$ ]]
}

@test "copy: --retries makes a copy to a faulty destination exact" {
	sparse_img src.img
	truncate -s 16M dst.img
	start_nbdkit dst --filter=error file dst.img error-pwrite-rate=0.2 \
		error-zero-rate=0.2
	for mode in "" --synchronous "-C 4"; do
		# Data left from the last round must not pass for a copy.
		head -c 16M /dev/urandom >dst.img
		# shellcheck disable=SC2086
		run_tool nbd-copy $mode --request-size=64k --retries=100 \
			--retry-delay=0.001 src.img "$dst"
		cmp src.img dst.img
		assert_retry_lines destination
	done
	run_tool 1 nbd-copy --request-size=64k src.img "$dst"
	assert_one_line_error nbd-copy "destination: $dst:"
	[[ $stderr =~ (write|zero)\ at\ offset\ [0-9]+:\ Input/output\ error$ ]]
}

@test "copy: ENOSPC on the destination is not retried" {
	head -c 1M /dev/urandom >src.img
	start_nbdkit dst --filter=error memory 1M error=ENOSPC \
		error-pwrite-rate=1
	run_tool 1 nbd-copy --retries=5 src.img "$dst"
	assert_one_line_error nbd-copy \
		"destination: $dst: write at offset 0: No space left on device"
}

@test "copy: a source killed mid-copy and restarted: the copy completes" {
	head -c 16M /dev/urandom >src.img
	want=$(blkhash_of src.img)
	start_nbdkit src --filter=log --filter=delay file src.img \
		delay-read=100ms logfile="$BATS_TEST_TMPDIR/src.log"
	"$NBDU_BUILD/nbd-copy" --request-size=64k --retries=6 --blkhash \
		"$src" dst.img >sum 2>err &
	copy=$!
	wait_log src.log Read
	restart src file src.img
	wait "$copy" || fail "exit $?: $(cat err)"
	cmp src.img dst.img
	assert_equal "$(cat sum)" "$want"
	mapfile -t stderr_lines <err
	assert_retry_lines source
}

@test "copy: a destination killed mid-copy and restarted: the copy completes" {
	head -c 16M /dev/urandom >src.img
	truncate -s 16M dst.img
	start_nbdkit dst --filter=log --filter=delay file dst.img \
		delay-write=100ms logfile="$BATS_TEST_TMPDIR/dst.log"
	"$NBDU_BUILD/nbd-copy" --synchronous --request-size=64k --retries=6 \
		src.img "$dst" 2>err &
	copy=$!
	wait_log dst.log Write
	restart dst file dst.img
	wait "$copy" || fail "exit $?: $(cat err)"
	cmp src.img dst.img
	mapfile -t stderr_lines <err
	assert_retry_lines destination
}

@test "copy: a source back with another size is not the same disk" {
	head -c 16M /dev/urandom >src.img
	head -c 8M src.img >small.img
	start_nbdkit src --filter=log --filter=delay file src.img \
		delay-read=100ms logfile="$BATS_TEST_TMPDIR/src.log"
	"$NBDU_BUILD/nbd-copy" --request-size=64k --retries=6 \
		"$src" dst.img 2>err &
	copy=$!
	wait_log src.log Read
	restart src file small.img
	status=0
	wait "$copy" || status=$?
	assert_equal "$status" 1
	# The retry lines, then the failure.
	grep -q '; retry 1 of 6 in 1 s$' err
	tail -n 1 err | grep -q "^nbd-copy: source: $src: read at offset [0-9]*: not the same disk: its size is now 8388608, was 16777216$"
}

@test "copy: a [ CMD ] source: error replies are retried, a lost connection is not" {
	head -c 4M /dev/urandom >src.img
	# A "[ CMD ]" server shares our stderr: --log=null keeps its lines
	# (what it injects) from cutting into ours.
	run_tool nbd-copy --request-size=64k --retries=100 --retry-delay=0.001 \
		-- [ nbdkit --log=null --filter=error file src.img \
		error-pread-rate=0.2 ] dst.img
	cmp src.img dst.img
	assert_retry_lines source
	run_tool 1 nbd-copy --timeout=1 --retries=3 \
		-- [ nbdkit --log=null -t 1 --filter=delay file src.img \
		delay-read=100 ] dst.img
	assert_equal "${stderr_lines[*]}" "nbd-copy: source: nbdkit: read at offset 0: Connection timed out; a [ CMD ] server cannot be reconnected"
}

@test "copy: a signal while waiting to retry ends the copy by that signal" {
	head -c 16M /dev/urandom >src.img
	start_nbdkit src --filter=log --filter=delay file src.img \
		delay-read=100ms logfile="$BATS_TEST_TMPDIR/src.log"
	"$NBDU_BUILD/nbd-copy" --retries=3 --retry-delay=60 "$src" dst.img \
		2>err &
	copy=$!
	wait_log src.log Read
	kill -9 "$(cat src.pid)"
	for _ in $(seq 200); do
		grep -q 'retry 1 of 3 in 60 s$' err && break
		sleep 0.05
	done
	kill -TERM "$copy"
	status=0
	wait "$copy" || status=$?
	assert_equal "$status" 143
}
