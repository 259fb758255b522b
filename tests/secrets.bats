#!/usr/bin/env bats
# Secrets (issue 8, part 5): a password in a URI and the key bytes of a
# PSK file never reach stdout, stderr (errors and --verbose), nbd-info's
# uri, or the command line and environment of a "[ CMD ]" server.  NBD
# has no passwords: conn.c drops one before libnbd sees the URI, which
# would otherwise take "user:password" for the TLS user name and print
# it.  TLS: nbds:// verifies the server's certificate by default, and
# a wrong CA, a wrong PSK or plain NBD to a TLS-only server is exit 1.
# tls.bats and copy-tls.bats have the working cases.
# shellcheck disable=SC2154

load helpers

PW=hunter2-Secret

setup_file() {
	command -v certtool >/dev/null && command -v psktool >/dev/null ||
		return 0
	make_pki "$BATS_FILE_TMPDIR/pki" 'nbd-utils test CA'
	make_pki "$BATS_FILE_TMPDIR/other" 'some other CA'
	psktool -u alice -p "$BATS_FILE_TMPDIR/keys.psk" >/dev/null
	psktool -u alice -p "$BATS_FILE_TMPDIR/wrong.psk" >/dev/null
}

setup() {
	nbdu_setup
	[ -s "$BATS_FILE_TMPDIR/other/client-cert.pem" ] ||
		skip "needs: certtool and psktool"
	pki=$BATS_FILE_TMPDIR/pki
	other=$BATS_FILE_TMPDIR/other
	psk=$BATS_FILE_TMPDIR/keys.psk
	wrong=$BATS_FILE_TMPDIR/wrong.psk
	# Every secret: the password and both keys, hex as in the files.
	secrets=("$PW" "$(cut -d: -f2 "$psk")" "$(cut -d: -f2 "$wrong")")
}

# no_secrets WHAT FILE...: none of the secrets is in any FILE.
no_secrets() {
	local what=$1 s
	shift
	for s in "${secrets[@]}"; do
		! grep -q -F -- "$s" "$@" ||
			fail "$what: a secret is shown: $(grep -h -F -- "$s" "$@")"
		! grep -q -F -- "${s:0:16}" "$@" ||
			fail "$what: part of a key is shown"
	done
}

# each_tool STATUS URI [ARGS...]: every tool (nbd-copy to null:) on
# URI, with and without -v; checks STATUS (0, or 1 with one line when
# not verbose) and that no secret is on stdout or stderr.
each_tool() {
	local want=$1 uri=$2 t v st
	shift 2
	for t in nbd-info nbd-dump nbd-stat-map nbd-copy; do
		for v in "" -v; do
			local args=("$@" "$uri")
			[ -z "$v" ] || args=("$v" "${args[@]}")
			[ "$t" != nbd-copy ] || args+=(null:)
			st=0
			"${nbdu_wrap[@]}" "$NBDU_BUILD/$t" "${args[@]}" \
				>out 2>err || st=$?
			[ "$st" -eq "$want" ] ||
				fail "$t $v: exit $st, want $want: $(tail -3 err)"
			no_secrets "$t $v $uri" out err
			[ -n "$v" ] || [ "$want" -eq 0 ] || {
				[ "$(wc -l <err)" -eq 1 ] &&
					grep -q "^$t: " err
			} || fail "$t: want one line: $(cat err)"
		done
	done
}

@test "secrets: a URI password is shown nowhere, on success or error" {
	start_nbdkit srv memory 1M
	each_tool 0 "nbd+unix://alice:$PW@/?socket=$srv_sock"
	each_tool 1 "nbd+unix://alice:$PW@/?socket=/nonexistent"
	each_tool 1 "nbd://alice:$PW@[::1"
	each_tool 1 "nbd+unix://alice:$PW@/?socket=$srv_sock%zz"
	# The password is not part of the TLS user name either: the PSK
	# user is alice, and the key is found.
	start_nbdkit tls --tls=require --tls-psk="$psk" memory 1M
	each_tool 0 "nbds+unix://alice:$PW@/?socket=$tls_sock&tls-psk-file=$psk"
	each_tool 1 "nbds+unix://bob:$PW@/?socket=$tls_sock&tls-psk-file=$psk"
}

@test "secrets: nbd-info's uri keeps the user, never the password" {
	start_nbdkit srv memory 1M
	local uri="nbd+unix://alice:$PW@/?socket=$srv_sock"
	run_tool nbd-info "$uri"
	assert_line $'\turi: nbd+unix://alice@/?socket='"$srv_sock"
	run_tool nbd-info --json "$uri"
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
u = d["exports"][0]["uri"]
assert u == "nbd+unix://alice@/?socket=" + sys.argv[2], u' "$output" "$srv_sock"
	run_tool nbd-info --list --json "$uri"
	[[ $output != *"$PW"* ]] || fail "$output"
	# A URI that is fine without the password still works without it.
	run_tool nbd-info --size "$uri"
	assert_output 1048576
}

@test "secrets: PSK key bytes are shown nowhere, right key or wrong" {
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 1M
	each_tool 0 "nbds+unix://alice@/?socket=$srv_sock&tls-psk-file=$psk"
	each_tool 1 "nbds+unix://alice@/?socket=$srv_sock&tls-psk-file=$wrong"
	each_tool 1 "nbds+unix://bob@/?socket=$srv_sock&tls-psk-file=$psk"
}

@test "secrets: a [ CMD ] server gets exactly the words given, no secret" {
	start_nbdkit src --tls=require --tls-psk="$psk" --filter=delay \
		memory 64M delay-read=30 delay-extents=30
	local uri="nbds+unix://alice:$PW@/?socket=$src_sock&tls-psk-file=$psk"
	local words=(nbdkit -P "$BATS_TEST_TMPDIR/cmd.pid" memory 64M) pid spid
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" -- "$uri" [ "${words[@]}" ] \
		2>err &
	pid=$!
	_wait_file "$BATS_TEST_TMPDIR/cmd.pid"
	spid=$(cat "$BATS_TEST_TMPDIR/cmd.pid")
	tr '\0' '\n' <"/proc/$spid/cmdline" >cmdline
	tr '\0' '\n' <"/proc/$spid/environ" >environ
	kill -TERM "$pid"
	wait "$pid" || true
	diff cmdline <(printf '%s\n' "${words[@]}")
	no_secrets "server command line" cmdline
	no_secrets "server environment" environ
	no_secrets "nbd-copy" err
}

# start_tcp VAR NBDKIT-ARGS...: nbdkit on a free TCP port of 127.0.0.1;
# VAR gets the port.  (libnbd checks certificates only over TCP.)
start_tcp() {
	local var=$1 p pidf=$BATS_TEST_TMPDIR/$1.pid
	shift
	p=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	nbdkit -i 127.0.0.1 -p "$p" -P "$pidf" "$@" || return 1
	_wait_file "$pidf" || return 1
	_record_pid "$(cat "$pidf")"
	printf -v "$var" '%s' "$p"
}

@test "secrets: nbds:// checks the server's certificate by default" {
	start_tcp port --tls=require --tls-certificates="$pki" memory 1M
	local base="nbds://localhost:$port/"
	each_tool 0 "$base?tls-certificates=$pki"
	# Signed by a CA we were not told to trust.
	each_tool 1 "$base?tls-certificates=$other"
	run_tool 1 nbd-info "$base?tls-certificates=$other"
	assert_output ''
	assert_one_line_error nbd-info 'Error in the certificate verification'
	# Without a CA directory libnbd would fall back to the system CAs
	# and check nothing at all: refused, as is a directory without
	# ca-cert.pem (a typo would otherwise turn the check off).
	each_tool 1 "$base"
	grep -q "^nbd-copy: .*: no CA to check the server's certificate" err
	mkdir empty
	each_tool 1 "$base?tls-certificates=$PWD/empty"
	grep -q "^nbd-copy: .*: no CA to check the server's certificate" err
	# Asked for explicitly, no check (libnbd 1.14 ignores this
	# parameter, so with a directory it checks anyway).
	each_tool 0 "$base?tls-verify-peer=false"
}

@test "secrets: over a Unix socket libnbd 1.14 checks no certificate" {
	# Documented libnbd behaviour (nbd_set_tls_verify_peer(3): "true
	# when connecting to TCP servers ... false otherwise"), even with
	# tls-verify-peer=true: whoever may create the socket is trusted.
	# This test notices the day libnbd starts checking.
	start_nbdkit srv --tls=require --tls-certificates="$pki" memory 1M
	run_tool nbd-info --size \
		"nbds+unix:///?socket=$srv_sock&tls-certificates=$other&tls-verify-peer=true"
	assert_output 1048576
}

@test "secrets: a wrong PSK or plain NBD to a TLS-only server is exit 1 for every tool, nothing written" {
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 1M
	each_tool 1 "nbds+unix://alice@/?socket=$srv_sock&tls-psk-file=$wrong"
	each_tool 1 "nbds+unix://bob@/?socket=$srv_sock&tls-psk-file=$psk"
	each_tool 1 "nbd+unix:///?socket=$srv_sock"
	each_tool 1 "nbd+unix://alice@/?socket=$srv_sock&tls-psk-file=$psk"
	# A plain server is no TLS server: nbds:// does not fall back.
	start_nbdkit plain memory 1M
	each_tool 1 "nbds+unix://alice@/?socket=$plain_sock&tls-psk-file=$psk"
	# The copies that failed wrote nothing.
	run_tool nbd-copy "nbds+unix://alice@/?socket=$srv_sock&tls-psk-file=$psk" got.img
	cmp got.img <(head -c 1M /dev/zero)
}
