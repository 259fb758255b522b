#!/usr/bin/env bats
# nbd-stat-map --map=CONTEXT against qemu-nbd (allocation depth of a
# qcow2 backing chain, dirty bitmaps), servers without structured
# replies or the context, and servers that answer block status oddly:
# one extent per request, 1-byte extents, errors.
# shellcheck disable=SC2016,SC2154

load helpers

# A 4M backing chain: base has 1M of data at 0; top writes 1M at 512k
# and zeroes 512k at 3M.
make_chain() {
	qemu-img create -q -f qcow2 base.qcow2 4M
	qemu-io -f qcow2 -c 'write -P 1 0 1M' base.qcow2 >/dev/null
	qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
	qemu-io -f qcow2 -c 'write -P 2 512k 1M' -c 'write -z 3M 512k' \
		top.qcow2 >/dev/null
}

# eval_extents VAR SIZE SCRIPT: an nbdkit eval export whose extents
# script is SCRIPT ($3 count, $4 offset, as nbdkit-sh-plugin says).
eval_extents() {
	start_nbdkit "$1" eval get_size="echo $2" \
		pread='dd if=/dev/zero count=$3 iflag=count_bytes status=none' \
		can_extents='exit 0' thread_model='echo parallel' \
		extents="$3"
}

@test "stat-map: qemu:allocation-depth of a backing chain" {
	require qemu-nbd --version
	make_chain
	start_qemu_nbd q -r -f qcow2 -A top.qcow2
	run_tool nbd-stat-map --map=qemu:allocation-depth "$q"
	assert_output - <<-'EOF'
	         0      524288    2  backing depth 2
	    524288     1048576    1  local
	   1572864     1572864    0  absent
	   3145728      524288    1  local
	   3670016      524288    0  absent
	EOF
	map_same_as_nbdinfo "$q" --map=qemu:allocation-depth
	map_same_as_nbdinfo "$q" --map=qemu:allocation-depth --totals
	map_same_as_nbdinfo "$q"
	map_same_as_nbdinfo "$q" --totals
}

@test "stat-map: qemu:dirty-bitmap:NAME says clean and dirty" {
	require qemu-nbd --version
	qemu-img create -q -f qcow2 d.qcow2 8M
	qemu-img bitmap --add --enable d.qcow2 b0
	qemu-io -f qcow2 -c 'write -P 3 1M 64k' -c 'write 5M 2M' d.qcow2 >/dev/null
	start_qemu_nbd q -r -f qcow2 -B b0 d.qcow2
	run_tool nbd-stat-map --map=qemu:dirty-bitmap:b0 "$q"
	assert_output - <<-'EOF'
	         0     1048576    0  clean
	   1048576       65536    1  dirty
	   1114112     4128768    0  clean
	   5242880     2097152    1  dirty
	   7340032     1048576    0  clean
	EOF
	run_tool nbd-stat-map --map=qemu:dirty-bitmap:b0 --totals \
		--offset=1M --length=2M "$q"
	assert_output - <<-'EOF'
	   2031616  96.9%   0 clean
	     65536   3.1%   1 dirty
	EOF
	map_same_as_nbdinfo "$q" --map=qemu:dirty-bitmap:b0
	map_same_as_nbdinfo "$q" --map=qemu:dirty-bitmap:b0 --totals
}

@test "stat-map: a context the server lacks is an error, as in nbdinfo" {
	start_nbdkit m memory 1M
	run_tool 1 nbd-stat-map --map=qemu:allocation-depth "$m"
	assert_output ""
	assert_one_line_error nbd-stat-map \
		'server does not support metadata context "qemu:allocation-depth"'
	start_nbdkit n --no-sr memory 1M
	run_tool 1 nbd-stat-map --map=base:allocation "$n"
	assert_one_line_error nbd-stat-map \
		'server does not support metadata context "base:allocation"'
}

@test "stat-map: --no-sr is one data extent and one note on stderr" {
	start_nbdkit n --no-sr memory 1M
	run_tool nbd-stat-map "$n"
	assert_output "         0     1048576    0  data"
	assert_one_line_error nbd-stat-map "no allocation information"
	run_tool nbd-stat-map --json --totals "$n"
	assert_equal "$(jq -c '.[]' <<<"$output")" \
		'{"size":1048576,"percent":100,"type":0,"description":"data"}'
	start_nbdkit x memory 1M --filter=noextents
	run_tool nbd-stat-map "$x"
	assert_output "         0     1048576    0  data"
}

@test "stat-map: a server giving one extent per request" {
	# 64K extents alternating data and hole, one per reply.
	eval_extents e 4M 'g=65536; b=$(($4 / g * g));
		if [ $(($b / g % 2)) -eq 0 ]; then echo $b $g; else echo $b $g hole,zero; fi'
	run_tool nbd-stat-map --totals "$e"
	assert_output - <<-'EOF'
	   2097152  50.0%   0 data
	   2097152  50.0%   3 hole,zero
	EOF
	run_tool nbd-stat-map --offset=100k --length=100k "$e"
	assert_output - <<-'EOF'
	    102400       28672    3  hole,zero
	    131072       65536    0  data
	    196608        8192    3  hole,zero
	EOF
	map_same_as_nbdinfo "$e"
}

@test "stat-map: 1-byte extents, one per request" {
	eval_extents e 200 'echo $4 1 $(($4 % 3 == 0 ? 0 : 3))'
	run_tool nbd-stat-map --totals "$e"
	assert_output - <<-'EOF'
	        67  33.5%   0 data
	       133  66.5%   3 hole,zero
	EOF
	run_tool nbd-stat-map --offset=4 --length=4 "$e"
	assert_output - <<-'EOF'
	         4           2    3  hole,zero
	         6           1    0  data
	         7           1    3  hole,zero
	EOF
	map_same_as_nbdinfo "$e"
}

@test "stat-map: extents running past the request are clipped" {
	# Every reply claims one huge data extent from the request's start.
	eval_extents e 1M 'echo $4 4G'
	run_tool nbd-stat-map --offset=1000 --length=5000 "$e"
	assert_output "      1000        5000    0  data"
}

@test "stat-map: a block-status error is one line after the extents before it" {
	start_nbdkit m memory 1M --filter=error error-extents=EIO \
		error-extents-rate=100%
	run_tool 1 nbd-stat-map "$m"
	assert_output ""
	assert_one_line_error nbd-stat-map \
		"block status at offset 0: Input/output error"
}

@test "stat-map: [ CMD ] servers are reaped after errors too" {
	run_tool 1 nbd-stat-map --map=qemu:nope -- [ nbdkit memory 1M ]
	assert_one_line_error nbd-stat-map 'metadata context "qemu:nope"'
	run_tool nbd-stat-map -- [ nbdkit -r memory 1M ]
	assert_output "         0     1048576    3  hole,zero"
}
