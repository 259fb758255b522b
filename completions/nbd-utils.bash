# bash completion for nbd-utils: nbd-copy, nbd-dump, nbd-info, nbd-stat-map.
# Installed once and linked under each tool name, because bash-completion
# loads completions by command name.  Each tool's options are listed here
# (and checked against --help by the tests), so completion works even
# before the binary is on PATH.
# shellcheck shell=bash

# Options of each tool, and the values some options take.
_nbd_utils_options() {
	case $1 in
	nbd-copy)
		# BEGIN nbd-copy options
		echo "--allocated --blkhash --blkhash-file --check --check-file" \
			"--checkpoint --connections --destination-is-zero --dirty-bitmap --flush" \
			"--no-extents --progress --progress-json --queue-size" \
			"--ranges --ranges-type --report --request-size --requests" \
			"--retries --retry-delay --sparse --synchronous" \
			"--target-is-zero --threads --timeout --verify --help" \
			"--usage --version --verbose"
		# END nbd-copy options
		;;
	nbd-dump)
		# BEGIN nbd-dump options
		echo "--help --usage --version --verbose --color --no-color --length --limit --offset --skip"
		# END nbd-dump options
		;;
	nbd-info)
		# BEGIN nbd-info options
		echo "--can --cannot --color --content --has --hasnt --help --is --isnt --json --list --no-color --no-content --size --uri --usage --verbose --version -L -V -v"
		# END nbd-info options
		;;
	nbd-stat-map)
		# BEGIN nbd-stat-map options
		echo "--help --usage --version --verbose --color --no-color --json --length --map --offset --picture --totals"
		# END nbd-stat-map options
		;;
	esac
}

# Values for OPTION of TOOL, or nothing if it takes a free-form value.
_nbd_utils_values() {
	case $1:$2 in
	# BEGIN values
	nbd-stat-map:--map) echo "base:allocation qemu:allocation-depth qemu:dirty-bitmap:" ;;
	nbd-info:--can | nbd-info:--cannot) echo "block-status cache connect df fast-zero flush fua multi-conn read read-only rotational structured-reply tls trim write zero" ;;
	nbd-info:--is | nbd-info:--isnt) echo "read-only rotational tls" ;;
	nbd-info:--has | nbd-info:--hasnt) echo "base:allocation qemu:allocation-depth qemu:dirty-bitmap:" ;;
	nbd-copy:--blkhash) echo "md5 sha1 sha224 sha256 sha384 sha512" ;;
	nbd-copy:--destination-is-zero) echo "trust" ;;
	nbd-copy:--ranges-type) echo "0 1 2 3" ;;
	nbd-copy:--dirty-bitmap) _nbd_utils_bitmaps ;;
	# END values
	*) return 1 ;;
	esac
}

# True if OPTION of TOOL takes its value only joined with '=': popt's
# optional values, where "--map VALUE" would make VALUE the endpoint.
_nbd_utils_joined() {
	case $1:$2 in
	nbd-stat-map:--map | nbd-copy:--blkhash | \
	nbd-copy:--destination-is-zero) return 0 ;;
	esac
	return 1
}

# The word being completed as the user typed it.  Without the
# bash-completion package, bash splits words at '=' and ':' too
# (COMP_WORDBREAKS): "--map=qemu:x" comes as "--map" "=" "qemu" ":" "x".
_nbd_utils_word() {
	local i=$COMP_CWORD word=${COMP_WORDS[COMP_CWORD]}
	while ((i > 0)) && [[ ${COMP_WORDS[i]} == [=:] ||
		${COMP_WORDS[i - 1]} == [=:] ]]; do
		i=$((i - 1))
		word=${COMP_WORDS[i]}$word
	done
	printf '%s' "$word"
}

# --opt=VALUE: the values that fit, each without what bash already
# treats as written (the part of the word before its last '=' or ':').
_nbd_utils_joined_values() {
	local tool=$1 word=$2 cur=$3 values prefix v
	values=$(_nbd_utils_values "$tool" "${word%%=*}") || return 0
	prefix=${word%"$cur"}
	COMPREPLY=()
	for v in $(compgen -W "$values" -- "${word#*=}"); do
		v=${word%%=*}=$v
		COMPREPLY+=("${v#"$prefix"}")
		# qemu:dirty-bitmap: waits for a name.
		[[ $v == *: ]] && compopt -o nospace 2>/dev/null
	done
	return 0
}

# The dirty bitmaps the NBD URI on the command line offers, as NAMEs;
# nbd-info asks the server, so no [ CMD ] server is started to complete
# a word.  Bounded, because a server may not answer.
_nbd_utils_bitmaps() {
	local w uri
	for w in $COMP_LINE; do
		[[ $w =~ ^nbds?(\+unix|\+vsock)?:// ]] && uri=$w
	done
	[[ -n $uri ]] && command -v nbd-info >/dev/null &&
		command -v timeout >/dev/null || return 0
	timeout 2 nbd-info --json -- "$uri" 2>/dev/null |
		sed -n 's/^ *"qemu:dirty-bitmap:\(.*\)",\{0,1\}$/\1/p'
}

_nbd_utils() {
	local cur prev tool=${1##*/} values word
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	word=$(_nbd_utils_word)

	if [[ $word == --*=* ]]; then
		_nbd_utils_joined_values "$tool" "$word" "$cur"
		return 0
	fi
	if ! _nbd_utils_joined "$tool" "$prev" &&
		values=$(_nbd_utils_values "$tool" "$prev"); then
		mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
		return 0
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_nbd_utils_options "$tool")" -- "$cur")
		return 0
	fi
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -o default -F _nbd_utils nbd-copy nbd-dump nbd-info nbd-stat-map
