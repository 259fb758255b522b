#!/usr/bin/env bats
# nbd-copy over TLS: nbdkit --tls=require with X.509 certificates made by
# certtool and a PSK file made by psktool (as in tls.bats); nbds+unix://
# on either side copies byte for byte, and plain nbd+unix:// is refused
# with exit 1 and one line.
# shellcheck disable=SC2154

load helpers

setup_file() {
	tls_setup_file
}

setup() {
	tls_setup
}

@test "copy-tls: X.509: file to nbds+unix:// and back" {
	mkimg src.img 8
	start_nbdkit srv --tls=require --tls-certificates="$pki" memory 8M
	local uri="nbds+unix:///?socket=${srv_sock}&tls-certificates=$pki"
	run_tool nbd-copy src.img "$uri"
	assert_output ''
	[ -z "$stderr" ]
	run_tool nbd-copy "$uri" back.img
	cmp src.img back.img
	# The reference reader agrees: the bytes really are on the server.
	nbdcopy "$uri" ref.img
	cmp src.img ref.img
}

@test "copy-tls: PSK: file to nbds+unix:// and back" {
	mkimg src.img 8
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 8M
	local uri="nbds+unix://alice@/?socket=${srv_sock}&tls-psk-file=$psk"
	run_tool nbd-copy src.img "$uri"
	run_tool nbd-copy "$uri" back.img
	cmp src.img back.img
	nbdcopy "$uri" ref.img
	cmp src.img ref.img
}

@test "copy-tls: nbds+unix:// to nbds+unix://, X.509 to PSK, every engine" {
	mkimg src.img 8
	start_nbdkit a --tls=require --tls-certificates="$pki" memory 8M
	local ua="nbds+unix:///?socket=${a_sock}&tls-certificates=$pki"
	local i=0 variant ub
	run_tool nbd-copy src.img "$ua"
	for variant in '-T1' '-C4 -T4' '--synchronous'; do
		# A fresh destination each time: no stale bytes to pass on.
		i=$((i + 1))
		start_nbdkit "b$i" --tls=require --tls-psk="$psk" memory 8M
		local sock_var="b${i}_sock"
		ub="nbds+unix://alice@/?socket=${!sock_var}&tls-psk-file=$psk"
		# shellcheck disable=SC2086  # the variant is several words
		run_tool nbd-copy $variant "$ua" "$ub"
		run_tool nbd-copy "$ub" "back$i.img"
		cmp src.img "back$i.img"
	done
}

@test "copy-tls: streams to and from nbds+unix://" {
	mkimg src.img 8
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 8M
	local uri="nbds+unix://alice@/?socket=${srv_sock}&tls-psk-file=$psk"
	tool nbd-copy - "$uri" <src.img
	tool nbd-copy "$uri" - >out.img
	cmp src.img out.img
}

@test "copy-tls: plain nbd+unix:// against --tls=require is exit 1, one line" {
	mkimg src.img 8
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 8M
	run_tool 1 nbd-copy "$srv" out.img
	assert_output ''
	assert_one_line_error nbd-copy "$srv"
	run_tool 1 nbd-copy src.img "$srv"
	assert_output ''
	assert_one_line_error nbd-copy "$srv"
	run -1 nbdcopy src.img "$srv"
}
