#!/usr/bin/env bats
# TLS: nbdkit --tls=require with X.509 certificates made by certtool and
# a PSK file made by psktool; nbds+unix:// reaches it, --is tls says so,
# and plain nbd+unix:// is refused with exit 1.
# shellcheck disable=SC2154

load helpers

setup_file() {
	tls_setup_file
}

setup() {
	tls_setup
}

@test "tls: X.509: nbds+unix:// works and --is tls is 0" {
	start_nbdkit srv --tls=require --tls-certificates="$pki" memory 1M
	local uri="nbds+unix:///?socket=${srv_sock}&tls-certificates=$pki"
	run_tool 0 nbd-info --is tls "$uri"
	run -0 nbdinfo --is tls "$uri"
	run_tool 0 nbd-info "$uri"
	assert_line --index 0 \
		'protocol: newstyle-fixed with TLS, using structured packets'
	assert_line $'\texport-size: 1048576 (1M)'
	run_tool 0 nbd-info --json --no-content "$uri"
	local ours=$output
	run -0 --separate-stderr nbdinfo --json --no-content "$uri"
	assert_json_subset "$output" "$ours"
	[[ $ours == *'"TLS": true'* ]] || fail "$ours"
	run_tool 0 nbd-info --size "$uri"
	assert_output 1048576
}

@test "tls: PSK: nbds+unix:// with tls-psk-file works and --is tls is 0" {
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 1M
	local uri="nbds+unix://alice@/?socket=${srv_sock}&tls-psk-file=$psk"
	run_tool 0 nbd-info --is tls "$uri"
	run -0 nbdinfo --is tls "$uri"
	run_tool 0 nbd-info --list --json "$uri"
	[[ $output == *'"TLS": true'* ]] || fail "$output"
	run_tool 0 nbd-info --can write "$uri"
}

@test "tls: plain nbd+unix:// against --tls=require is exit 1" {
	start_nbdkit srv --tls=require --tls-psk="$psk" memory 1M
	local q
	run_tool 1 nbd-info "$srv"
	assert_output ''
	assert_one_line_error nbd-info "$srv"
	for q in 'connect' 'read' 'tls'; do
		run_tool 1 nbd-info --can "$q" "$srv"
		assert_output ''
		run -1 nbdinfo --can "$q" "$srv"
	done
	run_tool 1 nbd-info --size "$srv"
	assert_output ''
	run_tool 1 nbd-info --json "$srv"
	assert_output ''
}

@test "tls: --is tls is 2 without TLS, and nbds:// needs a TLS server" {
	start_nbdkit plain memory 1M
	run_tool 2 nbd-info --is tls "$plain"
	run -2 nbdinfo --is tls "$plain"
	run_tool 1 nbd-info --is tls "nbds+unix:///?socket=$plain_sock"
	assert_output ''
}

@test "tls: --tls=on serves both, and only nbds:// negotiates it" {
	start_nbdkit srv --tls=on --tls-psk="$psk" memory 1M
	run_tool 2 nbd-info --is tls "$srv"
	run_tool 0 nbd-info --is tls \
		"nbds+unix://alice@/?socket=${srv_sock}&tls-psk-file=$psk"
}
