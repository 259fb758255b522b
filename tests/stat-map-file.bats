#!/usr/bin/env bats
# nbd-stat-map on local files: the map is what SEEK_DATA/SEEK_HOLE say,
# in base:allocation terms (0 data, 3 hole,zero); and --picture.
# shellcheck disable=SC2016,SC2154

load helpers

# seek_map FILE [OFF LEN]: the map python3's os.lseek gives, merged and
# clipped, in nbd-stat-map's text format.
seek_map() {
	python3 - "$@" <<'PY'
import os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
off = int(sys.argv[2]) if len(sys.argv) > 2 else 0
end = min(size, off + int(sys.argv[3])) if len(sys.argv) > 3 else size
runs, pos = [], off
while pos < end:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        data = end
    if data > pos:
        runs.append([pos, min(data, end) - pos, 3])
        pos = min(data, end)
        continue
    hole = os.lseek(fd, pos, os.SEEK_HOLE)
    runs.append([pos, min(hole, end) - pos, 0])
    pos = min(hole, end)
merged = []
for r in runs:
    if merged and merged[-1][2] == r[2]:
        merged[-1][1] += r[1]
    else:
        merged.append(r)
for o, l, t in merged:
    print("%10d  %10d  %3d  %s" % (o, l, t, "data" if t == 0 else "hole,zero"))
PY
}

# A 10M sparse file with data at odd places, and a tail that is no
# multiple of 512.
make_sparse() {
	truncate -s 10M "$1"
	dd if=/dev/urandom of="$1" bs=4k seek=100 count=50 conv=notrunc status=none
	dd if=/dev/urandom of="$1" bs=1M seek=8 count=1 conv=notrunc status=none
	printf 'tail' >>"$1"
}

@test "stat-map: a sparse file maps as SEEK_DATA/SEEK_HOLE say" {
	make_sparse f.img
	python3 -c 'import os; os.lseek(os.open("f.img", os.O_RDONLY), 0, os.SEEK_HOLE)' ||
		skip "no SEEK_HOLE here"
	run_tool nbd-stat-map f.img
	assert_output "$(seek_map f.img)"
	[ -z "$stderr" ]
	run_tool nbd-stat-map --offset=413k --length=7777k f.img
	assert_output "$(seek_map f.img $((413 * 1024)) $((7777 * 1024)))"
}

@test "stat-map: a file served by nbdkit maps like the file itself" {
	make_sparse f.img
	command -v nbdinfo >/dev/null || skip "needs nbdinfo"
	start_nbdkit n -r file f.img
	run_tool nbd-stat-map f.img
	local ours=$output
	assert_equal "$ours" "$(nbdinfo --map "$n")"
	run_tool nbd-stat-map --totals f.img
	assert_equal "$output" "$(nbdinfo --map --totals "$n")"
}

@test "stat-map: an all-data file and an empty file" {
	head -c 100000 /dev/urandom >data.bin
	: >empty.bin
	run_tool nbd-stat-map data.bin
	assert_output "         0      100000    0  data"
	run_tool nbd-stat-map empty.bin
	assert_output ""
	run_tool nbd-stat-map --totals --json empty.bin
	assert_output "[]"
}

@test "stat-map: --map=CONTEXT on a local file is an error but base:allocation" {
	truncate -s 1M f.img
	run_tool nbd-stat-map --map=base:allocation f.img
	assert_output "         0     1048576    3  hole,zero"
	run_tool 1 nbd-stat-map --map=qemu:allocation-depth f.img
	assert_output ""
	assert_one_line_error nbd-stat-map "base:allocation"
}

@test "stat-map: a missing file is a one-line error" {
	run_tool 1 nbd-stat-map no-such-file
	assert_output ""
	assert_one_line_error nbd-stat-map "no-such-file"
}

@test "stat-map: --picture draws cells, a legend and the totals" {
	truncate -s 8M f.img
	dd if=/dev/urandom of=f.img bs=1M seek=2 count=2 conv=notrunc status=none
	run_tool nbd-stat-map --picture=8 f.img
	assert_output - <<-'EOF'
	░░██░░░░
	█ data  ▒ zero  ░ hole
	   2097152  25.0%   0 data
	   6291456  75.0%   3 hole,zero
	EOF
	LC_ALL=C run_tool nbd-stat-map --picture=8 f.img
	assert_line --index 0 "..##...."
	assert_line --index 1 "# data  = zero  . hole"
	run_tool nbd-stat-map --picture=4 --color f.img
	assert_line --index 0 $'\e[2m░\e[0m\e[34m█\e[0m\e[2m░░\e[0m'
	# Not a terminal: 80 cells.
	run_tool nbd-stat-map --picture f.img
	[ "${#lines[0]}" -eq 80 ]
}

@test "stat-map: --picture of a tiny range has one cell per byte" {
	start_nbdkit d data '1 @1000 2' size=1001
	run_tool nbd-stat-map --picture=80 --length=3 "$d"
	assert_line --index 0 "███"
	run_tool nbd-stat-map --picture=80 --offset=1001 "$d"
	assert_output $'\n█ data  ▒ zero  ░ hole'
}
