#!/usr/bin/env bats
# nbd-copy and the destination's minimum block size: every write and
# zero covers whole blocks of it, so servers that refuse anything else
# (nbdkit blocksize-policy with error, compressed qcow2 through qemu-nbd)
# get the source's exact bytes, in both engines and with every option
# that changes how the copy is cut into requests.  The destinations are
# prefilled with a pattern, so holes that were not zeroed and bytes past
# the source's end that were overwritten both show in the comparison.
# shellcheck disable=SC2030,SC2031

load helpers

MIN=64k
# After the plugin and its arguments: nbdkit takes the filter's there.
POLICY=(blocksize-minimum=$MIN blocksize-preferred=$MIN
	blocksize-error-policy=error)
# 8 MiB of "0123456789abcdef".
PATTERN=(data '( "0123456789abcdef" )*524288')

# Everything that changes how a copy is cut into requests, one per line.
VARIANTS=(
	''
	'-S 0'
	'-C 1'
	'-C 4 -T 4'
	'-T 1 -R 1'
	'-R 64'
	'--request-size=64k'
	'--request-size=1M'
	'--request-size=32M'
	'--queue-size=100000'
	'--no-extents'
	'--allocated'
	'--destination-is-zero'
)

# Fragments at offsets that are not on 4k or 64k, data next to holes
# and to runs of written zeroes (for -S); 40000 bytes past 4 MiB at the
# end, so the last 64k block is partial.
setup_file() {
	python3 - "$BATS_FILE_TMPDIR/src.img" <<'PY'
import os, random, sys
rnd = random.Random(12)
size = 4 * 1024 * 1024 + 40000
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    for off, n, zero in [(0, 40960, 0), (200000, 70000, 0),
                         (270000, 130000, 1), (400000, 1000, 0),
                         (1048576, 300000, 0), (1572864, 1048576, 1),
                         (2621563, 4877, 0), (3000000, 65536, 1),
                         (3065536, 1, 0), (size - 30000, 30000, 0)]:
        f.seek(off)
        f.write(bytes(n) if zero else rnd.randbytes(n))
PY
	# The same, cut to 4 MiB: a source export of whole 64k blocks.
	cp --sparse=always "$BATS_FILE_TMPDIR/src.img" "$BATS_FILE_TMPDIR/src4m.img"
	truncate -s 4M "$BATS_FILE_TMPDIR/src4m.img"
	python3 -c 'import sys; sys.stdout.buffer.write(b"0123456789abcdef" * 524288)' \
		>"$BATS_FILE_TMPDIR/pattern.img"
	truncate -s 8M "$BATS_FILE_TMPDIR/zero.img"
}

# start_dst VAR VARIANT: an 8 MiB destination with a 64k minimum that
# errors on anything else; zeroes for --destination-is-zero, else the
# pattern.  Sets base to the file it starts as.
start_dst() {
	if [[ $2 == *--destination-is-zero* ]]; then
		base=$BATS_FILE_TMPDIR/zero.img
		start_nbdkit "$1" --filter=blocksize-policy memory 8M "${POLICY[@]}"
	else
		base=$BATS_FILE_TMPDIR/pattern.img
		start_nbdkit "$1" --filter=blocksize-policy "${PATTERN[@]}" \
		    "${POLICY[@]}"
	fi
}

# The 8 MiB at URI equal BASE with SRC's bytes laid over its start.
assert_dst() {
	local uri=$1 base=$2 src=$3
	cp "$base" expect.img
	dd if="$src" of=expect.img conv=notrunc status=none
	rm -f got.img
	tool nbd-copy "$uri" got.img
	cmp expect.img got.img
}

# Kills the server behind VAR_sock's pid file, as teardown would.
stop_server() {
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/$1.pid")
	kill "$pid"
	while _alive "$pid"; do sleep 0.05; done
}

# copy_each SRC-KIND: every engine and variant, SRC to a fresh policy
# destination, content checked after each.
copy_each() {
	local kind=$1 engine v i=0 src
	for engine in '' --synchronous; do
		for v in "${VARIANTS[@]}"; do
			i=$((i + 1))
			echo "# $kind: nbd-copy $engine $v" >&3
			start_dst "d$i" "$v"
			local dst_var="d$i"
			# shellcheck disable=SC2086
			case $kind in
			file)
				src=$BATS_FILE_TMPDIR/src.img
				tool nbd-copy $engine $v "$src" "${!dst_var}" ;;
			pipe)
				src=$BATS_FILE_TMPDIR/src.img
				tool nbd-copy $engine $v - "${!dst_var}" <"$src" ;;
			nbd)
				src=$BATS_FILE_TMPDIR/src4m.img
				tool nbd-copy $engine $v "$nbdsrc" "${!dst_var}" ;;
			esac
			assert_dst "${!dst_var}" "$base" "$src"
			stop_server "d$i"
		done
	done
}

@test "copy: sparse-random into a 64k-minimum export, both engines" {
	local engine
	for engine in '' --synchronous; do
		start_nbdkit dst --filter=blocksize-policy memory 64M "${POLICY[@]}"
		run_tool nbd-copy $engine -- [ nbdkit sparse-random 64M seed=1 \
			runlength=102400 percent=30 ] "$dst"
		run_tool nbd-copy --blkhash -- [ nbdkit sparse-random 64M \
			seed=1 runlength=102400 percent=30 ] null:
		local want=$output
		run_tool nbd-copy "$dst" null: --blkhash
		[ "$output" = "$want" ]
		stop_server dst
	done
}

@test "copy: file -> 64k-minimum nbd, every engine and variant" {
	copy_each file
}

@test "copy: pipe -> 64k-minimum nbd, every engine and variant" {
	copy_each pipe
}

@test "copy: 64k-minimum nbd -> 64k-minimum nbd, every engine and variant" {
	start_nbdkit nbdsrc -r --filter=blocksize-policy \
		file "$BATS_FILE_TMPDIR/src4m.img" "${POLICY[@]}"
	copy_each nbd
}

@test "copy: 64k-minimum nbd -> file, every engine and variant" {
	local engine v
	start_nbdkit nbdsrc -r --filter=blocksize-policy \
		file "$BATS_FILE_TMPDIR/src4m.img" "${POLICY[@]}"
	for engine in '' --synchronous; do
		for v in "${VARIANTS[@]}"; do
			echo "# nbd -> file: nbd-copy $engine $v" >&3
			rm -f got.img
			# shellcheck disable=SC2086
			tool nbd-copy $engine $v "$nbdsrc" got.img
			cmp "$BATS_FILE_TMPDIR/src4m.img" got.img
		done
	done
}

@test "copy: 40 KiB of data then a hole into a 64k-minimum export" {
	head -c 40960 /dev/urandom >src.img
	truncate -s 1M src.img
	for engine in '' --synchronous; do
		start_nbdkit dst --filter=blocksize-policy "${PATTERN[@]}" \
		    "${POLICY[@]}"
		run_tool nbd-copy $engine src.img "$dst"
		assert_dst "$dst" "$BATS_FILE_TMPDIR/pattern.img" src.img
		stop_server dst
	done
}

@test "copy: --blkhash of a copy with a partial last block is the source's" {
	run_tool nbd-copy "$BATS_FILE_TMPDIR/src.img" null: --blkhash
	local want=$output
	for engine in '' --synchronous; do
		start_nbdkit dst --filter=blocksize-policy "${PATTERN[@]}" \
		    "${POLICY[@]}"
		run_tool nbd-copy $engine --blkhash "$BATS_FILE_TMPDIR/src.img" "$dst"
		[ "$output" = "$want" ]
		stop_server dst
	done
}

@test "copy: a stream ending inside a 4k block keeps the destination's bytes after it" {
	head -c 1000000 /dev/urandom >in.bin
	start_nbdkit dst --filter=blocksize-policy \
		data '( "0123456789abcdef" )*131072' \
		blocksize-minimum=4k blocksize-error-policy=error
	tool nbd-copy - "$dst" <in.bin
	tool nbd-copy "$dst" got.img
	[ "$(stat -c %s got.img)" -eq 2097152 ]
	cmp -n 1000000 in.bin got.img
	# The 3520 bytes after the input in its last block, and every block
	# after, are the pattern the export started with.
	cmp -i 1000000:1000000 -n 1097152 "$BATS_FILE_TMPDIR/pattern.img" got.img
	[ "$(dd if=got.img bs=1 skip=1000000 count=16 status=none)" = 0123456789abcdef ]
}

@test "copy: into compressed qcow2 through qemu-nbd (64k blocks)" {
	require qemu-img --version
	local engine
	for engine in '' --synchronous; do
		rm -f out.qcow2 back.raw
		qemu-img create -q -f qcow2 out.qcow2 64M
		run_tool nbd-copy $engine -- [ nbdkit sparse-random 64M seed=1 \
			runlength=102400 percent=30 ] [ qemu-nbd --image-opts \
			driver=compress,file.driver=qcow2,file.file.filename=out.qcow2 ]
		qemu-img convert -O raw out.qcow2 back.raw
		nbdkit -r sparse-random 64M seed=1 runlength=102400 percent=30 \
			--run "$NBDU_BUILD/nbd-copy \"\$uri\" src.raw"
		cmp src.raw back.raw
	done
}
