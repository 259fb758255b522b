#!/usr/bin/env bats
# nbd-dump against util-linux hexdump -C on the same bytes: whole
# exports, unaligned ranges, the ends of exports, squashing across reads,
# local files and stdin, colour, closed pipes and usage errors.
# shellcheck disable=SC2030,SC2031,SC2154

load helpers

# same_as_hexdump URI FILE ARGS...: "nbd-dump ARGS URI" prints exactly
# what "hexdump -C ARGS FILE" prints, and nothing on stderr.
same_as_hexdump() {
	local uri=$1 file=$2
	shift 2
	hexdump -C "$@" "$file" >expected
	tool nbd-dump "$@" "$uri" >got 2>err ||
		fail "nbd-dump $* $uri failed: $(cat err)"
	[ ! -s err ] || fail "nbd-dump $* wrote on stderr: $(cat err)"
	diff -u expected got >/dev/null ||
		fail "nbd-dump $* differs from hexdump -C $*: $(diff -u expected got | head -20)"
}

# Every row of a table of "-s N -n N" arguments ("-" for none).
each_range() {
	local uri=$1 file=$2 s n args
	while read -r s n; do
		args=()
		[ "$s" = - ] || args+=(-s "$s")
		[ "$n" = - ] || args+=(-n "$n")
		same_as_hexdump "$uri" "$file" "${args[@]}"
	done
}

# A local copy of an export's bytes, for hexdump.
fetch() {
	nbdcopy "$1" "$2"
}

@test "dump: whole data, pattern and memory exports match hexdump -C" {
	require nbdcopy --version
	start_nbdkit data -r data '"Hello, world!" 10 0 1 2 0x7f 0x80 0xff
		("abcdefghijklmnop") * 5 @^4096 "x" * 100 @8000 0 * 50 "end"'
	fetch "$data" data.img
	same_as_hexdump "$data" data.img

	start_nbdkit pattern -r pattern 256K
	fetch "$pattern" pattern.img
	same_as_hexdump "$pattern" pattern.img

	head -c 20000 /dev/urandom >mem.img
	truncate -s 300000 mem.img
	printf 'tail of the memory export' >>mem.img
	truncate -s 1M mem.img
	start_nbdkit mem memory 1M
	nbdcopy mem.img "$mem"
	same_as_hexdump "$mem" mem.img
}

@test "dump: unaligned -s and -n match hexdump -C" {
	require nbdcopy --version
	head -c 12345 /dev/urandom >mem.img
	truncate -s 40000 mem.img
	head -c 9000 /dev/urandom >>mem.img
	start_nbdkit mem memory 64K
	nbdcopy mem.img "$mem"
	fetch "$mem" got.img
	each_range "$mem" got.img <<-'EOF'
	1 -
	15 -
	17 -
	4095 -
	4097 -
	- 1
	- 15
	- 17
	- 4095
	- 4097
	1 1
	15 17
	17 15
	4095 4097
	4097 4095
	12340 10
	12339 30000
	40001 4097
	EOF
}

@test "dump: ranges at and past the end are clipped as hexdump clips them" {
	require nbdcopy --version
	start_nbdkit data -r data '"0123456789abcdef" * 6 "xyz"'
	fetch "$data" data.img
	# The export is 99 bytes.
	each_range "$data" data.img <<-'EOF'
	90 -
	90 100
	98 1
	99 -
	99 5
	100 -
	1000 1000
	- 99
	- 1000
	- 0
	5 0
	1000 0
	EOF
}

@test "dump: size suffixes and the option synonyms" {
	start_nbdkit pattern -r pattern 64K
	tool nbd-dump -s 1024 -n 2048 "$pattern" >want
	for args in "-s 1k -n 2k" "--offset=1K --length=4s" \
		"--skip=1024 --limit=2048" "-s 2s -n 2048b"; do
		# shellcheck disable=SC2086
		tool nbd-dump $args "$pattern" >got
		cmp want got || fail "nbd-dump $args differs"
	done
}

@test "dump: an empty export prints nothing, a one-byte export one line" {
	start_nbdkit empty -r null 0
	run_tool nbd-dump "$empty"
	assert_output ""
	run_tool nbd-dump -s 5 "$empty"
	assert_output ""

	start_nbdkit one -r data '"A"'
	printf A >one.img
	same_as_hexdump "$one" one.img
	same_as_hexdump "$one" one.img -s 1
	same_as_hexdump "$one" one.img -s 2
}

@test "dump: offsets above 4 GiB match hexdump -C" {
	start_nbdkit big -r data '@0x13ffffff8 "around 5 GiB..." 0 * 40
		"and after" @0x17fffffff "!"' size=6G
	truncate -s 6G big.img
	printf 'around 5 GiB...' | dd of=big.img bs=1 seek=$((0x13ffffff8)) \
		conv=notrunc status=none
	printf 'and after' | dd of=big.img bs=1 seek=$((0x13ffffff8 + 55)) \
		conv=notrunc status=none
	printf '!' | dd of=big.img bs=1 seek=$((0x17fffffff)) \
		conv=notrunc status=none
	each_range "$big" big.img <<-EOF
	$((0x13fffffe0)) 200
	$((0x13ffffff9)) 63
	$((0xfffffff0)) 64
	$((0x17fffffe0)) -
	EOF
}

@test "dump: repeated lines squash across internal read boundaries" {
	require nbdcopy --version
	# Runs of identical lines that cross the 256 KiB reads, with data
	# zeroes next to holes, starting on and off the 16-byte grid.
	{
		head -c 700000 /dev/zero | tr '\0' A
		printf 'B%.0s' {1..17}
		head -c 300000 /dev/zero | tr '\0' A
		head -c 262144 /dev/zero
		head -c 5 /dev/urandom
	} >mix.img
	truncate -s 2M mix.img
	head -c 500000 /dev/zero | tr '\0' A >>mix.img
	start_nbdkit raw -r --filter=noextents file mix.img
	start_nbdkit sparse -r file mix.img
	for uri in "$raw" "$sparse"; do
		each_range "$uri" mix.img <<-'EOF'
		- -
		7 -
		262137 600000
		1262150 1000000
		EOF
	done
}

@test "dump: local files match hexdump -C, holes included" {
	head -c 100000 /dev/urandom >rand.img
	truncate -s 3M sparse.img
	printf 'hello' | dd of=sparse.img bs=1 seek=1500000 conv=notrunc status=none
	each_range rand.img rand.img <<-'EOF'
	- -
	17 4095
	99999 -
	200000 -
	EOF
	each_range sparse.img sparse.img <<-'EOF'
	- -
	1499999 10
	1499990 -
	EOF
}

@test "dump: stdin is read in order and matches hexdump -C" {
	head -c 70000 /dev/urandom >in.img
	printf '\0%.0s' {1..100} >>in.img
	hexdump -C in.img >expected
	tool nbd-dump - <in.img >got
	cmp expected got
	hexdump -C -s 4097 -n 5000 in.img >expected
	# shellcheck disable=SC2002 # stdin must be a pipe, not a file
	cat in.img | tool nbd-dump -s 4097 -n 5000 - >got
	cmp expected got
	# Past the end of the stream: only the end offset, as for a file.
	hexdump -C -s 1M in.img >expected
	# shellcheck disable=SC2002
	cat in.img | tool nbd-dump -s 1M - >got
	cmp expected got
	: | tool nbd-dump - >got
	[ ! -s got ]
}

@test "dump: --color adds only ANSI sequences" {
	require nbdcopy --version
	start_nbdkit data -r data '"text" 0 0 1 0x80 0x7f " " 0 * 40 "more"'
	fetch "$data" data.img
	hexdump -C data.img >expected
	tool nbd-dump --color "$data" >colour
	grep -q $'\e\\[' colour || fail "no colour in --color output"
	sed 's/\x1b\[[0-9;]*m//g' colour >got
	cmp expected got
	# An explicit option wins over NO_COLOR; a pipe gets no colour.
	NO_COLOR=1 tool nbd-dump --colour "$data" | grep -q $'\e\\['
	tool nbd-dump "$data" >plain
	cmp expected plain
	tool nbd-dump --color --no-color "$data" >plain
	cmp expected plain
}

@test "dump: colour by default on a terminal, not with NO_COLOR" {
	require script --version
	start_nbdkit data -r data '"text" 0 1'
	script -qec "$NBDU_BUILD/nbd-dump $data" /dev/null >tty.out
	grep -q $'\e\\[' tty.out
	NO_COLOR=1 script -qec "$NBDU_BUILD/nbd-dump $data" /dev/null >tty.out
	run ! grep -q $'\e\\[' tty.out
}

@test "dump: a closed pipe ends the dump quietly and at once" {
	# A dense terabyte: only stopping at the closed pipe ends this.
	start_nbdkit pattern -r pattern 1T
	timeout 120 "${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-dump" "$pattern" \
		2>err | head -n 2 >out
	[ "${PIPESTATUS[0]}" -eq 141 ] || fail "status ${PIPESTATUS[0]}"
	[ ! -s err ] || fail "stderr: $(cat err)"
	[ "$(wc -l <out)" -eq 2 ]
}

@test "dump: a closed pipe also stops a [ CMD ] server" {
	timeout 120 "${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-dump" -- \
		[ nbdkit -P "$BATS_TEST_TMPDIR/cmd.pid" -r pattern 1T ] \
		2>err | head -n 1 >out
	[ "${PIPESTATUS[0]}" -eq 141 ] || fail "status ${PIPESTATUS[0]}"
	[ ! -s err ] || fail "stderr: $(cat err)"
	[ -s cmd.pid ]
	run ! kill -0 "$(cat cmd.pid)"
}

@test "dump: a failed write to stdout is an error" {
	start_nbdkit pattern -r pattern 1M
	run -1 --separate-stderr bash -c '"$@" >/dev/full' _ \
		"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-dump" "$pattern"
	assert_one_line_error nbd-dump "write error: No space left on device"
}

@test "dump: usage errors are one line and exit 1" {
	while IFS='|' read -r text args; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-dump $args
		assert_one_line_error nbd-dump "$text"
		assert_output ""
	done <<-'EOF'
	--length|--length=1x file.img
	--offset|-s -5 file.img
	--limit|--limit= file.img
	--skip|--skip=99999999999999999999 file.img
	missing|-n 10
	unexpected argument|file.img other.img
	null:|null:
	EOF
}

@test "dump: a missing file is an error naming it" {
	run_tool 1 nbd-dump no-such.img
	assert_one_line_error nbd-dump "no-such.img"
}
