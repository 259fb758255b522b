#!/bin/bash
# What "make demo" runs: start an nbdkit export of our own on a temporary
# Unix socket, then show each tool that has been built on it.  The
# server is killed and the directory removed on every exit path.
set -euo pipefail

build=${NBDU_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbd-utils-demo.XXXXXX")
pid=

cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

heading() {
	if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
		printf '\n\033[1m== %s\033[0m\n' "$*"
	else
		printf '\n== %s\n' "$*"
	fi
}

# show TOOL ARGS...: prints the command, then runs it if it was built.
show() {
	local tool=$1
	shift
	if [ ! -x "$build/$tool" ]; then
		heading "$tool (not built yet, skipped)"
		return 0
	fi
	heading "$tool $*"
	"$build/$tool" "$@"
}

command -v nbdkit >/dev/null || {
	echo "demo: nbdkit is needed (apt-get install nbdkit)" >&2
	exit 1
}

# 64 MiB, mostly holes: a greeting at 0, data at 1 MiB and 32 MiB.
# --exit-with-parent keeps nbdkit in the foreground, so it runs as our
# child (and dies with us even on SIGKILL).
sock=$tmp/nbd.sock
nbdkit -f -U "$sock" --exit-with-parent data \
	data='"Hello from nbd-utils!" 10 @1048576 "a block of data at 1 MiB" 10 @33554432 ( "0123456789abcdef" ) * 4096' \
	size=64M &
pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$pid" 2>/dev/null || { echo "demo: nbdkit failed" >&2; exit 1; }
	sleep 0.1
done
uri="nbd+unix:///?socket=$sock"
echo "demo: nbdkit data plugin, 64M, serving $uri"

show nbd-info "$uri"
show nbd-info --json "$uri"
show nbd-info --can trim "$uri" && echo "(exit 0: yes)" || echo "(exit $?: no)"
show nbd-stat-map "$uri"
show nbd-dump -n 256 "$uri"
show nbd-copy --blkhash "$uri" "$tmp/disk.img"
# The copy holds the same bytes: the same digest, read back from the file.
show nbd-copy --blkhash "$tmp/disk.img" null:
# A server of its own, slowed down so that the bar (drawn only when
# stderr is a terminal) is there long enough to be seen.
show nbd-copy -p -- [ nbdkit --filter=delay pattern 512M delay-read=20ms ] null:
