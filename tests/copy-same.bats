#!/usr/bin/env bats
# SPEC 2: the same NBD export as source and destination is allowed
# (nothing is truncated; every byte goes back where it was read), as
# nbdkit's manual tests a copier.  The same local file, by any name, is
# refused before anything is written (a block device: block.bats).

load helpers

@test "copy: sparse-random onto itself, which checks every write, exits 0" {
	local engine
	for engine in "" --synchronous "-C 4 -T 4"; do
		# shellcheck disable=SC2016,SC2086
		nbdkit -U - sparse-random 1G --run \
			"$NBDU_BUILD/nbd-copy $engine \"\$uri\" \"\$uri\"" 2>err ||
			fail "'$engine': exit $?: $(cat err)"
		[ ! -s err ] || fail "'$engine': $(cat err)"
	done
	# The plugin does check: other bytes written to it are an error.
	# shellcheck disable=SC2016
	run -1 nbdkit -U - sparse-random 1M --run \
		"$NBDU_BUILD/nbd-copy -- [ nbdkit pattern 1M ] \"\$uri\""
}

@test "copy: the same export by two URI spellings keeps its exact bytes" {
	local sock dir d
	head -c 1048576 /dev/urandom >a.img
	dd if=/dev/zero of=a.img bs=64k seek=4 count=2 conv=notrunc status=none
	start_nbdkit srv memory 1M
	run_tool nbd-copy a.img "$srv"
	sock=$srv_sock
	dir=${sock%/*}
	for d in "$srv" "nbd+unix:///?socket=./${sock##*/}" \
		"nbd+unix:///?socket=$dir/../${dir##*/}/${sock##*/}" \
		"nbd+unix:///?socket=${sock%.sock}%2Esock"; do
		run_tool nbd-copy "$srv" "$d"
		[ -z "$stderr" ] || fail "$d: $stderr"
		rm -f back.img
		run_tool nbd-copy "$srv" back.img
		cmp a.img back.img || fail "$d: bytes changed"
	done
}

@test "copy: the same file through a hard link, symlink or '-' is refused, nothing written" {
	random_img a.img 1M
	cp a.img keep.img
	ln -s a.img sym.img
	ln a.img link.img
	ln -s "$PWD/a.img" abs.img
	run_tool 1 nbd-copy a.img sym.img
	assert_error_is "nbd-copy: sym.img: source and destination are the same file"
	run_tool 1 nbd-copy a.img link.img
	assert_error_is "nbd-copy: link.img: source and destination are the same file"
	run_tool 1 nbd-copy abs.img a.img
	assert_error_is "nbd-copy: a.img: source and destination are the same file"
	# shellcheck disable=SC2094 # the point of the test
	run_tool 1 nbd-copy - a.img <a.img
	assert_error_is "nbd-copy: a.img: source and destination are the same file"
	run -1 --separate-stderr copy_appending a.img a.img -
	assert_error_is "nbd-copy: stdout: source and destination are the same file"
	run -1 --separate-stderr copy_appending sym.img - - <a.img
	assert_error_is "nbd-copy: stdout: source and destination are the same file"
	cmp a.img keep.img
	# Another file with the same bytes is not the same file.
	run_tool nbd-copy - b.img <a.img
	cmp a.img b.img
}
