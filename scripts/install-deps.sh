#!/bin/bash
# Installs what building and testing nbd-utils needs, only when something
# is missing, so "make check" and "make demo" work on a fresh Debian box.
set -u

pkgs_build="gcc make pkg-config libnbd-dev libpopt-dev libgnutls28-dev libmagic-dev"
pkgs_test="bats bats-support bats-assert nbdkit qemu-utils nbd-server gnutls-bin
libnbd-bin nbdkit-plugin-python mandoc shellcheck file time python3 bsdextrautils clang libclang-rt-14-dev valgrind"

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || missing+=("$1"); }

if ! command -v dpkg-query >/dev/null; then
	if pkg-config --exists libnbd popt gnutls && command -v bats >/dev/null && command -v nbdkit >/dev/null; then
		exit 0
	fi
	echo "install-deps: not a Debian system; install: libnbd, popt, gnutls, libmagic (development files), bats, nbdkit, qemu-utils, nbd-server, gnutls-bin, libnbd-bin" >&2
	exit 1
fi

for p in $pkgs_build $pkgs_test; do need "$p"; done
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
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
	echo "install-deps: apt-get failed; install by hand: ${missing[*]}" >&2
	exit 1
fi
