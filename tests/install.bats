#!/usr/bin/env bats
# What users get is what "make install", "make dist" and "make deb" ship,
# not the build tree: each is installed or unpacked into a directory of
# the test's and used from there.

load helpers

root=$BATS_TEST_DIRNAME/..
tools=(nbd-copy nbd-dump nbd-info nbd-stat-map)

# One "make install" into a DESTDIR for the file; the binaries are the
# ones under test ($NBDU_BUILD, sanitized or not), so nothing is rebuilt.
setup_file() {
	make -s -C "$root" install BUILD="$NBDU_BUILD" \
		SANITIZE="${NBDU_SANITIZE:-}" PREFIX=/usr \
		DESTDIR="$BATS_FILE_TMPDIR/root" >/dev/null
}

# The suite's version, read from debian/changelog by dpkg's own parser.
changelog_version() {
	dpkg-parsechangelog -l "$root/debian/changelog" -S Version
}

# zsh_complete FPATH-DIR LINE...: types each LINE and a Tab into one
# interactive zsh (in a pseudo-terminal) whose only completions are in
# FPATH-DIR, and prints each line as completion left it, one a line.
zsh_complete() {
	cat >complete.zsh <<-'EOF'
	zmodload zsh/zpty || exit 3
	out=$PWD/completed
	: >$out
	zpty z zsh -f -i
	zpty -w z "PS1=; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
	zpty -w z "done-line() { print -r -- \"\$BUFFER\" >>$out; BUFFER=; }; zle -N done-line; bindkey '^X' done-line"
	shift
	for line; do
		zpty -w z "$line"$'\t\x18'
	done
	zpty -w z exit
	while zpty -r z; do :; done >/dev/null
	zpty -d z
	cat $out
	EOF
	timeout 60 zsh -f complete.zsh "$@"
}

@test "install: every tool runs from DESTDIR and prints the changelog's version" {
	require command -v dpkg-parsechangelog
	local t v
	v=$(changelog_version)
	for t in "${tools[@]}"; do
		run -0 "$BATS_FILE_TMPDIR/root/usr/bin/$t" --version
		assert_line --index 0 "$t $v"
		assert_line --index 1 --regexp '^libnbd [0-9]+\.[0-9]+\.[0-9]+$'
	done
}

@test "install: every man page renders with man -l and passes mandoc -Tlint" {
	require command -v man
	require command -v mandoc
	local t page
	for t in "${tools[@]}"; do
		page=$BATS_FILE_TMPDIR/root/usr/share/man/man1/$t.1
		run -0 --separate-stderr env MANWIDTH=80 man --warnings -l "$page"
		assert_line --index 0 --regexp "^${t^^}\(1\)"
		assert_line --regexp "^ +$t — "
		[ -z "$stderr" ] || fail "man warns about $t.1: $stderr"
		run -0 mandoc -Tlint -W warning "$page"
		assert_output ""
	done
}

@test "install: bash loads the installed completion and completes an option" {
	local dir=$BATS_FILE_TMPDIR/root/usr/share/bash-completion/completions
	# shellcheck disable=SC2016 # expanded by the inner bash
	run -0 bash --norc --noprofile -c '
		dir=$1
		while read -r tool word; do
			source "$dir/$tool" || exit 1
			COMP_WORDS=("$tool" "$word")
			COMP_CWORD=1
			_nbd_utils "$tool"
			echo "$tool ${COMPREPLY[*]}"
		done <<-EOF
		nbd-copy --all
		nbd-dump --sk
		nbd-info --no-con
		nbd-stat-map --tot
		EOF' bash "$dir"
	assert_output - <<-'EOF'
	nbd-copy --allocated
	nbd-dump --skip
	nbd-info --no-content
	nbd-stat-map --totals
	EOF
}

@test "install: zsh's compinit finds the installed completion for every tool" {
	require command -v zsh
	# shellcheck disable=SC2016 # expanded by zsh
	run -0 zsh -f -c '
		fpath=($1 $fpath)
		autoload -U compinit
		compinit -u -D
		for t in nbd-copy nbd-dump nbd-info nbd-stat-map; do
			print -r -- "$t $_comps[$t]"
		done' zsh "$BATS_FILE_TMPDIR/root/usr/share/zsh/site-functions"
	assert_output - <<-'EOF'
	nbd-copy _nbd-utils
	nbd-dump _nbd-utils
	nbd-info _nbd-utils
	nbd-stat-map _nbd-utils
	EOF
}

@test "install: zsh completes options, their values and endpoints" {
	require command -v zsh
	: >disk.img
	run -0 zsh_complete "$BATS_FILE_TMPDIR/root/usr/share/zsh/site-functions" \
		'nbd-copy --all' \
		'nbd-copy --blkhash=sha5' \
		'nbd-copy -- disk.img nu' \
		'nbd-copy dis' \
		'nbd-dump --sk' \
		'nbd-info --can=multi' \
		'nbd-info --isnt=rot' \
		'nbd-info --has=base' \
		'nbd-info --ur' \
		'nbd-info nbd+u' \
		'nbd-stat-map --map=qemu:all' \
		'nbd-stat-map --pic'
	assert_output - <<-'EOF'
	nbd-copy --allocated 
	nbd-copy --blkhash=sha512 
	nbd-copy -- disk.img null: 
	nbd-copy disk.img 
	nbd-dump --skip=
	nbd-info --can=multi-conn 
	nbd-info --isnt=rotational 
	nbd-info --has=base:allocation 
	nbd-info --uri 
	nbd-info nbd+unix:///
	nbd-stat-map --map=qemu:allocation-depth 
	nbd-stat-map --picture=
	EOF
}

@test "install: zsh completes --map with the bitmaps the server on the line offers" {
	require command -v zsh
	require command -v qemu-img
	require command -v qemu-nbd
	qemu-img create -q -f qcow2 disk.qcow2 1M
	qemu-img bitmap --add disk.qcow2 nightly
	start_qemu_nbd srv -r -f qcow2 -B nightly disk.qcow2
	# shellcheck disable=SC2154 # start_qemu_nbd sets srv
	PATH=$NBDU_BUILD:$PATH run -0 zsh_complete \
		"$BATS_FILE_TMPDIR/root/usr/share/zsh/site-functions" \
		"nbd-stat-map '$srv' --map=qemu:dirty-bitmap:n"
	assert_output "nbd-stat-map '$srv' --map=qemu:dirty-bitmap:nightly "
}

@test "install: the zsh completion knows every long option each tool has" {
	local t o missing=""
	for t in "${tools[@]}"; do
		[ -x "$NBDU_BUILD/$t" ] || continue
		for o in $("$NBDU_BUILD/$t" --long-options); do
			grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$root/completions/_nbd-utils" ||
				missing="$missing $t:$o"
		done
	done
	[ -z "$missing" ] || fail "missing from completions/_nbd-utils:$missing"
}

@test "install: make dist's tarball holds the source only, and builds and tests" {
	require git -C "$root" rev-parse --is-inside-work-tree
	require command -v dpkg-parsechangelog
	local v name
	v=$(changelog_version)
	name=nbd-utils-$v
	make -s -C "$root" dist DIST_DIR="$BATS_TEST_TMPDIR/a" >/dev/null
	make -s -C "$root" dist DIST_DIR="$BATS_TEST_TMPDIR/b" >/dev/null
	cmp "a/$name.tar.gz" "b/$name.tar.gz"

	# Every tracked file and nothing else, under one top directory.
	tar -tzf "a/$name.tar.gz" | sort >listed
	git -C "$root" ls-files | sed "s,^,$name/," | sort >tracked
	diff -u tracked listed

	tar -xzf "a/$name.tar.gz"
	# Its own default build, whatever the suite under test was built as.
	run -0 nice env -u BUILD -u SANITIZE make -s -C "$name" -j2 \
		BUILD=build SANITIZE= all unit
	run -0 "$name/build/nbd-info" --version
	assert_line --index 0 "nbd-info $v"
}

@test "install: make deb builds a package whose tools run from dpkg-deb -x" {
	require git -C "$root" rev-parse --is-inside-work-tree
	command -v dpkg-buildpackage >/dev/null ||
		"$root/scripts/install-deps.sh" deb >/dev/null 2>&1 ||
		skip "needs: dpkg-buildpackage, not installed and not installable here"
	local v deb t
	v=$(changelog_version)
	run -0 nice make -C "$root" deb DEB_DIR="$BATS_TEST_TMPDIR/deb"
	deb=$(echo deb/nbd-utils_"$v"_*.deb)
	[ -f "$deb" ] || fail "no package in deb/: $(ls deb)"
	[ "$(dpkg-deb -f "$deb" Version)" = "$v" ]

	dpkg-deb -x "$deb" pkg
	for t in "${tools[@]}"; do
		run -0 "pkg/usr/bin/$t" --version
		assert_line --index 0 "$t $v"
		[ -f "pkg/usr/share/man/man1/$t.1.gz" ] || fail "no man page for $t"
		[ -e "pkg/usr/share/bash-completion/completions/$t" ] ||
			fail "no bash completion for $t"
	done
	[ -f pkg/usr/share/zsh/vendor-completions/_nbd-utils ]
	run -0 pkg/usr/bin/nbd-info --size -- [ nbdkit memory 1M ]
	assert_output 1048576
}
