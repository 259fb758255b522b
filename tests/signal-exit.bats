#!/usr/bin/env bats
# SPEC 1.3, issue 16 item 5: a tool stopped by SIGINT or SIGTERM cleans
# up and then ends by that signal, so the caller sees 130 or 143 and a
# shell loop around it stops, with its "[ CMD ]" server reaped.  (Every
# tool's servers are in hygiene.bats; stalled servers in hostile.bats.)

load helpers

# signal_status SIGNAL: the status of an nbd-copy of a slow export,
# sent SIGNAL once it is copying.  Each gets a server of its own:
# nbdkit 1.32 may abort when a client goes with requests queued
# (fixed in 1.33.10), and the next copy would find no server.
signal_status() {
	local pid st=0
	start_nbdkit src --filter=delay pattern 1T delay-read=20ms
	# Not through tool(): $! would be a subshell that shields the copy.
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" "$src" null: 2>err &
	pid=$!
	sleep 1
	kill "-$1" "$pid"
	wait "$pid" || st=$?
	echo "$st"
}

@test "copy: SIGINT ends nbd-copy by SIGINT (130), SIGTERM by SIGTERM (143)" {
	st=$(signal_status INT); [ "$st" = 130 ] || fail "status $st: $(cat err)"
	[ "$(cat err)" = "nbd-copy: interrupted" ]
	[ "$(signal_status TERM)" = 143 ]
	[ "$(cat err)" = "nbd-copy: interrupted" ]
}

# ctrl_c_loop: bash runs three slow copies in a loop, in a process group
# of its own; after a second that whole group gets SIGINT, as a terminal
# sends it on Ctrl-C.  Prints bash's status as the shell would show it.
ctrl_c_loop() {
	python3 - "$NBDU_BUILD/nbd-copy" "$src" <<-'PY'
	import os, signal, subprocess, sys, time
	loop = 'for i in 1 2 3; do "$0" "$1" null:; echo next; done'
	with open("out", "w") as out, open("err", "w") as err:
	    p = subprocess.Popen(["bash", "-c", loop] + sys.argv[1:],
	                         stdout=out, stderr=err,
	                         start_new_session=True)
	    time.sleep(1)
	    os.killpg(p.pid, signal.SIGINT)
	    p.wait(timeout=60)
	print(128 - p.returncode if p.returncode < 0 else p.returncode)
	PY
}

@test "copy: Ctrl-C stops a shell loop of copies" {
	local st
	start_nbdkit src --filter=delay pattern 1T delay-read=20ms
	# bash goes on after a child that merely exits 1; it stops only if
	# the child died by SIGINT.
	st=$(ctrl_c_loop)
	[ "$st" -eq 130 ] || fail "bash: exit $st: $(cat err)"
	[ ! -s out ] || fail "the loop went on: $(cat out)"
	[ "$(cat err)" = "nbd-copy: interrupted" ]
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
