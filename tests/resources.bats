#!/usr/bin/env bats
# Resource bounds (issue 8, part 8): the peak RSS of a 2 GiB copy stays
# under 128 MiB by default and within what --queue-size allows, and no
# tool leaves a file descriptor open at exit (valgrind --track-fds).
# Servers are started apart from the tool, never as "[ CMD ]", because
# /usr/bin/time counts the largest reaped child too.
# shellcheck disable=SC2154

load helpers

MiB=1048576

# Sanitizers and valgrind change memory use beyond recognition.
plain_build() {
	if [ -n "${NBDU_SANITIZE:-}${NBDU_VALGRIND:-}" ]; then
		skip "RSS is only meaningful in a plain build"
	fi
	require /usr/bin/time -f %M true
}

# peak_kib ARGS...: nbd-copy ARGS; prints its peak RSS in KiB.
peak_kib() {
	/usr/bin/time -o rss -f %M "$NBDU_BUILD/nbd-copy" "$@" >/dev/null ||
		fail "nbd-copy $* failed"
	cat rss
}

# under KIB LIMIT-BYTES WHAT: KIB KiB is below LIMIT-BYTES.
under() {
	[ "$1" -lt $(($2 / 1024)) ] ||
		fail "$3: peak RSS $1 KiB, limit $(($2 / 1024)) KiB"
}

@test "copy: a 2 GiB copy peaks under 128 MiB at default settings" {
	plain_build
	start_nbdkit src pattern 2G
	start_nbdkit dst null 2G
	# Mostly holes, so the file stays small on disk.
	start_nbdkit sparse data '1 @1073741824 2 @2147483646 3' size=2G
	under "$(peak_kib "$src" null:)" $((128 * MiB)) "NBD to null:"
	under "$(peak_kib "$src" "$dst")" $((128 * MiB)) "NBD to NBD"
	under "$(peak_kib --synchronous "$src" "$dst")" $((128 * MiB)) \
		"NBD to NBD, synchronous"
	under "$(peak_kib "$src" -)" $((128 * MiB)) "NBD to a pipe"
	under "$(peak_kib "$sparse" out.img)" $((128 * MiB)) "to a sparse file"
	[ "$(stat -c %s out.img)" -eq $((2048 * MiB)) ]
	[ "$(du -k out.img | cut -f1)" -lt 1024 ]
}

@test "copy: peak RSS follows --queue-size, per connection" {
	plain_build
	start_nbdkit src pattern 2G
	start_nbdkit dst null 2G
	local q c
	# Whatever the depth and count of requests, the bytes in flight
	# per connection are bounded; 48 MiB is libraries and the rest.
	for q in 1M 16M 64M; do
		for c in 1 4; do
			under "$(peak_kib -C "$c" -T "$c" -R 65536 \
				--queue-size="$q" --request-size=256k "$src" "$dst")" \
				$((c * ${q%M} * MiB + 48 * MiB)) "-C $c --queue-size=$q"
		done
	done
}

# open_fds_at_exit TOOL ARGS...: the descriptors TOOL left open at exit
# that it did not inherit, as valgrind --track-fds lists them.
open_fds_at_exit() {
	valgrind -q --track-fds=yes --log-file=vg.log \
		"$NBDU_BUILD/$1" "${@:2}" >/dev/null 2>err || true
	# "Open file descriptor 4: PATH", "Open AF_UNIX socket 5: ...",
	# each followed by where it was opened or "<inherited from parent>".
	awk '/^==[0-9]+== Open / {
		fd = $0; getline; if ($0 !~ /inherited from parent/) print fd }' vg.log
}

@test "every tool: no file descriptor is left open at exit" {
	[ -z "${NBDU_SANITIZE:-}" ] || skip "valgrind cannot run a sanitizer build"
	require valgrind --version
	start_nbdkit mem memory 8M
	start_nbdkit sparse sparse-random 8M
	head -c 1M /dev/urandom >src.img
	local leaked
	while read -r line; do
		# shellcheck disable=SC2086
		leaked=$(open_fds_at_exit $line)
		[ -z "$leaked" ] || fail "$line: left open: $leaked $(cat err)"
		# The run itself must have worked, or it proves little.
		! grep -q 'nbd-' err || fail "$line: $(cat err)"
	done <<-END
	nbd-info $sparse
	nbd-info --list --content $sparse
	nbd-dump -n 64k $sparse
	nbd-dump -n 4k src.img
	nbd-stat-map $sparse
	nbd-stat-map src.img
	nbd-copy $sparse out.img
	nbd-copy $sparse $mem
	nbd-copy --synchronous --flush src.img $mem
	nbd-copy --verify --blkhash $sparse out2.img
	nbd-copy src.img null:
	nbd-copy -- [ nbdkit memory 1M ] [ nbdkit null 1M ]
	nbd-info -- [ nbdkit memory 1M ]
	END
	# An error path too: the source fails and everything is closed.
	leaked=$(open_fds_at_exit nbd-copy "nbd+unix:///?socket=/nonexistent" out3.img)
	[ -z "$leaked" ] || fail "error path: left open: $leaked"
}

# A local source whose first reply stalls (a fresh server thread, a busy
# core): that one slow burst looks like a remote link's latency, but the
# replies after it do not, and the buffers a remote link would need are
# not taken on its word (they were: 256 MiB more, in one jump).
@test "copy: a local source whose first read stalls keeps the buffers small" {
	plain_build
	cat >stall.py <<-'PY'
	import os
	import time
	API_VERSION = 2
	path = None
	def config(key, value):
	    global path
	    path = value
	def open(readonly):
	    return {"fd": os.open(path, os.O_RDONLY), "stalled": False}
	def get_size(h):
	    return os.fstat(h["fd"]).st_size
	def pread(h, buf, offset, flags):
	    if not h["stalled"]:
	        h["stalled"] = True
	        time.sleep(0.05)
	    buf[:] = os.pread(h["fd"], len(buf), offset)
	PY
	head -c 64M /dev/urandom >src.img
	truncate -s 1G src.img
	start_nbdkit src python "$PWD/stall.py" file="$PWD/src.img"
	under "$(peak_kib "$src" dst.img)" $((128 * MiB)) "stalled first read"
	cmp src.img dst.img
}
