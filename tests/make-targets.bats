#!/usr/bin/env bats
# The build's own targets as a user meets them: "make check" ends with
# one line counting the unit programs and the bats tests together, and
# fails when anything failed; .ci/run ends with one such line over its
# steps; "make demo" shows the tools and cleans up; the installed man
# pages carry the version.  scripts/check.sh is run on small bats files
# of the test's own, with /bin/true and /bin/false as unit programs.

# shellcheck disable=SC2154 # run sets stderr

load helpers

root=$BATS_TEST_DIRNAME/..

check() {
	"$root/scripts/check.sh" "$@"
}

# bats_test NAME BODY: one test, for the files below.  (Written out
# whole, "@test" lines would be read as tests of this file.)
bats_test() {
	printf '@%s "%s" { %s; }\n' test "$1" "$2"
}

# Three bats files: one of each outcome, all passing, and one whose
# setup_file fails, so that its two tests never run.
write_suites() {
	{
		bats_test passes true
		bats_test fails false
		bats_test skips 'skip "on purpose"'
	} >mixed.bats
	{
		bats_test one true
		bats_test two true
	} >good.bats
	{
		echo 'setup_file() { false; }'
		bats_test 'never runs' true
		bats_test 'nor this' true
	} >broken.bats
}

@test "make: check's last line counts unit programs and bats tests together" {
	write_suites
	run -1 check -o out -u /bin/true -u /bin/false mixed.bats good.bats
	assert_line --index 0 'unit: /bin/true'
	assert_line 'unit: /bin/false failed (status 1)'
	# bats' TAP output stays on stdout, above the count.
	assert_line '1..5'
	assert_line 'not ok 2 fails'
	assert_line 'ok 3 skips # skip on purpose'
	assert_line --index $((${#lines[@]} - 1)) '4 passed, 2 failed, 1 skipped'
	[ "$(cat out/check.summary)" = '4 passed, 2 failed, 1 skipped' ]
	grep -q '^ok 5 two$' out/check.tap
}

@test "make: check exits 0 and says so when nothing failed" {
	write_suites
	run -0 check -u /bin/true good.bats
	assert_line --index $((${#lines[@]} - 1)) '3 passed, 0 failed, 0 skipped'
}

@test "make: check counts the tests of a file that never ran as failed" {
	write_suites
	run -1 check good.bats broken.bats
	assert_line 'check: 1 bats tests did not report'
	assert_line --index $((${#lines[@]} - 1)) '2 passed, 2 failed, 0 skipped'
}

@test "make: check runs files in parallel with -j and counts the same" {
	require command -v parallel
	write_suites
	run -1 check -j 3 -u /bin/true mixed.bats good.bats broken.bats
	assert_line --index $((${#lines[@]} - 1)) '4 passed, 3 failed, 1 skipped'
	run -1 --separate-stderr check -j 0 good.bats
	[ "$stderr" = "check: -j wants a positive number, not '0'" ]
}

# A copy of .ci/run in a tree of its own, where "make" is a stand-in
# that leaves the summary a check run would and fails as MAKE_FAILS says
# (the first word of a target's command line).
ci_tree() {
	mkdir -p ci/.ci ci/bin
	cp "$root/.ci/run" ci/.ci/run
	cat >ci/bin/make <<-'EOF'
	#!/bin/bash
	case $1 in
	check) mkdir -p build && echo "$CHECK" >build/check.summary ;;
	check-sanitize) [ -z "$ASAN" ] || { mkdir -p build-asan && echo "$ASAN" >build-asan/check.summary; } ;;
	esac
	[[ " $MAKE_FAILS " != *" $1 "* ]]
	EOF
	chmod +x ci/bin/make
}

@test "make: .ci/run ends with one line over both test runs and its other steps" {
	ci_tree
	PATH=$PWD/ci/bin:$PATH CHECK='10 passed, 0 failed, 2 skipped' \
		ASAN='9 passed, 0 failed, 3 skipped' MAKE_FAILS='' run -0 ci/.ci/run
	assert_output '19 passed, 0 failed, 5 skipped'

	# The sanitizer run failed a test, fuzzing failed on its own.
	PATH=$PWD/ci/bin:$PATH CHECK='10 passed, 0 failed, 2 skipped' \
		ASAN='8 passed, 1 failed, 3 skipped' MAKE_FAILS='fuzz check-sanitize' \
		run -1 ci/.ci/run
	assert_line "ci: 'make fuzz FUZZ_TIME=20' failed (status 1)"
	assert_line --index $((${#lines[@]} - 1)) '18 passed, 2 failed, 5 skipped'

	# The sanitizer build failed before any test ran: no summary, and
	# the one left by an earlier run is not counted.
	PATH=$PWD/ci/bin:$PATH CHECK='10 passed, 0 failed, 2 skipped' \
		ASAN='' MAKE_FAILS=check-sanitize run -1 ci/.ci/run
	assert_line --index $((${#lines[@]} - 1)) '10 passed, 1 failed, 2 skipped'
}

@test "make: the demo shows one digest for an export and its copy, and cleans up" {
	require command -v nbdkit
	mkdir tmp
	run -0 --separate-stderr env TMPDIR="$PWD/tmp" "$root/scripts/demo.sh"
	local digests
	digests=$(grep -E '^[0-9a-f]{64}$' <<<"$output")
	[ "$(wc -l <<<"$digests")" -eq 2 ] || fail "want two digests: $output"
	[ "$(sort -u <<<"$digests" | wc -l)" -eq 1 ] || fail "digests differ: $digests"
	assert_line --partial '== nbd-copy -p -- [ nbdkit --filter=delay'
	[ -z "$(ls -A tmp)" ] || fail "left behind: $(ls -A tmp)"
}

@test "make: the demo's copy draws a progress bar on a terminal" {
	require command -v nbdkit
	require command -v script
	run -0 script -qec "$root/scripts/demo.sh" /dev/null
	[[ $output == *'100% 512 MiB / 512 MiB'* ]] || fail "no finished bar: $output"
}

@test "make: install-deps knows a demo mode and refuses an unknown one" {
	run -1 --separate-stderr "$root/scripts/install-deps.sh" everything
	[ "$stderr" = "install-deps: unknown mode 'everything' (check, deb or demo)" ]
	# Everything the demo needs is on this machine, so nothing to do.
	require pkg-config --exists libnbd popt gnutls
	require command -v nbdkit
	run -0 "$root/scripts/install-deps.sh" demo
	assert_output ''
}

@test "make: install puts the changelog's version at the foot of every man page" {
	require command -v man
	require command -v dpkg-parsechangelog
	local v page
	v=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
	for page in "$root"/man/*.1; do
		grep -qx '\.Os nbd-utils' "$page" || fail "$page: .Os is not 'nbd-utils'"
	done
	make -s -C "$root" install BUILD="$NBDU_BUILD" SANITIZE="${NBDU_SANITIZE:-}" \
		PREFIX=/usr DESTDIR="$PWD/root" >/dev/null
	for page in root/usr/share/man/man1/nbd-*.1; do
		run -0 env MANWIDTH=80 man -l "$page"
		assert_line --index $((${#lines[@]} - 1)) --regexp "^nbd-utils $v +.* +nbd-utils $v\$"
	done
}
