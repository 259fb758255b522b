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
			"--checkpoint" \
			"--connections --destination-is-zero --flush" \
			"--no-extents --progress --queue-size --request-size" \
			"--requests --sparse --synchronous --target-is-zero" \
			"--threads --verify --help --usage --version --verbose"
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
	# END values
	*) return 1 ;;
	esac
}

_nbd_utils() {
	local cur prev tool=${1##*/} values
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}

	if [[ $cur == --*=* ]]; then
		values=$(_nbd_utils_values "$tool" "${cur%%=*}") || return 0
		mapfile -t COMPREPLY < <(compgen -P "${cur%%=*}=" -W "$values" -- "${cur#*=}")
		return 0
	fi
	if values=$(_nbd_utils_values "$tool" "$prev"); then
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
