#!/usr/bin/env bats
# nbd-copy --destination-is-zero is checked against the destination's
# extents before anything is written; =trust skips the check, as
# nbdcopy does.  The source has data at 0 and a hole after it, so a
# destination that is not zero keeps garbage where the hole is.
# shellcheck disable=SC2154

load helpers

setup() {
	nbdu_setup
	# 64k of 0x5a, then a 4M - 64k hole.
	head -c 65536 /dev/zero | tr '\0' 'Z' >src.raw
	truncate -s 4M src.raw
}

# read_back URI FILE: the export's bytes into FILE.
read_back() {
	"$NBDU_BUILD/nbd-copy" "$1" "$2"
}

@test "copy: --destination-is-zero onto a fresh memory export is accepted" {
	start_nbdkit dst memory 4M
	run_tool nbd-copy --destination-is-zero src.raw "$dst"
	assert_output ''
	[ -z "$stderr" ]
	read_back "$dst" back.raw
	cmp back.raw src.raw
}

@test "copy: --destination-is-zero onto an export with data is refused, nothing written" {
	start_nbdkit dst data data='@1048576 1 2 3' size=4M
	run_tool 1 nbd-copy --destination-is-zero src.raw "$dst"
	assert_one_line_error nbd-copy "--destination-is-zero: destination $dst is not zero at offset 1048576 (its extents say data); nothing was written (--destination-is-zero=trust skips this check)"
	read_back "$dst" back.raw
	printf '\1\2\3' >want.raw
	# The export as it was: zeroes but for 1 2 3 at 1M.
	cmp -n 3 -i 1048576:0 back.raw want.raw
	cmp -n 1048576 back.raw /dev/zero
	[ "$(tr -d '\0' <back.raw | wc -c)" -eq 3 ]
}

@test "copy: --target-is-zero is checked the same way" {
	start_nbdkit dst data data='@65536 9' size=4M
	run_tool 1 nbd-copy --target-is-zero src.raw "$dst"
	assert_one_line_error nbd-copy 'is not zero at offset 65536'
}

@test "copy: --destination-is-zero onto a LUKS destination is refused, =trust copies blindly" {
	require qemu-img --version
	require qemu-nbd --version
	# qemu-img measures PBKDF speed by CPU time first, which a busy
	# machine can make fail ("Unable to get accurate CPU usage").
	for _ in 1 2 3 4 5; do
		qemu-img create -q -f luks --object secret,id=sec0,data=pw \
			-o key-secret=sec0,iter-time=10 dst.luks 4M && break
	done
	[ -s dst.luks ] || fail "qemu-img could not create a LUKS image"
	start_qemu_nbd dst --object secret,id=sec0,data=pw \
		--image-opts "driver=luks,key-secret=sec0,file.filename=$PWD/dst.luks"
	run_tool 1 nbd-copy --destination-is-zero src.raw "$dst"
	assert_one_line_error nbd-copy "--destination-is-zero: destination $dst is not zero at offset 0"
	# nbdcopy's behaviour: the data is copied, the hole is not zeroed,
	# and the destination reads there as the noise it was.
	run_tool nbd-copy --destination-is-zero=trust src.raw "$dst"
	[ -z "$stderr" ]
	read_back "$dst" back.raw
	cmp -n 65536 back.raw src.raw
	if cmp -s back.raw src.raw; then fail "the hole reads as zeroes"; fi
	# Without the option the hole is zeroed: a faithful copy.
	run_tool nbd-copy src.raw "$dst"
	read_back "$dst" back.raw
	cmp back.raw src.raw
}

@test "copy: --destination-is-zero onto a server without block status is trusted with a note" {
	start_nbdkit dst --no-sr memory 4M
	run_tool nbd-copy --destination-is-zero src.raw "$dst"
	assert_one_line_error nbd-copy "note: destination $dst cannot report its extents; --destination-is-zero is trusted unchecked"
	read_back "$dst" back.raw
	cmp back.raw src.raw
}

@test "copy: --destination-is-zero with --ranges checks only the ranges" {
	start_nbdkit dst data data='@2097152 7' size=4M
	echo '0 64k' >r.txt
	run_tool nbd-copy --destination-is-zero --ranges=r.txt src.raw "$dst"
	read_back "$dst" back.raw
	cmp -n 65536 back.raw src.raw
	printf '1M 2M\n' >r2.txt
	run_tool 1 nbd-copy --destination-is-zero --ranges=r2.txt src.raw "$dst"
	assert_one_line_error nbd-copy 'is not zero at offset 2097152'
}

@test "copy: --destination-is-zero with --ranges onto a file with data there is refused" {
	truncate -s 4M dst.raw
	printf 'x' | dd of=dst.raw bs=1 seek=8192 conv=notrunc status=none
	echo '0 64k' >r.txt
	run_tool 1 nbd-copy --destination-is-zero --ranges=r.txt src.raw dst.raw
	assert_one_line_error nbd-copy 'destination dst.raw is not zero at offset'
	[ "$(tr -d '\0' <dst.raw)" = x ]
}

@test "copy: --destination-is-zero=VALUE other than trust is a usage error" {
	start_nbdkit dst memory 4M
	run_tool 1 nbd-copy --destination-is-zero=yes src.raw "$dst"
	assert_one_line_error nbd-copy "--destination-is-zero: 'yes' is not 'trust'"
}
