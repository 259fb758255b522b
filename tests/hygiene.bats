#!/usr/bin/env bats
# Process and output hygiene (issue 8, part 4): every tool kills its
# "[ CMD ]" server on every way out (an error, SIGINT, SIGTERM, a closed
# pipe); stdout is checked at exit (/dev/full, closed) and a closed
# stdout is never handed to a socket; numbers are range-checked.
# JSON for any export name is in info-json.bats and hostile.bats.
# shellcheck disable=SC2154

load helpers

# The server of each test writes its pid to a file whose path is unique
# to the test and to the run: it is also the marker pgrep looks for.
marker() {
	echo "$BATS_TEST_TMPDIR/mark-$1.pid"
}

# server_gone NAME: the "[ CMD ]" server that wrote $(marker NAME) ran,
# and no process with that marker on its command line is left.
server_gone() {
	local m pid
	m=$(marker "$1")
	[ -s "$m" ] || fail "$1: the server never started"
	pid=$(cat "$m")
	for _ in $(seq 50); do
		pgrep -f -- "$m" >/dev/null || break
		sleep 0.1
	done
	! pgrep -f -- "$m" >/dev/null ||
		fail "$1: server left running: $(pgrep -a -f -- "$m")"
	! _alive "$pid" || fail "$1: server $pid still alive"
}

# with_cmd TOOL NAME SERVER-ARGS...: the tool's words for "[ CMD ]" of
# nbdkit SERVER-ARGS marked NAME, with the destination for nbd-copy.
with_cmd() {
	local t=$1 n=$2
	shift 2
	# --log=null: the server's own complaints about the client
	# going away would share our stderr.
	words=(-- "[" nbdkit --log=null -P "$(marker "$n")" "$@" "]")
	[ "$t" != nbd-copy ] || words+=(null:)
}

@test "every tool: an error after connecting kills the [ CMD ] server" {
	local t plugin
	for t in nbd-info nbd-dump nbd-stat-map nbd-copy; do
		# nbd-stat-map asks for extents, which pattern does not have.
		plugin=pattern
		[ "$t" != nbd-stat-map ] || plugin=memory
		with_cmd "$t" "$t-err" --filter=error "$plugin" 1M \
			error-pread-rate=1 error-extents-rate=1
		if [ "$t" = nbd-info ]; then
			# nbd-info's only error after connecting is its output.
			run -1 --separate-stderr bash -c '"$@" >/dev/full' _ \
				"${nbdu_wrap[@]}" "$NBDU_BUILD/$t" "${words[@]}"
		else
			run_tool 1 "$t" "${words[@]}"
		fi
		assert_one_line_error "$t" ''
		server_gone "$t-err"
	done
}

# signalled TOOL SIGNAL SERVER-ARGS...: TOOL on a slow "[ CMD ]" server,
# sent SIGNAL once the server runs, must die by SIGNAL (status 128 + its
# number) after saying "interrupted", and leave no server behind.
signalled() {
	local t=$1 sig=$2 n=$1-$2 pid st=0
	shift 2
	with_cmd "$t" "$n" "$@"
	# --foreground: timeout(1) would otherwise signal the whole process
	# group, server included, and the server would not be ours to stop.
	timeout --foreground -k 5 60 "${nbdu_wrap[@]}" "$NBDU_BUILD/$t" \
		"${words[@]}" >/dev/null 2>err &
	pid=$!
	_wait_file "$(marker "$n")"
	sleep 0.2
	kill "-$sig" "$pid"
	wait "$pid" || st=$?
	[ "$st" -eq $((128 + $(kill -l "$sig"))) ] ||
		fail "$t: exit $st after SIG$sig: $(cat err)"
	grep -q "^$t: interrupted\$" err || fail "$t: $(cat err)"
	server_gone "$n"
}

@test "every tool: SIGINT and SIGTERM kill the [ CMD ] server" {
	local sig
	for sig in INT TERM; do
		signalled nbd-info "$sig" --filter=delay pattern 1M delay-read=30
		signalled nbd-dump "$sig" --filter=delay pattern 1M delay-read=30
		signalled nbd-stat-map "$sig" --filter=delay memory 1M \
			delay-extents=30
		signalled nbd-copy "$sig" --filter=delay pattern 1G delay-read=30
	done
}

@test "nbd-copy: a signal stops every worker thread of a multi-conn copy" {
	local pid st sig
	# 128 MiB chunks over four connections: four worker threads,
	# each with reads and block-status requests in flight.
	for sig in INT TERM; do
		# A server per signal: nbdkit 1.32 may abort when a client
		# leaves with replies due, which is not what this checks.
		start_nbdkit src --filter=delay pattern 1T delay-read=200ms
		timeout -k 5 60 "${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" \
			-C 4 -T 4 "$src" null: >/dev/null 2>err &
		pid=$!
		sleep 1
		kill "-$sig" "$pid" || fail "SIG$sig: gone: $(cat err)"
		st=0
		wait "$pid" || st=$?
		[ "$st" -eq $((128 + $(kill -l "$sig"))) ] ||
			fail "SIG$sig: exit $st: $(cat err)"
		[ "$(cat err)" = "nbd-copy: interrupted" ] ||
			fail "SIG$sig: $(cat err)"
	done
}

# closed_pipe TOOL ARGS...: TOOL with stdout a pipe whose reader has
# already gone (no race with a reader that is slow to exit); prints
# the exit status as the shell would give it (141 for SIGPIPE).
closed_pipe() {
	python3 - "${nbdu_wrap[@]}" "$NBDU_BUILD/$1" "${@:2}" <<-'PY'
	import os, subprocess, sys
	r, w = os.pipe()
	os.close(r)
	p = subprocess.run(sys.argv[1:], stdout=w, timeout=60)
	print(128 - p.returncode if p.returncode < 0 else p.returncode)
	PY
}

@test "every tool: a closed pipe on stdout kills the [ CMD ] server quietly" {
	local t st
	for t in nbd-info nbd-dump nbd-stat-map nbd-copy; do
		if [ "$t" = nbd-copy ]; then
			# shellcheck disable=SC2030
			words=(-- "[" nbdkit --log=null -P "$(marker "$t")" \
				pattern 1G "]" -)
		else
			with_cmd "$t" "$t" sparse-random 1G
		fi
		st=$(closed_pipe "$t" "${words[@]}" 2>err)
		# SIGPIPE, or exit 1 with one line; never success.
		case $st in
		141) [ ! -s err ] || fail "$t: stderr after SIGPIPE: $(cat err)" ;;
		1) [ "$(wc -l <err)" -eq 1 ] || fail "$t: $(cat err)" ;;
		*) fail "$t: exit $st: $(cat err)" ;;
		esac
		server_gone "$t"
	done
}

@test "every tool: stdout on /dev/full or closed is exit 1, write error" {
	local t how
	start_nbdkit srv sparse-random 4M
	for how in '>/dev/full' '>&-'; do
		for t in nbd-info nbd-dump nbd-stat-map; do
			run -1 --separate-stderr bash -c "\"\$@\" $how" _ \
				"${nbdu_wrap[@]}" "$NBDU_BUILD/$t" "$srv"
			assert_one_line_error "$t" \
				"write error: No space left on device"
		done
		# The digest, and the data itself, on stdout.
		run -1 --separate-stderr bash -c "\"\$@\" $how" _ \
			"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" --blkhash \
			"$srv" null:
		assert_one_line_error nbd-copy \
			"write error: No space left on device"
		run -1 --separate-stderr bash -c "\"\$@\" $how" _ \
			"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" "$srv" -
		assert_one_line_error nbd-copy ""
		[[ $stderr =~ ^nbd-copy:\ destination:\ stdout:\ (write|zero)\ at\ offset\ 0:\ No\ space\ left\ on\ device$ ]] ||
			fail "$stderr"
	done
}

@test "every tool: a closed stdout or stdin is never reused for a socket" {
	local t pid fd1 fd0
	for t in nbd-info nbd-dump nbd-stat-map nbd-copy; do
		# memory: it has extents, so nbd-stat-map waits too.
		with_cmd "$t" "$t" --filter=delay memory 1M delay-read=30 \
			delay-extents=30
		# Not under timeout(1): $! must be the tool itself.
		# shellcheck disable=SC2031
		"${nbdu_wrap[@]}" "$NBDU_BUILD/$t" "${words[@]}" \
			>&- <&- 2>err &
		pid=$!
		_wait_file "$(marker "$t")"
		# The server is up, so its socket is open in the tool.
		for _ in $(seq 50); do
			find "/proc/$pid/fd" -lname 'socket:*' | grep -q . &&
				break
			sleep 0.1
		done
		fd1=$(readlink "/proc/$pid/fd/1") || fail "$t: gone: $(cat err)"
		fd0=$(readlink "/proc/$pid/fd/0")
		kill -TERM "$pid"
		wait "$pid" || true
		[ "$fd1" = /dev/full ] || fail "$t: fd 1 is $fd1"
		[ "$fd0" = / ] || fail "$t: fd 0 is $fd0"
		server_gone "$t"
	done
}

@test "every tool: every numeric option rejects -1, 2^63, 2^64 and garbage" {
	local t opt v
	: >empty.img
	while read -r t opt; do
		for v in -1 -0 9223372036854775808 18446744073709551616 \
			99999999999999999999999 12x 1.5 0x10 ' 1' '' k; do
			if [[ $opt == *= || $opt == */ ]]; then
				set -- "$opt$v"
			else
				set -- "$opt" "$v"
			fi
			if [ "$t" = nbd-copy ]; then
				run_tool 1 "$t" "$@" empty.img null:
			else
				run_tool 1 "$t" "$@" empty.img
			fi
			assert_output ''
			[ "${#stderr_lines[@]}" -eq 1 ] ||
				fail "$t $*: want one line: $stderr"
			[[ ${stderr_lines[0]} == "$t: --"* ]] ||
				fail "$t $*: the option is not named: $stderr"
		done
	done <<-END
	nbd-copy -C
	nbd-copy --connections=
	nbd-copy -R
	nbd-copy --requests=
	nbd-copy -T
	nbd-copy --threads=
	nbd-copy -S
	nbd-copy --sparse=
	nbd-copy --queue-size=
	nbd-copy --request-size=
	nbd-copy --progress=
	nbd-copy --blkhash=sha256/
	nbd-dump -n
	nbd-dump --length=
	nbd-dump --limit=
	nbd-dump -s
	nbd-dump --offset=
	nbd-dump --skip=
	nbd-stat-map --offset=
	nbd-stat-map --length=
	END
	# --picture= alone means the default width, as a bare --picture.
	for v in -1 0 65537 18446744073709551616 12x; do
		run_tool 1 nbd-stat-map "--picture=$v" empty.img
		assert_one_line_error nbd-stat-map --picture
	done
}

@test "every tool: counts out of their range are refused, the range named" {
	: >empty.img
	while IFS='|' read -r args text; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-copy $args empty.img null:
		assert_one_line_error nbd-copy "$text"
	done <<-END
	-C 0|--connections: '0' out of range [1..1024]
	-C 1025|--connections: '1025' out of range [1..1024]
	-R 65537|--requests: '65537' out of range [1..65536]
	-T 1025|--threads: '1025' out of range [0..1024]
	--queue-size=4G|--queue-size: '4G' out of range [4096..4294967295]
	--request-size=64M|--request-size
	END
}

@test "info: text output is all or nothing too" {
	run_tool 1 nbd-info -- [ nbdkit --filter=exportname memory 1M \
		exportname-strict=true exportname=a ]
	assert_output ''
	run_tool 1 nbd-info --list 'nbd+unix:///?socket=/nonexistent'
	assert_output ''
	run_tool 1 nbd-info -- [ false ]
	assert_output ''
}
