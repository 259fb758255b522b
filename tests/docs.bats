#!/usr/bin/env bats
# The man page, the bash completion and --help say the same thing as the
# code: every long option a tool offers appears in all three.

load helpers

tools() {
	local t
	for t in nbd-copy nbd-dump nbd-info nbd-stat-map; do
		[ -x "$NBDU_BUILD/$t" ] && echo "$t"
	done
}

@test "docs: every option in --help is in the tool's man page" {
	local t o missing=""
	for t in $(tools); do
		for o in $("$NBDU_BUILD/$t" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
			case $o in --help|--usage|--version) continue ;; esac
			grep -qE -- "(-|Fl )${o#--}([^a-z0-9-]|\$)" "$BATS_TEST_DIRNAME/../man/$t.1" ||
				missing="$missing $t:$o"
		done
	done
	[ -z "$missing" ] || fail "missing from man pages:$missing"
}

@test "docs: every option in --help is completed by bash" {
	local t o words missing=""
	# shellcheck source=../completions/nbd-utils.bash
	source "$BATS_TEST_DIRNAME/../completions/nbd-utils.bash"
	for t in $(tools); do
		words=" $(_nbd_utils_options "$t") "
		for o in $("$NBDU_BUILD/$t" --long-options); do
			[[ $words == *" $o "* ]] || missing="$missing $t:$o"
		done
	done
	[ -z "$missing" ] || fail "missing from completions:$missing"
}

@test "docs: completion offers option values for --can" {
	# shellcheck source=../completions/nbd-utils.bash
	source "$BATS_TEST_DIRNAME/../completions/nbd-utils.bash"
	COMP_WORDS=(nbd-info --can mul)
	COMP_CWORD=2
	_nbd_utils nbd-info
	[ "${COMPREPLY[*]}" = "multi-conn" ]
}

@test "docs: man pages pass mandoc -Tlint" {
	require command -v mandoc
	run mandoc -Tlint -W warning "$BATS_TEST_DIRNAME"/../man/*.1
	assert_success
	assert_output ""
}

@test "docs: every tool's synopsis in --help matches its man page's name" {
	local t
	for t in $(tools); do
		run "$NBDU_BUILD/$t" --help
		assert_success
		assert_line --partial "Usage: $t"
		grep -q "^\.Nm $t" "$BATS_TEST_DIRNAME/../man/$t.1" ||
			fail "man/$t.1 does not name $t"
	done
}

@test "docs: make install and uninstall honour PREFIX and DESTDIR" {
	local d=$BATS_TEST_TMPDIR/root t
	make -s -C "$BATS_TEST_DIRNAME/.." install BUILD="$NBDU_BUILD" \
		SANITIZE="${NBDU_SANITIZE:-}" PREFIX=/opt/nbdu DESTDIR="$d" >/dev/null
	for t in $(tools); do
		[ -x "$d/opt/nbdu/bin/$t" ] || fail "no $t binary"
		[ -f "$d/opt/nbdu/share/man/man1/$t.1" ] || fail "no $t man page"
		[ -e "$d/opt/nbdu/share/bash-completion/completions/$t" ] ||
			fail "no $t completion"
	done
	make -s -C "$BATS_TEST_DIRNAME/.." uninstall PREFIX=/opt/nbdu DESTDIR="$d" >/dev/null
	run find "$d" -type f
	assert_output ""
}
