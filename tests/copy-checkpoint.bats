#!/usr/bin/env bats
# nbd-copy --checkpoint=FILE (issue 14 items 3-5): copies killed at random
# moments resume from FILE and end byte-identical with the right blkhash;
# every checkpoint written along the way claims only bytes that are in
# the destination; a checkpoint of another copy, or a corrupt one, is
# refused; SIGINT leaves a truthful checkpoint; progress starts from the
# done share.
# shellcheck disable=SC2154

load helpers

# The source: sparse-random (data and holes) behind the delay filter, so
# that kills land mid-copy.  nbdkit 1.32 may abort when a client dies
# in the middle of its replies, so every run gets a server of its own
# on the same socket (the same URI, as a resume needs).
SRC_ARGS=(sparse-random 64M seed=7 percent=30 runlength=65536)

# slow_src [DELAY]: (re)starts the slow source as $slow.  The old one
# takes a while to end: it is left to teardown, which waits for it.
slow_src() {
	[ ! -s "$BATS_TEST_TMPDIR/slow.pid" ] ||
		kill "$(cat "$BATS_TEST_TMPDIR/slow.pid")" 2>/dev/null || true
	start_nbdkit slow --filter=delay "${SRC_ARGS[@]}" \
		delay-read="${1:-150ms}" delay-extents=20ms
}

# dst_server: (re)starts nbdkit's file plugin on dst.img as $dsrv.
dst_server() {
	stop_server dsrv
	start_nbdkit dsrv file dst.img
}

# stop_server VAR: stops the server start_nbdkit VAR started, if any.
stop_server() {
	local pidf=$BATS_TEST_TMPDIR/$1.pid pid
	[ -s "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		_alive "$pid" || break
		sleep 0.05
	done
	rm -f "$pidf"
}

# reference: the source copied straight to ref.img; its blkhash in $want.
reference() {
	start_nbdkit fast "${SRC_ARGS[@]}"
	run_tool nbd-copy --blkhash "$fast" ref.img
	want=$output
}

# check_claims CKPT REF DST: every "done OFFSET LENGTH" line of CKPT
# names bytes that are the same in DST as in REF.  Prints the bytes
# claimed.
check_claims() {
	local key off len total=0
	while read -r key off len; do
		[ "$key" = done ] || continue
		cmp -s -i "$off:$off" -n "$len" "$2" "$3" ||
			{ echo "claimed $off+$len is not in $3"; return 1; }
		total=$((total + len))
	done <"$1"
	echo "$total"
}

# kill_copies N MAX-TENTHS OPTIONS...: N runs of nbd-copy --checkpoint=ck
# OPTIONS from the slow source to dst.img (to $dsrv with nbd_dst set),
# each SIGKILLed after a random 0 to MAX/10 s, servers restarted for
# each; after each, the claims are checked.  A run without ck to resume
# from waits for its first checkpoint before its random time, so some
# are always claimed.  Sets claimed to the most bytes a checkpoint
# claimed.  The callers' delays make a whole copy last 10 s or so: one
# expected to end within 5 s is never checkpointed (ckpt-schedule.h).
kill_copies() {
	local n=$1 max=$2 pid st bytes dst=dst.img
	shift 2
	claimed=0
	for _ in $(seq "$n"); do
		slow_src "${delay:-}"
		if [ -n "${nbd_dst:-}" ]; then
			dst_server
			dst=$dsrv
		fi
		"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" --checkpoint=ck "$@" \
			"$slow" "$dst" >/dev/null 2>err &
		pid=$!
		until [ -e ck ] || ! _alive "$pid"; do
			sleep 0.05
		done
		sleep "$(awk -v r=$((RANDOM % (max + 1))) 'BEGIN { print r / 10 }')"
		kill -9 "$pid" 2>/dev/null || true
		st=0
		wait "$pid" || st=$?
		# A run may finish first: then FILE is gone and the next starts
		# over, which is right too.
		[ "$st" = 137 ] || [ "$st" = 0 ] || fail "status $st: $(cat err)"
		[ -e ck ] || continue
		stop_server dsrv
		bytes=$(check_claims ck ref.img dst.img) || fail "$bytes"
		[ "$bytes" -le "$claimed" ] || claimed=$bytes
	done
}

@test "copy: --checkpoint: SIGKILLed at 20 random moments, resumed exactly" {
	local delay=600ms
	reference
	kill_copies 20 20 --blkhash
	[ "$claimed" -gt 0 ] || fail "no checkpoint ever claimed a byte"
	slow_src
	run_tool nbd-copy --checkpoint=ck --blkhash "$slow" dst.img
	assert_output "$want"
	cmp ref.img dst.img
	[ ! -e ck ]
	# Nothing else is left beside it either.
	[ ! -e ck.tmp ]
}

@test "copy: --checkpoint: -C 4 multi-conn into an NBD destination" {
	# Workers take 128 MiB at a time: 4 of them need 512 MiB.
	SRC_ARGS=(sparse-random 512M seed=7 percent=8 runlength=65536)
	local delay=1000ms
	reference
	truncate -s 512M dst.img
	nbd_dst=1
	kill_copies 6 20 -C 4 -T 4 --blkhash
	[ "$claimed" -gt 0 ] || fail "no checkpoint ever claimed a byte"
	slow_src
	dst_server
	run_tool nbd-copy --checkpoint=ck -C 4 -T 4 --blkhash "$slow" "$dsrv"
	assert_output "$want"
	stop_server dsrv
	cmp ref.img dst.img
	[ ! -e ck ]
}

@test "copy: --checkpoint: --synchronous, into a file and into NBD" {
	local delay=30ms
	reference
	kill_copies 4 20 --synchronous --blkhash
	[ "$claimed" -gt 0 ] || fail "no checkpoint ever claimed a byte"
	slow_src 6ms
	run_tool nbd-copy --checkpoint=ck --synchronous --blkhash "$slow" dst.img
	assert_output "$want"
	cmp ref.img dst.img
	[ ! -e ck ]

	rm dst.img
	truncate -s 64M dst.img
	nbd_dst=1
	kill_copies 4 20 --synchronous
	[ "$claimed" -gt 0 ] || fail "no checkpoint ever claimed a byte"
	slow_src 6ms
	dst_server
	run_tool nbd-copy --checkpoint=ck --synchronous "$slow" "$dsrv"
	stop_server dsrv
	cmp ref.img dst.img
	[ ! -e ck ]
}

# interrupted_copy: a copy into dst.img stopped by SIGINT once it has
# copied something, leaving ck behind.
interrupted_copy() {
	local pid st=0
	slow_src
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" --checkpoint=ck "$@" "$slow" \
		dst.img 2>err &
	pid=$!
	sleep 1.5
	kill -INT "$pid"
	wait "$pid" || st=$?
	[ "$st" = 130 ] || fail "status $st: $(cat err)"
	[ "$(cat err)" = "nbd-copy: interrupted" ]
	[ -s ck ] || fail "no checkpoint after SIGINT"
}

@test "copy: --checkpoint: SIGINT leaves a truthful checkpoint, a rerun ends it" {
	local bytes
	reference
	interrupted_copy
	bytes=$(check_claims ck ref.img dst.img) || fail "$bytes"
	[ "$bytes" -gt 0 ]
	[ "$bytes" -lt $((64 << 20)) ]
	slow_src
	run_tool nbd-copy --checkpoint=ck "$slow" dst.img
	[ -z "$stderr" ]
	cmp ref.img dst.img
	[ ! -e ck ]
}

# The last checkpoint of a signal claims only after a flush, and an NBD
# flush is a command that must be let finish: cut at the signal, it
# claimed nothing (the signal is sent as soon as bytes are written,
# before the saver's first periodic save).
@test "copy: --checkpoint: SIGINT into an NBD destination flushes, then claims" {
	local pid st=0 bytes
	reference
	truncate -s 64M dst.img
	dst_server
	slow_src
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" --checkpoint=ck "$slow" \
		"$dsrv" 2>err &
	pid=$!
	for _ in $(seq 200); do
		[ "$(du -k dst.img | cut -f1)" -gt 0 ] && break
		sleep 0.05
	done
	kill -INT "$pid"
	wait "$pid" || st=$?
	[ "$st" = 130 ] || fail "status $st: $(cat err)"
	[ "$(cat err)" = "nbd-copy: interrupted" ]
	[ -s ck ] || fail "no checkpoint after SIGINT"
	bytes=$(check_claims ck ref.img dst.img) || fail "$bytes"
	[ "$bytes" -gt 0 ]
	slow_src
	run_tool nbd-copy --checkpoint=ck "$slow" "$dsrv"
	cmp ref.img dst.img
	[ ! -e ck ]
}

@test "copy: --checkpoint of another copy is refused, the field named" {
	local before sum
	reference
	interrupted_copy
	before=$(md5sum <ck)
	sum=$(md5sum <dst.img)
	cp dst.img other.img
	slow_src
	# refuse EXPECTED-FIELD ARGS...: exit 1, one line naming the field.
	refuse() {
		local field=$1
		shift
		run_tool 1 nbd-copy --checkpoint=ck "$@"
		assert_one_line_error nbd-copy \
			"--checkpoint: ck: not this copy's checkpoint: $field differs"
	}
	refuse source "$fast" dst.img
	refuse destination "$slow" other.img
	refuse allocated --allocated "$slow" dst.img
	refuse sparse -S 64k "$slow" dst.img
	refuse blkhash --blkhash=md5 "$slow" dst.img
	refuse blkhash --check="$want" "$slow" dst.img
	# The same socket, another size: the size says it is another disk.
	stop_server slow
	start_nbdkit slow sparse-random 32M seed=7
	refuse source-size "$slow" dst.img
	[ "$(md5sum <ck)" = "$before" ]
	[ "$(md5sum <dst.img)" = "$sum" ]
	[ "$(md5sum <other.img)" = "$sum" ]
}

@test "copy: --checkpoint: a destination of another size is refused" {
	reference
	interrupted_copy
	truncate -s 300M dst.img
	slow_src
	run_tool 1 nbd-copy --checkpoint=ck "$slow" dst.img
	assert_one_line_error nbd-copy \
		"--checkpoint: ck: not this copy's checkpoint: destination-size differs"
	[ "$(stat -c %s dst.img)" = $((300 << 20)) ]
}

@test "copy: --checkpoint: a corrupt or unreadable checkpoint is an error" {
	local sum
	reference
	interrupted_copy
	sum=$(md5sum <dst.img)
	slow_src
	# One byte of the first "done" line changed: 0 <-> 1 in its offset.
	sed -i '0,/^done /s/^done \([0-9]*\)0 /done \11 /; t; 0,/^done /s/^done \([0-9]*\)[1-9] /done \10 /' ck
	run_tool 1 nbd-copy --checkpoint=ck "$slow" dst.img
	assert_one_line_error nbd-copy "--checkpoint: ck: not a checkpoint, or corrupt"
	[ "$(md5sum <dst.img)" = "$sum" ]
	mkdir dir
	run_tool 1 nbd-copy --checkpoint=dir "$slow" dst.img
	assert_one_line_error nbd-copy "--checkpoint: dir: Is a directory"
	[ "$(md5sum <dst.img)" = "$sum" ]
}

@test "copy: --checkpoint refuses streams and null:" {
	start_nbdkit src data '"hello"'
	echo hello >in
	run_tool 1 nbd-copy --checkpoint=ck - out.img <in
	assert_one_line_error nbd-copy \
		"--checkpoint: the source must be a file, device or NBD export, not a stream"
	run_tool 1 nbd-copy --checkpoint=ck "$src" null:
	assert_one_line_error nbd-copy \
		"--checkpoint: the destination must be a file, device or NBD export"
	run_tool 1 nbd-copy --checkpoint=ck "$src" -
	assert_one_line_error nbd-copy \
		"--checkpoint: the destination must be a file, device or NBD export"
	[ ! -e ck ] && [ ! -e out.img ]
}

@test "copy: --checkpoint: a straight copy leaves no FILE, --verify and --check pass" {
	reference
	run_tool nbd-copy --checkpoint=ck --verify --check="$want" "$fast" dst.img
	[ -z "$stderr" ]
	cmp ref.img dst.img
	[ ! -e ck ]
}

@test "copy: --checkpoint: a resumed copy's --check, --verify and progress count the done part" {
	local bytes share
	reference
	interrupted_copy --check="$want"
	bytes=$(check_claims ck ref.img dst.img)
	share=$((bytes * 100 / (64 << 20)))
	[ "$share" -gt 0 ]
	slow_src 20ms
	run_tool nbd-copy --checkpoint=ck --check="$want" --verify --progress=3 \
		"$slow" dst.img 3>progress
	[ -z "$stderr" ]
	cmp ref.img dst.img
	# Every line, the first included, starts from the done share.
	[ "$(tail -1 progress)" = 100/100 ]
	[ "$(wc -l <progress)" -gt 2 ] || fail "no progress lines: $(cat progress)"
	while IFS=/ read -r n _; do
		[ "$n" -ge "$share" ] || fail "progress $n/100 below $share"
	done <progress
}

# A resume takes up the blkhash's state that the checkpoint kept (the
# outer hash after a done prefix), so that prefix of the source is not
# read again; the digest is still the straight copy's.
@test "copy: --checkpoint --blkhash: a resume reads nothing before the kept hash state" {
	local bytes state first
	reference
	interrupted_copy --blkhash
	bytes=$(check_claims ck ref.img dst.img) || fail "$bytes"
	state=$(awk '$1 == "blkhash-state" { print $2 }' ck)
	[ -n "$state" ] || fail "no blkhash-state: $(cat ck)"
	[ "$state" -gt 0 ] && [ "$state" -le "$bytes" ] ||
		fail "state at $state, $bytes claimed"
	kill "$(cat "$BATS_TEST_TMPDIR/slow.pid")"
	start_nbdkit slow --filter=log --filter=delay "${SRC_ARGS[@]}" \
		delay-read=20ms logfile="$BATS_TEST_TMPDIR/reads.log"
	run_tool nbd-copy --checkpoint=ck --blkhash "$slow" dst.img
	assert_output "$want"
	cmp ref.img dst.img
	first=$(awk '/ Read / { for (i = 1; i <= NF; i++)
		if ($i ~ /^offset=/) { sub(/^offset=/, "", $i); print $i } }' \
		"$BATS_TEST_TMPDIR/reads.log" | sort -u |
		while read -r x; do echo $((x)); done | sort -n | head -1)
	[ -n "$first" ] || fail "the resume read nothing"
	[ "$first" -ge "$state" ] || fail "read at $first, state at $state"
}

# A state that is no state of the hash (one digit short), in a file
# sealed again with its digest, is refused before anything is written.
@test "copy: --checkpoint --blkhash: a kept hash state that does not fit is an error" {
	local before
	reference
	interrupted_copy --blkhash
	grep -q '^blkhash-state ' ck || fail "no blkhash-state: $(cat ck)"
	sed -i -e '/^blkhash-state /s/.$//' -e '/^sha256 /d' ck
	echo "sha256 $(sha256sum <ck | cut -d' ' -f1)" >>ck
	before=$(sha256sum <dst.img)
	slow_src 20ms
	run_tool 1 nbd-copy --checkpoint=ck --blkhash "$slow" dst.img
	assert_one_line_error nbd-copy "--checkpoint: ck: corrupt: its blkhash-state is not a state of sha256/65536"
	[ "$(sha256sum <dst.img)" = "$before" ]
}

# selected_setup: the ranges of r.txt, dst.img all poison (0xee), and
# expected.img: the poison with ref.img's bytes in those ranges; its
# blkhash in $want_sel.
selected_setup() {
	reference
	printf '%s\n' '1M 3M' '10M 5M' '20M 64K' '40M 20M' >r.txt
	head -c 64M /dev/zero | tr '\0' '\356' >dst.img
	cp dst.img expected.img
	local off len
	while read -r off len; do
		off=$(($(numfmt --from=iec "$off") / 65536))
		len=$(($(numfmt --from=iec "$len") / 65536))
		dd if=ref.img of=expected.img bs=64k skip="$off" seek="$off" \
			count="$len" conv=notrunc status=none
	done <r.txt
	want_sel=$(tool nbd-copy --blkhash expected.img null:)
}

@test "copy: --checkpoint --ranges: killed and resumed, only the ranges written" {
	selected_setup
	local delay=600ms
	kill_copies 8 20 -R 4 --ranges=r.txt --blkhash
	[ "$claimed" -gt 0 ] || fail "no checkpoint ever claimed a byte"
	# The ranges hold 28 MiB + 64 KiB: nothing outside them is claimed.
	[ "$claimed" -le $(((28 << 20) + 65536)) ] || fail "claimed $claimed bytes"
	slow_src
	run_tool nbd-copy --checkpoint=ck --ranges=r.txt --blkhash "$slow" dst.img
	assert_output "$want_sel"
	cmp expected.img dst.img
	[ ! -e ck ]
}

@test "copy: --checkpoint of another selection is refused" {
	local sum
	selected_setup
	interrupted_copy --ranges=r.txt
	sum=$(md5sum <dst.img)
	printf '%s\n' '1M 3M' '10M 5M' >r2.txt
	slow_src
	for sel in --ranges=r2.txt ''; do
		run_tool 1 nbd-copy --checkpoint=ck ${sel:+"$sel"} "$slow" dst.img
		assert_one_line_error nbd-copy \
			"--checkpoint: ck: not this copy's checkpoint: selection differs"
	done
	[ "$(md5sum <dst.img)" = "$sum" ]
	run_tool nbd-copy --checkpoint=ck --ranges=r.txt "$slow" dst.img
	cmp expected.img dst.img
	[ ! -e ck ]
}
