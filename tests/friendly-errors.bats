#!/usr/bin/env bats
# Issue 16 item 5: errors that say what to do, from the common code.  A
# Unix socket or HOST:PORT given where a URI was meant gets the URI
# suggested; a "[ CMD ]" server that dies before serving is named by its
# exit status beside its own stderr; a missing --map context lists the
# ones the server offers.  Each is one line (plus the server's own), exit 1.

load helpers

# listen PATH: a Unix socket that exists and listens (nobody answers).
listen() {
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + ".up", "w").write("up")
time.sleep(60)' "$1" &
	_record_pid $!
	_wait_file "$1.up"
}

@test "info: a Unix socket given as a file suggests its nbd+unix URI" {
	listen "$PWD/q.sock"
	run_tool 1 nbd-info "$PWD/q.sock"
	[ "$stderr" = "nbd-info: server: $PWD/q.sock is a Unix socket, not a file: did you mean 'nbd+unix:///?socket=$PWD/q.sock'?" ]
}

@test "copy, dump, stat-map: a Unix socket as a file suggests its URI, escaped" {
	local want="source: a b.sock is a Unix socket, not a file: did you mean 'nbd+unix:///?socket=a%20b.sock'?"
	listen "$PWD/a b.sock"
	run_tool 1 nbd-copy "a b.sock" null:
	[ "$stderr" = "nbd-copy: $want" ] || fail "$stderr"
	run_tool 1 nbd-dump "a b.sock"
	[ "$stderr" = "nbd-dump: $want" ] || fail "$stderr"
	run_tool 1 nbd-stat-map "a b.sock"
	[ "$stderr" = "nbd-stat-map: $want" ] || fail "$stderr"
}

@test "info: HOST:PORT suggests nbd://HOST:PORT" {
	run_tool 1 nbd-info localhost:10809
	[ "$stderr" = "nbd-info: server: localhost:10809 cannot be a local file: did you mean 'nbd://localhost:10809'?" ]
	run_tool 1 nbd-info '[::1]:10809'
	[ "$stderr" = "nbd-info: server: [::1]:10809 cannot be a local file: did you mean 'nbd://[::1]:10809'?" ]
	# Anything else is not guessed at.
	run_tool 1 nbd-info disk.img
	[ "$stderr" = "nbd-info: server: disk.img cannot be a local file" ]
}

@test "info, copy: a [ CMD ] server that exits before serving says its status" {
	run_tool 1 nbd-info -- [ nbdkit --filter=no-such-filter memory 1M ]
	[ "${#stderr_lines[@]}" -eq 2 ] || fail "$stderr"
	[[ ${stderr_lines[0]} == "nbdkit: error: "*no-such-filter* ]] ||
		fail "nbdkit's own error is gone: $stderr"
	[ "${stderr_lines[1]}" = "nbd-info: nbdkit: server exited with status 1" ]
	run_tool 1 nbd-copy -- [ sh -c 'exit 3' ] null:
	[ "$stderr" = "nbd-copy: sh: server exited with status 3" ]
	run_tool 1 nbd-copy -- [ nbdkit memory 1M ] [ sh -c 'kill -9 $$' ]
	[ "$stderr" = "nbd-copy: sh: server killed by signal 9 (Killed)" ]
}

@test "stat-map: a missing --map context lists the ones the server offers" {
	run_tool 1 nbd-stat-map --map=qemu:dirty-bitmap:x -- [ nbdkit memory 1M ]
	[ "$stderr" = 'nbd-stat-map: --map: server does not support metadata context "qemu:dirty-bitmap:x"; it offers: base:allocation' ]
	require qemu-img --version
	qemu-img create -q -f qcow2 d.qcow2 1M
	qemu-img bitmap --add d.qcow2 b0
	run_tool 1 nbd-stat-map --map=qemu:dirty-bitmap:nope -- \
		[ qemu-nbd -f qcow2 -B b0 -A d.qcow2 ]
	[ "$stderr" = 'nbd-stat-map: --map: server does not support metadata context "qemu:dirty-bitmap:nope"; it offers: base:allocation, qemu:allocation-depth, qemu:dirty-bitmap:b0' ]
}
