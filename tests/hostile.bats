#!/usr/bin/env bats
# Every tool against tests/hostile-server.py, an NBD server that breaks
# one rule of the protocol at a time (issue 8, SPEC 1.2): each run must
# end within a bound, never crash (no death by signal, no sanitizer
# report), and either exit 1 with one line "PROG: ..." or do the safe
# documented thing, never report wrong bytes as a success.

load helpers

HS=$BATS_TEST_DIRNAME/hostile-server.py
SIZE=1048576

# Read replies that break the Structured Reply rules (or the protocol).
READ_BAD=(overlap overlap-same missing-start missing-middle missing-end
	none outside-before outside-after hole-past overflow-offset
	short-chunk huge-chunk bad-hole-size wrong-cookie error
	error-offset-outside disconnect-header disconnect-data simple)
# Block-status replies a client can clip into the right answer.  Those
# that are malformed (SPEC 1.2) are in hostile-extents.bats.
EXT_CLIPPED=(past-request past-end backwards short)
# Block-status replies with no usable answer.
EXT_BAD=(zero-only none wrong-id error empty odd-payload wrong-cookie
	disconnect)

need() {
	[ -x "$NBDU_BUILD/$1" ] || skip "$1 not built yet"
}

have() {
	[ -x "$NBDU_BUILD/$1" ]
}

# hrun TOOL ARGS...: the tool under a time bound; sets status, output,
# stderr and stderr_lines like run_tool, whatever the exit status.
hrun() {
	local t=$1
	shift
	run --separate-stderr timeout -k 5 20 "${nbdu_wrap[@]}" \
		"$NBDU_BUILD/$t" "$@"
}

# (Re)starts the server srv with ARGS, killing the previous one.
serve() {
	local pidf=$BATS_TEST_TMPDIR/srv.pid pid
	if [ -s "$pidf" ]; then
		pid=$(cat "$pidf")
		kill "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	fi
	start_hostile srv "$@"
}

# content FILE [SIZE]: the export's initial bytes, as the server has them.
content() {
	python3 "$HS" --size "${2:-$SIZE}" --write-content "$1"
	hexdump -C "$1" >"$1.hex"
}

# No death by signal, no timeout (124, 137), no sanitizer report.
no_crash() {
	[ "$status" -lt 124 ] ||
		fail "$1: exit status $status (crash or hang); stderr: $stderr"
	[[ $stderr != *Sanitizer* && $stderr != *"runtime error"* ]] ||
		fail "$1: sanitizer report: $stderr"
}

# fails CASE PROG: exit 1 and one line "PROG: ..." on stderr.
fails() {
	no_crash "$1"
	[ "$status" -eq 1 ] ||
		fail "$1: $2 exited $status, want 1; stderr: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ] ||
		fail "$1: want one line on stderr, got: $stderr"
	[[ ${stderr_lines[0]} == "$2: "* ]] ||
		fail "$1: stderr does not start with '$2: ': $stderr"
	[[ $stderr != *"(null)"* ]] || fail "$1: no reason given: $stderr"
}

# succeeds CASE: exit 0 without a crash.
succeeds() {
	no_crash "$1"
	[ "$status" -eq 0 ] || fail "$1: exited $status; stderr: $stderr"
}

# copy_checked CASE URI: nbd-copy URI to a file: exit 1 with one line,
# or exit 0 with exactly the export's bytes.
copy_checked() {
	rm -f out.img
	hrun nbd-copy "$2" out.img
	if [ "$status" -eq 0 ]; then
		cmp -s out.img expect.img ||
			fail "$1: nbd-copy exited 0 with wrong bytes"
	else
		fails "$1" nbd-copy
	fi
}

# dump_checked CASE URI: nbd-dump: exit 1 with one line, or exit 0 with
# exactly hexdump -C of the export.
dump_checked() {
	hrun nbd-dump "$2"
	if [ "$status" -eq 0 ]; then
		[ "$output" = "$(cat expect.img.hex)" ] ||
			fail "$1: nbd-dump exited 0 with wrong bytes"
	else
		fails "$1" nbd-dump
	fi
}

@test "hostile-server: good mode passes nbdinfo, nbdinfo --map and nbdcopy" {
	require nbdinfo --version
	require nbdcopy --version
	content expect.img
	serve --name disk --desc "a test"
	run -0 nbdinfo --json "$srv"
	[[ $output == *'"export-size": 1048576'* ]]
	run -0 nbdinfo --map "$srv"
	[ "${#lines[@]}" -eq 16 ]
	[[ ${lines[0]} =~ ^\ +0\ +65536\ +0\ +data$ ]]
	[[ ${lines[1]} =~ ^\ +65536\ +65536\ +3\ +hole,zero$ ]]
	run -0 nbdcopy "$srv" out.img
	cmp out.img expect.img
	# Writes land, and a write is read back.
	head -c $SIZE /dev/urandom >rnd.img
	run -0 nbdcopy rnd.img "$srv"
	run -0 nbdcopy "$srv" back.img
	cmp rnd.img back.img
}

@test "nbd-dump: broken read replies exit 1 with one line, never bytes" {
	need nbd-dump
	for m in "${READ_BAD[@]}"; do
		serve --read "$m"
		hrun nbd-dump "$srv"
		fails "--read $m" nbd-dump
	done
}

@test "nbd-copy: broken read replies exit 1 with one line, never success" {
	need nbd-copy
	for m in "${READ_BAD[@]}"; do
		serve --read "$m"
		hrun nbd-copy "$srv" out.img
		fails "--read $m" nbd-copy
		hrun nbd-copy "$srv" null:
		fails "--read $m, to null:" nbd-copy
	done
}

@test "nbd-info: broken read replies leave out the content line, exit 0" {
	need nbd-info
	for m in "${READ_BAD[@]}"; do
		# The probe reads at 0, where there is nothing before to send.
		[ "$m" != outside-before ] || continue
		serve --read "$m"
		hrun nbd-info "$srv"
		succeeds "--read $m"
		[[ $output != *content:* ]] ||
			fail "--read $m: content line from a broken read: $output"
	done
}

@test "nbd-dump, nbd-copy: read coverage errors name the offset" {
	need nbd-dump
	for m in overlap missing-start missing-middle missing-end none; do
		serve --read "$m"
		for t in nbd-dump nbd-copy; do
			have "$t" || continue
			to=()
			[ $t = nbd-dump ] || to=(null:)
			hrun "$t" "$srv" "${to[@]}"
			fails "--read $m" "$t"
			case $m in
			overlap) want="overlapping read chunks, at offset 0" ;;
			missing-start|none) want="did not send the bytes at offset 0" ;;
			missing-middle) want="did not send the bytes at offset 32768" ;;
			missing-end) want="did not send the bytes at offset 65024" ;;
			esac
			[[ $stderr == *"$want"* ]] ||
				fail "$t --read $m: want '$want': $stderr"
		done
	done
}

@test "nbd-dump, nbd-copy: protocol errors carry libnbd's reason" {
	need nbd-dump
	local -A want=(
		[outside-after]="out of bounds"
		[hole-past]="out of bounds"
		[overflow-offset]="out of bounds"
		[error-offset-outside]="out of bounds"
		[short-chunk]="too short"
		# The server hangs up after the bad reply: libnbd may fail
		# sending the next request before it reads that reply.
		[huge-chunk]="invalid server reply length|send: Broken pipe"
		[bad-hole-size]="invalid length"
		[wrong-cookie]="cookie"
		[simple]="unexpected simple reply"
		[disconnect-data]="nbd_aio_"
	)
	for m in "${!want[@]}"; do
		serve --read "$m"
		for t in nbd-dump nbd-copy; do
			have "$t" || continue
			to=()
			[ $t = nbd-dump ] || to=(null:)
			hrun "$t" "$srv" "${to[@]}"
			fails "--read $m" "$t"
			[[ $stderr =~ ${want[$m]} ]] ||
				fail "$t --read $m: want '${want[$m]}': $stderr"
		done
	done
}

@test "nbd-dump, nbd-copy: an empty data chunk before the data is harmless" {
	need nbd-dump
	content expect.img
	serve --read empty-data
	dump_checked "--read empty-data" "$srv"
	if have nbd-copy; then
		copy_checked "--read empty-data" "$srv"
	fi
}

@test "nbd-stat-map: block-status replies past or repeated are clipped" {
	need nbd-stat-map
	serve
	hrun nbd-stat-map "$srv"
	succeeds good
	local good=$output
	hrun nbd-stat-map --json --totals "$srv"
	local totals=$output
	hrun nbd-stat-map --offset 1000 --length 70000 "$srv"
	local sub=$output
	[ "$sub" = "$(printf '%10s  %10s  %3s  %s\n' 1000 64536 0 data \
		65536 5464 3 hole,zero)" ] || fail "sub-range map: $sub"
	for m in "${EXT_CLIPPED[@]}"; do
		serve --extents "$m"
		hrun nbd-stat-map "$srv"
		succeeds "--extents $m"
		[ "$output" = "$good" ] || fail "--extents $m: map: $output"
		hrun nbd-stat-map --json --totals "$srv"
		[ "$output" = "$totals" ] || fail "--extents $m: totals: $output"
		hrun nbd-stat-map --offset 1000 --length 70000 "$srv"
		[ "$output" = "$sub" ] || fail "--extents $m: sub-range: $output"
	done
}

@test "nbd-stat-map: block-status replies with no answer exit 1 with one line" {
	need nbd-stat-map
	for m in "${EXT_BAD[@]}"; do
		serve --extents "$m"
		hrun nbd-stat-map "$srv"
		fails "--extents $m" nbd-stat-map
	done
}

@test "nbd-stat-map: unknown extent flags are printed, not trusted" {
	need nbd-stat-map
	serve --extents odd-flags
	hrun nbd-stat-map "$srv"
	succeeds "--extents odd-flags"
	[[ $output == *" 0 "*" $SIZE "*4294967295* ]] || fail "map: $output"
	hrun nbd-stat-map --json --totals "$srv"
	succeeds "--extents odd-flags --json --totals"
	python3 -m json.tool <<<"$output" >/dev/null
}

@test "nbd-dump: hostile block-status replies give the right bytes or exit 1" {
	need nbd-dump
	content expect.img
	for m in "${EXT_CLIPPED[@]}" "${EXT_BAD[@]}" huge; do
		serve --extents "$m"
		dump_checked "--extents $m" "$srv"
	done
	for m in "${EXT_CLIPPED[@]}" huge; do
		serve --extents "$m"
		hrun nbd-dump "$srv"
		succeeds "--extents $m"
	done
}

@test "nbd-copy: hostile block-status replies give the right bytes or exit 1" {
	need nbd-copy
	content expect.img
	for m in "${EXT_CLIPPED[@]}" "${EXT_BAD[@]}" huge; do
		serve --extents "$m"
		copy_checked "--extents $m" "$srv"
	done
	for m in "${EXT_CLIPPED[@]}" huge; do
		serve --extents "$m"
		rm -f out.img
		hrun nbd-copy "$srv" out.img
		succeeds "--extents $m"
	done
}

@test "nbd-info: sizes 0, 1 and 2^63-1 are exact; 2^63 and 2^64-1 are errors" {
	need nbd-info
	local -A want=([0]=0 [1]=1 ['2^63-1']=9223372036854775807)
	for z in 0 1 '2^63-1'; do
		serve --size "$z"
		hrun nbd-info --size "$srv"
		succeeds "--size $z"
		[ "$output" = "${want[$z]}" ] || fail "size $z: $output"
		hrun nbd-info --json "$srv"
		succeeds "--size $z --json"
		python3 -m json.tool <<<"$output" >/dev/null
		[[ $output == *"\"export-size\": ${want[$z]},"* ]] ||
			fail "size $z: $output"
	done
	for z in '2^63' '2^64-1'; do
		serve --size "$z"
		for args in --size --json ""; do
			# shellcheck disable=SC2086
			hrun nbd-info $args "$srv"
			fails "--size $z, nbd-info $args" nbd-info
			[[ $output != *-922337* && $stderr != *-922337* ]] ||
				fail "negative size: $output $stderr"
		done
	done
}

@test "nbd-stat-map: odd and huge export sizes map exactly, never past the end" {
	need nbd-stat-map
	serve --size 0
	hrun nbd-stat-map "$srv"
	succeeds "size 0"
	[ "$output" = "" ] || fail "size 0: $output"
	serve --size 1
	hrun nbd-stat-map "$srv"
	succeeds "size 1"
	[ "$output" = "$(printf '%10s  %10s  %3s  %s' 0 1 0 data)" ] ||
		fail "size 1: $output"
	serve --size 65537
	hrun nbd-stat-map "$srv"
	succeeds "size 65537"
	[ "$output" = "$(printf '%10s  %10s  %3s  %s\n' 0 65536 0 data \
		65536 1 3 hole,zero)" ] || fail "size 65537: $output"
	# The last 256 KiB of a 2^63-1 byte export.
	serve --size '2^63-1'
	hrun nbd-stat-map --offset 9223372036854513664 "$srv"
	succeeds "size 2^63-1"
	[ "${#lines[@]}" -eq 4 ] || fail "size 2^63-1: $output"
	[[ ${lines[3]} =~ ^\ *9223372036854710272\ +65535\ +3\ +hole,zero$ ]] ||
		fail "size 2^63-1: $output"
	for z in '2^63' '2^64-1'; do
		serve --size "$z"
		hrun nbd-stat-map "$srv"
		fails "size $z" nbd-stat-map
		[[ $output != *-* ]] || fail "size $z: $output"
	done
}

@test "nbd-dump: odd and huge export sizes dump exactly" {
	need nbd-dump
	serve --size 0
	hrun nbd-dump "$srv"
	succeeds "size 0"
	[ "$output" = "" ] || fail "size 0: $output"
	for z in 1 65537; do
		content expect.img "$z"
		serve --size "$z"
		dump_checked "size $z" "$srv"
		succeeds "size $z"
	done
	# 16 data bytes then 16 zero bytes just below 2^63 - 64 KiB.
	serve --size '2^63-1'
	hrun nbd-dump -s 9223372036854710256 -n 32 "$srv"
	succeeds "size 2^63-1"
	[ "${lines[0]}" = "7ffffffffffefff0  $(python3 -c '
o = 9223372036854710256
b = [(o + i) % 251 + 1 for i in range(16)]
print(" ".join("%02x" % x for x in b[:8]) + "  " +
      " ".join("%02x" % x for x in b[8:]) + "  |" +
      "".join(chr(x) if 32 <= x < 127 else "." for x in b) + "|")')" ] ||
		fail "size 2^63-1: $output"
	[ "${lines[1]}" = "7fffffffffff0000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|" ] ||
		fail "size 2^63-1: $output"
	[ "${lines[2]}" = 7fffffffffff0010 ] || fail "size 2^63-1: $output"
	for z in '2^63' '2^64-1'; do
		serve --size "$z"
		hrun nbd-dump -n 16 "$srv"
		fails "size $z" nbd-dump
	done
}

@test "nbd-copy: odd export sizes copy exactly; 2^63 and more are errors" {
	need nbd-copy
	for z in 0 1 65537; do
		content expect.img "$z"
		serve --size "$z"
		rm -f out.img
		hrun nbd-copy "$srv" out.img
		succeeds "size $z"
		cmp out.img expect.img
	done
	for z in '2^63' '2^64-1'; do
		serve --size "$z"
		hrun nbd-copy "$srv" out.img
		fails "size $z" nbd-copy
		hrun nbd-copy "$srv" null:
		fails "size $z, to null:" nbd-copy
	done
}

@test "nbd-info: names and descriptions with control bytes and invalid UTF-8" {
	need nbd-info
	serve --name 'a\x1b[31mred\xff\x01' --name 'b\xc3\x28\x7f' \
		--desc 'd\x1b]0;title\x07\xfe\x0a\xf0\x9f\x98\x80\xc2\x9b'
	hrun nbd-info --list --json "$srv"
	succeeds "--list --json"
	python3 -m json.tool <<<"$output" >/dev/null ||
		fail "--list --json is not JSON: $output"
	run python3 -c '
import json, sys
d = json.load(sys.stdin)
print("|".join(e["export-name"] + "=" + e["description"]
               for e in d["exports"]))' <<<"$output"
	[ "$output" = $'a\e[31mred\ufffd\x01=d\e]0;title\a\ufffd\n\U0001F600\u009b|b\ufffd(\x7f=d\e]0;title\a\ufffd\n\U0001F600\u009b' ] ||
		fail "decoded: $output"
	hrun nbd-info --json "$srv"
	succeeds "--json"
	python3 -m json.tool <<<"$output" >/dev/null ||
		fail "--json is not JSON: $output"
	# Text output: no control character, C0 or C1, but the tabs and
	# newlines of the layout reaches the terminal.
	for args in --list ""; do
		hrun nbd-info $args "$srv"
		succeeds "nbd-info $args"
		! LC_ALL=C grep -qE $'[\x01-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' \
			<<<"$output" ||
			fail "raw control bytes in nbd-info $args: $(od -c <<<"$output")"
		[[ $output == *'d?]0;title???'* ]] ||
			fail "description not shown safely: $(od -c <<<"$output")"
	done
}

@test "nbd-info: export list replies with bad lengths exit 1 with one line" {
	need nbd-info
	for h in list-huge list-bad-name-len; do
		serve --handshake "$h" --name a --name b
		hrun nbd-info --list "$srv"
		fails "--handshake $h" nbd-info
		hrun nbd-info --list --json "$srv"
		no_crash "--handshake $h --json"
		[ "$status" -eq 1 ] || fail "--handshake $h: exit $status"
	done
}

@test "every tool: a broken handshake exits 1 with one line" {
	need nbd-info
	for h in bad-magic disconnect-go; do
		serve --handshake "$h"
		for t in nbd-info nbd-dump nbd-stat-map nbd-copy; do
			have "$t" || continue
			if [ $t = nbd-copy ]; then
				hrun "$t" "$srv" null:
			else
				hrun "$t" "$srv"
			fi
			fails "--handshake $h" "$t"
		done
	done
}

@test "every tool: servers without structured replies, contexts or INFO work" {
	need nbd-info
	content expect.img
	for h in no-sr no-meta no-info block-size-odd block-size-huge \
		block-size-zero block-size-strict; do
		serve --handshake "$h"
		hrun nbd-info "$srv"
		succeeds "--handshake $h"
		if have nbd-dump; then
			dump_checked "--handshake $h" "$srv"
			succeeds "--handshake $h"
			hrun nbd-dump -s 4097 -n 100 "$srv"
			succeeds "--handshake $h, unaligned"
			[ "$output" = "$(hexdump -C -s 4097 -n 100 expect.img)" ] ||
				fail "--handshake $h: unaligned dump: $output"
		fi
		if have nbd-copy; then
			copy_checked "--handshake $h" "$srv"
			succeeds "--handshake $h"
		fi
		if have nbd-stat-map; then
			hrun nbd-stat-map "$srv"
			succeeds "--handshake $h"
			[ "${#lines[@]}" -ge 1 ] || fail "--handshake $h: no map"
		fi
	done
}

@test "every tool: slow and trickled replies still give the right bytes" {
	need nbd-info
	content expect.img 131072
	for mode in "--delay 0.2" "--read trickle"; do
		# shellcheck disable=SC2086
		serve --size 131072 $mode
		hrun nbd-info "$srv"
		succeeds "$mode"
		[[ $output == *"content: data"* ]] || fail "$mode: $output"
		if have nbd-dump; then
			dump_checked "$mode" "$srv"
			succeeds "$mode"
		fi
		if have nbd-copy; then
			copy_checked "$mode" "$srv"
			succeeds "$mode"
		fi
		if have nbd-stat-map; then
			hrun nbd-stat-map "$srv"
			succeeds "$mode"
			[ "${#lines[@]}" -eq 2 ] || fail "$mode: $output"
		fi
	done
}

# stalled TOOL ARGS...: the tool, sent SIGTERM after 1 s, must end at
# once, by that signal (SPEC 1.3: 143 after cleaning up).
stalled() {
	run --separate-stderr timeout -k 5 -s TERM --preserve-status 1 \
		"${nbdu_wrap[@]}" "$NBDU_BUILD/$@"
	[ "$status" -eq 143 ] || fail "$1: exit $status after SIGTERM: $stderr"
	[ "$stderr" = "$1: interrupted" ] || fail "$1 stalled: $stderr"
}

@test "every tool: SIGTERM ends a run stalled on a silent server" {
	need nbd-info
	serve --read stall
	stalled nbd-info "$srv"
	if have nbd-dump; then stalled nbd-dump "$srv"; fi
	if have nbd-copy; then stalled nbd-copy "$srv" null:; fi
	serve --extents stall
	if have nbd-dump; then stalled nbd-dump "$srv"; fi
	if have nbd-copy; then stalled nbd-copy "$srv" null:; fi
	if have nbd-stat-map; then stalled nbd-stat-map "$srv"; fi
}

@test "nbd-copy: a destination that fails, lies about cookies or hangs up" {
	need nbd-copy
	head -c $SIZE /dev/urandom >src.img
	for m in error wrong-cookie disconnect; do
		serve --write "$m"
		hrun nbd-copy src.img "$srv"
		fails "--write $m" nbd-copy
	done
}
