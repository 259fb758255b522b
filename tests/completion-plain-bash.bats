#!/usr/bin/env bats
# Bash completion of --opt=VALUE in a plain bash, without the
# bash-completion package: bash then splits the word being completed at
# '=' and ':' too (COMP_WORDBREAKS), so "--map=qemu:a" reaches the
# function as "--map" "=" "qemu" ":" "a".  Values are offered joined
# with '=' only where the option needs it.

load helpers

# comp LINE: the completions bash --norc offers at the end of LINE, one a
# line, with COMP_WORDS split as bash splits them.
comp() {
	bash --norc -c '
		source "$1"
		line=$2
		read -ra COMP_WORDS <<<"$(sed "s/[=:]/ & /g" <<<"$line")"
		[[ $line == *[\ =:] ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_nbd_utils "${COMP_WORDS[0]}"
		printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$BATS_TEST_DIRNAME/../completions/nbd-utils.bash" "$1"
}

@test "completion: plain bash splits words at '=' and ':'" {
	run bash --norc -c 'printf %s "$COMP_WORDBREAKS"'
	[[ $output == *=* && $output == *:* ]]
	run bash --norc -c "source '$BATS_TEST_DIRNAME/../completions/nbd-utils.bash'; complete -p nbd-copy"
	assert_output 'complete -o default -F _nbd_utils nbd-copy'
}

@test "completion: --opt=<TAB> lists values in plain bash" {
	while IFS='|' read -r line want; do
		run comp "$line"
		assert_equal "$(echo $output)" "$want"
	done <<-'EOF'
	nbd-stat-map --map=|base:allocation qemu:allocation-depth qemu:dirty-bitmap:
	nbd-stat-map --map=qemu:a|allocation-depth
	nbd-stat-map --map=b|base:allocation
	nbd-info --can=fa|fast-zero
	nbd-info --is=read|read-only
	nbd-info --cannot=multi|multi-conn
	nbd-copy --blkhash=sha5|sha512
	nbd-copy --blkhash=|md5 sha1 sha224 sha256 sha384 sha512
	EOF
}

@test "completion: values after a space only for options that take one" {
	touch a-file
	run comp "nbd-info --can mu"
	assert_output multi-conn
	run comp "nbd-stat-map --map a"
	assert_output a-file
	run comp "nbd-copy --blkhash a"
	assert_output a-file
}
