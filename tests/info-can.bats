#!/usr/bin/env bats
# nbd-info --can and --is: the exit status is the answer (0 yes, 2 no,
# 1 error), the same as nbdinfo gives on the same server.
# shellcheck disable=SC2016,SC2154

load helpers

# start_eval VAR SETTINGS...: an nbdkit eval export of 1M zeroes with
# the given can_*/is_* answers: NAME=0 (exit 0: true), NAME=3 (exit 3:
# false), NAME=WORD (prints WORD, for can_fua and can_cache).
start_eval() {
	local var=$1 args=() kv k v
	shift
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		case $v in
		0 | 3) args+=("$k=exit $v") ;;
		*) args+=("$k=echo $v") ;;
		esac
	done
	start_nbdkit "$var" eval get_size='echo 1M' \
		pread='dd if=/dev/zero count=$3 iflag=count_bytes status=none' \
		"${args[@]}"
}

# QUESTION STATUS EVAL-SETTINGS...: one row per answer each flag can give.
can_table() {
	cat <<-'EOF'
	write        0 can_write=0
	write        2 can_write=3
	read-only    0 can_write=3
	read-only    2 can_write=0
	flush        0 can_write=0 can_flush=0
	flush        2 can_write=0 can_flush=3
	trim         0 can_write=0 can_trim=0
	trim         2 can_write=0 can_trim=3
	zero         0 can_write=0 can_zero=0
	zero         2 can_write=3
	fast-zero    0 can_write=0 can_zero=0 can_fast_zero=0
	fast-zero    2 can_write=0 can_zero=0 can_fast_zero=3
	fua          0 can_write=0 can_fua=native
	fua          2 can_write=0 can_fua=none
	cache        0 can_cache=native
	cache        2 can_cache=none
	multi-conn   0 can_multi_conn=0
	multi-conn   2 can_multi_conn=3
	rotational   0 is_rotational=0
	rotational   2 is_rotational=3
	df           0 can_extents=0
	connect      0 can_write=3
	read         0 can_write=3
	tls          2 can_write=3
	structured-reply 0 can_write=3
	EOF
}

@test "info: --can/--is answer each eval flag as nbdinfo does" {
	local q want settings n=0 uri
	# All servers at once: nbdkit takes a second to stop, and teardown
	# stops them together.
	while read -r q want settings; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		start_eval "srv$n" $settings
		uri=srv$n
		run_tool "$want" nbd-info --can "$q" "${!uri}"
		assert_output ''
		[ -z "$stderr" ] || fail "--can $q: stderr: $stderr"
		run_tool "$want" nbd-info --is "$q" "${!uri}"
		if command -v nbdinfo >/dev/null; then
			run -"$want" nbdinfo --can "$q" "${!uri}"
		fi
	done < <(can_table)
}

@test "info: --can block-status needs structured replies and base:allocation" {
	start_nbdkit srv memory 1M
	run_tool 0 nbd-info --can block-status "$srv"
	start_nbdkit nosr --no-sr memory 1M
	run_tool 2 nbd-info --can block-status "$nosr"
	run_tool 2 nbd-info --can structured-reply "$nosr"
	run_tool 2 nbd-info --can df "$nosr"
	run -2 nbdinfo --can df "$nosr"
}

@test "info: --is read-only and --can write on nbdkit -r" {
	start_nbdkit srv -r memory 1M
	run_tool 0 nbd-info --is read-only "$srv"
	run_tool 2 nbd-info --can write "$srv"
	run_tool 2 nbd-info --can trim "$srv"
	run_tool 2 nbd-info --can zero "$srv"
	run -0 nbdinfo --is read-only "$srv"
	run -2 nbdinfo --can write "$srv"
}

@test "info: --can accepts nbdinfo's spellings in any case" {
	start_nbdkit srv memory 1M
	local w want
	while read -r want w; do
		run_tool "$want" nbd-info --can "$w" "$srv"
	done <<-'EOF'
	0 FUA
	0 Multi_Conn
	0 multiconn
	0 fastzero
	0 fast_zero
	2 readonly
	2 read_only
	2 READ-ONLY
	0 structured reply
	0 structured_replies
	0 structured
	0 sr
	0 Block-Status
	0 block_status
	EOF
}

@test "info: --can with an unknown flag is exit 1, without connecting" {
	run_tool 1 nbd-info --can bogus 'nbd+unix:///?socket=/nonexistent'
	assert_output ''
	assert_one_line_error nbd-info "unknown --can or --is option: bogus"
	run_tool 1 nbd-info --is '' 'nbd+unix:///?socket=/nonexistent'
	assert_one_line_error nbd-info "unknown --can or --is option"
}

@test "info: an unreachable server is exit 1 for every question" {
	local q
	for q in connect read write zero tls block-status; do
		run_tool 1 nbd-info --can "$q" 'nbd+unix:///?socket=/nonexistent'
		assert_output ''
		assert_one_line_error nbd-info "No such file or directory"
		run -1 nbdinfo --can "$q" 'nbd+unix:///?socket=/nonexistent'
	done
	run_tool 1 nbd-info --is read-only 'nbd+unix:///?socket=/nonexistent'
}

@test "info: --can on a missing export is exit 1" {
	start_nbdkit srv --filter=exportname memory 1M exportname-strict=true \
		exportname=a
	run_tool 0 nbd-info --can connect "${srv/\/\?/\/a?}"
	run_tool 1 nbd-info --can connect "${srv/\/\?/\/b?}"
	assert_one_line_error nbd-info "b"
	run -1 nbdinfo --can connect "${srv/\/\?/\/b?}"
}

@test "info: --can and --is with a [ CMD ] server" {
	run_tool 0 nbd-info --can write -- [ nbdkit memory 1M ]
	run_tool 2 nbd-info --can write -- [ nbdkit -r memory 1M ]
	run_tool 0 nbd-info --is read-only -- [ nbdkit -r memory 1M ]
}

@test "info: --can cannot be combined with --size or --list" {
	run_tool 1 nbd-info --can write --size 'nbd://x'
	assert_one_line_error nbd-info "you cannot use --can and --size together"
	run_tool 1 nbd-info --list --is tls 'nbd://x'
	assert_one_line_error nbd-info "you cannot use --list and --is together"
}
