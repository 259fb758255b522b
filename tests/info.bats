#!/usr/bin/env bats
# nbd-info's default text output on nbdkit, qemu-nbd and nbd-server,
# --size, the content probe, colour, and bad input.  Where nbdinfo is
# installed the text must be the same as its text on the same server.
# shellcheck disable=SC2016,SC2154

load helpers

# Our text and nbdinfo's on the same server and arguments must agree,
# but for the human sizes nbdinfo 1.20 added beside the block size
# limits ("4096 (4K)"), which older nbdinfo leaves out.
same_as_nbdinfo() {
	local theirs= ours
	if command -v nbdinfo >/dev/null; then
		run -0 --separate-stderr nbdinfo "$@"
		theirs=$output
	fi
	run_tool 0 nbd-info "$@"	# last, so $output and $lines are ours
	ours=$(sed -E 's/^(\tblock_size_[a-z]+: [0-9]+) \([0-9]+[KMGTPE]\)$/\1/' \
		<<<"$output")
	if [[ $theirs == *$'\tblock_size_'*' ('* ]]; then
		ours=$output		# an nbdinfo with human sizes
	fi
	[ -z "$theirs" ] || [ "$ours" = "$theirs" ] ||
		fail "differs from nbdinfo $*:"$'\n'"$output"$'\n---\n'"$theirs"
}

@test "info: text output of an nbdkit memory export" {
	start_nbdkit srv memory 1M
	same_as_nbdinfo "$srv"
	assert_output - <<-EOF
	protocol: newstyle-fixed without TLS, using structured packets
	export="":
	$(printf '\t')export-size: 1048576 (1M)
	$(printf '\t')content: data
	$(printf '\t')uri: $srv
	$(printf '\t')contexts:
	$(printf '\t\t')base:allocation
	$(printf '\t')is_rotational: false
	$(printf '\t')is_read_only: false
	$(printf '\t')can_cache: true
	$(printf '\t')can_df: true
	$(printf '\t')can_fast_zero: true
	$(printf '\t')can_flush: true
	$(printf '\t')can_fua: true
	$(printf '\t')can_multi_conn: true
	$(printf '\t')can_trim: true
	$(printf '\t')can_zero: true
	EOF
	assert_equal "$stderr" ''
}

@test "info: a [ CMD ] server has no uri line" {
	same_as_nbdinfo -- [ nbdkit memory 64M ]
	assert_line --index 2 $'\texport-size: 67108864 (64M)'
	refute_line --partial 'uri:'
}

@test "info: nbdkit null of size 0, -r, --no-sr and --oldstyle" {
	start_nbdkit null0 null 0
	start_nbdkit ro -r memory 1M
	start_nbdkit nosr --no-sr memory 1M
	start_nbdkit old --oldstyle memory 1M
	same_as_nbdinfo "$null0"
	assert_line $'\texport-size: 0'
	assert_line $'\tcontent: empty'
	same_as_nbdinfo "$ro"
	assert_line $'\tis_read_only: true'
	assert_line $'\tcan_zero: false'
	assert_line $'\tcan_trim: false'
	same_as_nbdinfo "$nosr"
	assert_line --index 0 \
		'protocol: newstyle-fixed without TLS, using simple packets'
	refute_line --partial 'contexts'
	assert_line $'\tcan_df: false'
	same_as_nbdinfo "$old"
	assert_line --index 0 'protocol: oldstyle without TLS, using simple packets'
}

@test "info: sizes that are not a multiple of 1K have no human form" {
	local size want
	while read -r size want; do
		run_tool 0 nbd-info --no-content -- [ nbdkit null "$size" ]
		assert_line --index 2 $'\texport-size: '"$want"
	done <<-'EOF'
	1        1
	1000     1000
	1536     1536
	1048575  1048575
	1025K    1049600 (1025K)
	3G       3221225472 (3G)
	1E       1152921504606846976 (1E)
	EOF
}

@test "info: block size limits" {
	start_nbdkit srv --filter=blocksize-policy memory 1M \
		blocksize-minimum=512 blocksize-preferred=4096 blocksize-maximum=1M
	same_as_nbdinfo "$srv"
	assert_line $'\tblock_size_minimum: 512'
	assert_line $'\tblock_size_preferred: 4096 (4K)'
	assert_line $'\tblock_size_maximum: 1048576 (1M)'
}

@test "info: qemu-nbd raw with a description, qcow2 with more contexts" {
	require qemu-img --version
	qemu-img create -q -f raw disk.raw 10M
	qemu-img create -q -f qcow2 disk.qcow2 20M
	start_qemu_nbd raw -f raw -D 'my raw disk' disk.raw
	start_qemu_nbd qcow -f qcow2 -A disk.qcow2
	same_as_nbdinfo "$raw"
	assert_line --index 1 'export="":'
	assert_line --index 2 $'\tdescription: my raw disk'
	assert_line $'\texport-size: 10485760 (10M)'
	assert_line $'\tblock_size_preferred: 4096 (4K)'
	same_as_nbdinfo "$qcow"
	assert_line $'\texport-size: 20971520 (20M)'
	assert_line $'\tcontent: data'
	assert_line $'\t\tbase:allocation'
	assert_line $'\t\tqemu:allocation-depth'
}

@test "info: nbd-server export from a config file" {
	require nbd-server -V
	truncate -s 2M disk.img
	start_nbd_server srv "$PWD/disk.img" disk
	# nbd-server gives size 0 in NBD_OPT_INFO; the content probe reads
	# after NBD_OPT_GO, which has the real size, so compare without it.
	same_as_nbdinfo --no-content "$srv"
	assert_line --index 0 \
		'protocol: newstyle-fixed without TLS, using simple packets'
	assert_line --index 1 'export="disk":'
	assert_line $'\tcan_multi_conn: true'
	run_tool 0 nbd-info --size "$srv"
	assert_output 2097152
	run_tool 0 nbd-info "$srv"
	assert_line $'\tcontent: data'
}

@test "info: the content probe names what the first bytes are" {
	qemu-img create -q -f qcow2 img.qcow2 10M
	printf '#!/bin/sh\necho hi\n' >script
	truncate -s 1M script
	same_as_nbdinfo -- [ nbdkit file img.qcow2 ]
	assert_line --regexp $'^\tcontent: QEMU QCOW.* Image \\(v3\\), 10485760 bytes'
	same_as_nbdinfo -- [ nbdkit file script ]
	assert_line --partial $'\tcontent: POSIX shell script'
	same_as_nbdinfo -- [ nbdkit data '@0x1fe 0x55 0xaa' size=1M ]
	assert_line $'\tcontent: DOS/MBR boot sector'
	run_tool 0 nbd-info --no-content -- [ nbdkit file img.qcow2 ]
	refute_line --partial 'content:'
}

@test "info: a failing read leaves the content out, not the export" {
	same_as_nbdinfo -- [ nbdkit --filter=error memory 1M error-pread=EIO \
		error-pread-rate=1 ]
	refute_line --partial 'content:'
	assert_line $'\texport-size: 1048576 (1M)'
}

@test "info: names and descriptions cannot break the layout" {
	start_nbdkit srv --filter=exportname memory 1M \
		default-export=$'new\nline "q" \xc3\xbc' \
		exportdesc=fixed:$'two\nlines\t\x1b[31mred'
	run_tool 0 nbd-info "$srv"
	assert_line --index 1 'export="new\nline \"q\" ü":'
	assert_line --index 2 $'\tdescription: two?lines??[31mred'
	assert_equal "${#lines[@]}" 18
}

@test "info: --size, as text and JSON, on URIs and [ CMD ]" {
	start_nbdkit srv memory 1G
	run_tool 0 nbd-info --size "$srv"
	assert_output 1073741824
	run_tool 0 nbd-info --size --json "$srv"
	assert_output 1073741824
	run -0 nbdinfo --size "$srv"
	assert_output 1073741824
	run_tool 0 nbd-info --size -- [ nbdkit null 0 ]
	assert_output 0
	run_tool 0 nbd-info --size -- [ nbdkit null 1E ]
	assert_output 1152921504606846976
}

@test "info: --size of an export the server refuses is exit 1, stdout empty" {
	start_nbdkit srv --filter=exportname memory 1M exportname-strict=true \
		exportname=a
	run_tool 0 nbd-info --size "${srv/\/\?/\/a?}"
	assert_output 1048576
	run_tool 1 nbd-info --size "${srv/\/\?/\/nope?}"
	assert_output ''
	assert_one_line_error nbd-info 'nbd+unix:///nope?socket='
	run -1 nbdinfo --size "${srv/\/\?/\/nope?}"
	run_tool 1 nbd-info "${srv/\/\?/\/nope?}"
	assert_output ''
	assert_one_line_error nbd-info 'server replied with error'
}

@test "info: colour only when asked for or on a terminal, never in JSON" {
	start_nbdkit srv memory 1M
	run_tool 0 nbd-info --color "$srv"
	assert_line --index 0 \
		$'\e[2mprotocol: newstyle-fixed without TLS, using structured packets\e[0m'
	assert_line --index 1 $'\e[1mexport="":\e[0m'
	assert_line $'\e[32m\tcan_zero: true\e[0m'
	run_tool 0 nbd-info --colours "$srv"
	assert_line --index 1 $'\e[1mexport="":\e[0m'
	run_tool 0 nbd-info "$srv"
	refute_output --partial $'\e['
	run_tool 0 nbd-info --color --no-color "$srv"
	refute_output --partial $'\e['
	run_tool 0 nbd-info --color --json "$srv"
	refute_output --partial $'\e['
	run_tool 0 nbd-info --color --no-colours "$srv"
	refute_output --partial $'\e['
}

@test "info: -v shows libnbd's debug messages on stderr only" {
	run_tool 0 nbd-info -v --size -- [ nbdkit memory 1M ]
	assert_output 1048576
	[[ $stderr == *"libnbd: debug: "* ]] || fail "no debug: $stderr"
}

@test "info: bad endpoints are exit 1 with one line and nothing on stdout" {
	local why
	while IFS='|' read -r why args; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-info $args
		assert_output ''
		assert_one_line_error nbd-info "$why"
	done <<-'EOF'
	unable to parse URI|nbd://[::1
	No such file or directory|nbd+unix:///?socket=/nonexistent/sock
	'[' without a matching ']'|[ nbdkit memory 1M
	']' without a matching '['|]
	empty command|[ ]
	unknown URI scheme|http://example.com/
	cannot be a local file|disk.img
	cannot be '-'|-
	missing NBD-URI|--json
	unexpected argument after the server: extra|nbd://localhost extra
	EOF
}

@test "info: a server that fails to start is exit 1 with stdout empty" {
	run_tool 1 nbd-info -- [ nbdkit nosuchplugin ]
	assert_output ''
	[[ ${stderr_lines[-1]} == "nbd-info: "* ]] || fail "$stderr"
}
