#!/usr/bin/env bats
# Generic command-line behaviour of nbd-info: --help, --usage, --version,
# option errors, a failing stdout, and that the man page and the bash
# completion know every option --help shows.
# shellcheck disable=SC2016,SC2154

load helpers

@test "cli: nbd-info --help lists the options and exits 0" {
	run_tool 0 nbd-info --help
	assert_line --index 0 'Usage: nbd-info [OPTION...] NBD-URI | [ CMD ARGS ... ]'
	local opt
	for opt in --can=FLAG --content --is=FLAG --json '-L, --list' --no-content \
		--size --color --no-color --verbose --version --help --usage; do
		assert_output --partial -- "$opt"
	done
	assert_equal "$stderr" ''
	run_tool 0 nbd-info '-?'
	assert_line --index 0 --partial 'Usage: nbd-info'
}

@test "cli: nbd-info --usage is short and exits 0" {
	run_tool 0 nbd-info --usage
	assert_line --index 0 --partial 'Usage: nbd-info [-LV?]'
	assert_output --partial '[--can=FLAG]'
}

@test "cli: nbd-info -V and --version print our version then libnbd's" {
	local v
	for v in -V --version; do
		run_tool 0 nbd-info "$v"
		assert_equal "${#lines[@]}" 2
		assert_line --index 0 'nbd-info 0.1.0'
		assert_line --index 1 --regexp '^libnbd [0-9]+\.[0-9]+\.[0-9]+$'
	done
	run -0 nbdinfo --version
	assert_line --index 1 "$(tool nbd-info -V | sed -n 2p)"
}

@test "cli: nbd-info -v is verbose, not --version" {
	run_tool 1 nbd-info -v 'nbd+unix:///?socket=/nonexistent'
	assert_output ''
	[[ $stderr == *"libnbd: debug:"* ]] || fail "$stderr"
}

@test "cli: nbd-info usage errors are exit 1 with one line" {
	local text args
	while IFS='|' read -r text args; do
		# shellcheck disable=SC2086
		run_tool 1 nbd-info $args
		assert_output ''
		assert_one_line_error nbd-info "$text"
	done <<-'EOF'
	--bogus: unknown option|--bogus nbd://localhost
	-x: unknown option|-x nbd://localhost
	--can: missing argument|--can
	--is: missing argument|--is
	--json=1: option does not take an argument|--json=1 nbd://localhost
	missing NBD-URI|
	you cannot use --size and --list together|--size -L nbd://localhost
	you cannot use --content and --no-content together|--content --no-content nbd://localhost
	unknown --can or --is option: x|--can x nbd://localhost
	EOF
}

@test "cli: nbd-info writing to /dev/full is exit 1, write error" {
	local args
	while read -r args; do
		# shellcheck disable=SC2086
		run -1 --separate-stderr bash -c \
			'"$0" "$@" >/dev/full' "$NBDU_BUILD/nbd-info" $args
		assert_one_line_error nbd-info 'write error: No space left on device'
	done <<-'EOF'
	--version
	--help
	--usage
	--long-options
	--size -- [ nbdkit memory 1M ]
	--json -- [ nbdkit memory 1M ]
	-- [ nbdkit memory 1M ]
	-L -- [ nbdkit memory 1M ]
	EOF
}

@test "cli: nbd-info --long-options and --short-options feed the completion" {
	run_tool 0 nbd-info --long-options
	assert_line --index 0 -- --can
	assert_line -- --verbose
	refute_line -- --long-options
	refute_line -- --colour
	local longs
	longs=$output
	run_tool 0 nbd-info --short-options
	assert_output $'-L\n-v\n-V\n-?'
	# The completion lists them all, and completes --can/--is values.
	# shellcheck source=/dev/null
	source "$BATS_TEST_DIRNAME/../completions/nbd-utils.bash"
	local have opt
	have=" $(_nbd_utils_options nbd-info) "
	for opt in $longs; do
		[[ $have == *" $opt "* ]] || fail "completion lacks $opt"
	done
	COMP_WORDS=(nbd-info --can fa)
	COMP_CWORD=2
	_nbd_utils nbd-info
	assert_equal "${COMPREPLY[*]}" 'fast-zero'
	COMP_WORDS=(nbd-info --is=r)
	COMP_CWORD=1
	_nbd_utils nbd-info
	assert_equal "${COMPREPLY[*]}" '--is=read-only --is=rotational'
}

@test "cli: nbd-info's man page documents every option of --help" {
	local opt page
	page=$(cat "$BATS_TEST_DIRNAME/../man/nbd-info.1")
	for opt in $(tool nbd-info --long-options); do
		[[ $page == *"Fl -${opt#--}"* ]] || fail "man page lacks $opt"
	done
	for opt in $(tool nbd-info --short-options); do
		[[ $page == *"Fl ${opt#-}"* ]] || fail "man page lacks $opt"
	done
	run -0 mandoc -Tlint -W warning "$BATS_TEST_DIRNAME/../man/nbd-info.1"
}

@test "cli: nbd-info --can/--is values in the completion are all accepted" {
	# shellcheck source=/dev/null
	source "$BATS_TEST_DIRNAME/../completions/nbd-utils.bash"
	local flag
	for flag in $(_nbd_utils_values nbd-info --can) \
		$(_nbd_utils_values nbd-info --is); do
		run_tool 1 nbd-info --can "$flag" 'nbd+unix:///?socket=/nonexistent'
		refute_output --partial 'unknown'
		[[ $stderr != *"unknown --can"* ]] || fail "$flag: $stderr"
	done
}
