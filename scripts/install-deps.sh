#!/bin/bash
# Installs what building and testing nbd-utils needs, only when something
# is missing, so "make check" and "make demo" work on a fresh Debian box.
#
#   install-deps.sh        everything "make check" needs (tests/install.bats
#                          builds the package, so its tools too)
#   install-deps.sh deb    only what "make deb" needs
#   install-deps.sh demo   only what "make demo" needs: the build and nbdkit
set -u

pkgs_build="gcc make pkg-config libnbd-dev libpopt-dev libgnutls28-dev nettle-dev libmagic-dev"
pkgs_deb="build-essential dpkg-dev debhelper fakeroot lintian"
pkgs_test="bats bats-support bats-assert nbdkit qemu-utils nbd-server gnutls-bin
libnbd-bin nbdkit-plugin-python mandoc man-db zsh shellcheck file time python3 jq bsdextrautils clang libclang-rt-14-dev valgrind
parallel"

case ${1:-check} in
check) pkgs="$pkgs_build $pkgs_deb $pkgs_test" ;;
deb) pkgs="$pkgs_build $pkgs_deb" ;;
demo) pkgs="$pkgs_build nbdkit" ;;
*)
	echo "install-deps: unknown mode '$1' (check, deb or demo)" >&2
	exit 1
	;;
esac

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || missing+=("$1"); }

if ! command -v dpkg-query >/dev/null; then
	if [ "${1:-check}" = deb ]; then
		echo "install-deps: building a Debian package needs a Debian system" >&2
		exit 1
	fi
	if [ "${1:-check}" = demo ]; then
		pkg-config --exists libnbd popt gnutls nettle && command -v nbdkit >/dev/null && exit 0
		echo "install-deps: not a Debian system; install: libnbd, popt, gnutls, nettle, libmagic (development files), nbdkit" >&2
		exit 1
	fi
	if pkg-config --exists libnbd popt gnutls nettle && command -v bats >/dev/null && command -v nbdkit >/dev/null; then
		exit 0
	fi
	echo "install-deps: not a Debian system; install: libnbd, popt, gnutls, nettle, libmagic (development files), bats, GNU parallel, nbdkit, qemu-utils, nbd-server, gnutls-bin, libnbd-bin" >&2
	exit 1
fi

for p in $pkgs; do need "$p"; done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then SUDO=sudo; else
		echo "install-deps: missing packages; as root run: apt-get install ${missing[*]}" >&2
		exit 1
	fi
else
	SUDO=
fi
# apt's and dpkg's chatter goes to a log, shown only if they fail.  By
# default apt runs dpkg in a pseudo-terminal of its own and draws a
# progress bar, which would reach the user's terminal despite the log.
export DEBIAN_FRONTEND=noninteractive
quiet=(-qq -o Dpkg::Use-Pty=0 -o Dpkg::Progress-Fancy=0)
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get "${quiet[@]}" update &&
	$SUDO apt-get "${quiet[@]}" install -y --no-install-recommends "${missing[@]}"; } </dev/null >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed; install by hand: ${missing[*]}" >&2
	exit 1
fi
