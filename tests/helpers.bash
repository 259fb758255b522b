# Shared by every bats file: "load helpers".
#
# Tests never call our binaries directly: run_tool finds them in
# $NBDU_BUILD, checks the exit status and keeps stdout ($output) and
# stderr ($stderr) apart.  Servers are started with the start_* helpers,
# which record their pids so teardown kills every one of them.
# shellcheck shell=bash disable=SC2034

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${NBDU_BUILD:=$BATS_TEST_DIRNAME/../build}"
export NBDU_BUILD
export LC_ALL=C.UTF-8
unset NO_COLOR LIBNBD_DEBUG
# "make check-sanitize" exports BUILD=build-asan and SANITIZE through
# MAKEFLAGS; a test that runs make (an unpacked tarball, the package)
# passes what it means on the command line instead.
unset MAKEFLAGS MFLAGS MAKELEVEL

# Under "make check-valgrind" every tool runs under valgrind.
nbdu_wrap=()
if [ -n "${NBDU_VALGRIND:-}" ]; then
	nbdu_wrap=(valgrind -q --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite --trace-children=no)
fi

setup() {
	nbdu_setup
}

teardown() {
	nbdu_teardown
}

nbdu_setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	: >"$BATS_TEST_TMPDIR/.pids"
}

# True while PID runs.  Daemons we start are reparented to init, which
# may be slow to reap them, so a zombie counts as gone.
_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Kills every server a test started, and waits until each is gone.
nbdu_teardown() {
	local pid
	[ -f "$BATS_TEST_TMPDIR/.pids" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/.pids"
	while read -r pid; do
		for _ in $(seq 50); do
			_alive "$pid" || break
			sleep 0.1
		done
		_alive "$pid" && kill -9 "$pid" 2>/dev/null
	done <"$BATS_TEST_TMPDIR/.pids"
	rm -f "$BATS_TEST_TMPDIR/.pids"
}

# require CMD ARGS...: skip the test with a reason unless the probe works.
require() {
	"$@" >/dev/null 2>&1 || skip "needs: $*"
}

# run_tool [STATUS] TOOL ARGS...: runs build/TOOL, expects STATUS (0).
run_tool() {
	local status=0 tool
	if [[ $1 =~ ^[0-9]+$ ]]; then
		status=$1
		shift
	fi
	tool=$1
	shift
	run "-$status" --separate-stderr "${nbdu_wrap[@]}" "$NBDU_BUILD/$tool" "$@"
}

# tool TOOL ARGS...: runs build/TOOL directly, for pipes and redirections.
tool() {
	local t=$1
	shift
	"${nbdu_wrap[@]}" "$NBDU_BUILD/$t" "$@"
}

# The error on stderr is one line, "PROG: ..." containing TEXT.
# (run_tool sets stderr and stderr_lines.)
# shellcheck disable=SC2154
assert_one_line_error() {
	local prog=$1 text=$2
	[ "${#stderr_lines[@]}" -eq 1 ] ||
		fail "expected one line on stderr, got ${#stderr_lines[@]}: $stderr"
	[[ ${stderr_lines[0]} == "$prog: "* ]] ||
		fail "stderr does not start with '$prog: ': $stderr"
	[[ $stderr == *"$text"* ]] || fail "stderr lacks '$text': $stderr"
}

# Sets VAR to URI and VAR_sock to SOCK, for the start_* helpers.
_publish() {
	printf -v "$1" '%s' "$2"
	printf -v "${1}_sock" '%s' "$3"
}

_record_pid() {
	echo "$1" >>"$BATS_TEST_TMPDIR/.pids"
}

# Waits up to 10 s for FILE to exist and be non-empty.
_wait_file() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# start_nbdkit VAR NBDKIT-ARGS...: nbdkit on a Unix socket in the test's
# directory; VAR gets its nbd+unix URI and VAR_sock its socket path.
start_nbdkit() {
	local var=$1 sock pidf
	shift
	sock=$BATS_TEST_TMPDIR/$var.sock
	pidf=$BATS_TEST_TMPDIR/$var.pid
	rm -f "$sock" "$pidf"
	nbdkit -U "$sock" -P "$pidf" "$@" || return 1
	_wait_file "$pidf" || return 1
	_record_pid "$(cat "$pidf")"
	_publish "$var" "nbd+unix:///?socket=$sock" "$sock"
}

# start_qemu_nbd VAR QEMU-NBD-ARGS... IMAGE: like start_nbdkit.
start_qemu_nbd() {
	local var=$1 sock pidf
	shift
	sock=$BATS_TEST_TMPDIR/$var.sock
	pidf=$BATS_TEST_TMPDIR/$var.pid
	rm -f "$sock" "$pidf"
	qemu-nbd --fork --persistent --pid-file="$pidf" -k "$sock" "$@" || return 1
	_wait_file "$pidf" || return 1
	_record_pid "$(cat "$pidf")"
	_publish "$var" "nbd+unix:///?socket=$sock" "$sock"
}

# start_nbd_server VAR FILE [EXPORT]: nbd-server from a config file of
# its own, serving FILE as EXPORT (default "disk") on a Unix socket.
start_nbd_server() {
	local var=$1 file=$2 name=${3:-disk} sock pidf conf
	sock=$BATS_TEST_TMPDIR/$var.sock
	pidf=$BATS_TEST_TMPDIR/$var.pid
	conf=$BATS_TEST_TMPDIR/$var.conf
	rm -f "$sock" "$pidf"
	cat >"$conf" <<-EOC
	[generic]
	unixsock = $sock
	allowlist = true
	[$name]
	exportname = $file
	EOC
	nbd-server -C "$conf" -p "$pidf" >/dev/null 2>&1 || return 1
	_wait_file "$pidf" || return 1
	_record_pid "$(cat "$pidf")"
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	_publish "$var" "nbd+unix:///$name?socket=$sock" "$sock"
}

# assert_json_subset EXPECTED ACTUAL: both are valid JSON documents and
# every key and value of EXPECTED is in ACTUAL with the same value and
# type (ACTUAL may have more keys; arrays must match element by element).
# For comparing our --json with nbdinfo's, which allows added keys.
assert_json_subset() {
	python3 - "$1" "$2" <<'PY' || fail "JSON differs (expected ⊆ actual)"
import json, sys
exp, act = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def sub(e, a, path):
    if type(e) is not type(a):
        sys.exit(f"{path}: {e!r} vs {a!r}")
    if isinstance(e, dict):
        for k in e:
            if k not in a:
                sys.exit(f"{path}: missing key {k!r}")
            sub(e[k], a[k], f"{path}.{k}")
    elif isinstance(e, list):
        if len(e) != len(a):
            sys.exit(f"{path}: {len(e)} items vs {len(a)}")
        for i, (x, y) in enumerate(zip(e, a)):
            sub(x, y, f"{path}[{i}]")
    elif e != a:
        sys.exit(f"{path}: {e!r} vs {a!r}")
sub(exp, act, "$")
PY
}

# start_hostile VAR ARGS...: tests/hostile-server.py, an NBD server that
# misbehaves as ARGS say (--read MODE, --extents MODE, --size N, ...),
# on a Unix socket; VAR gets its nbd+unix URI (default export) and
# VAR_sock its socket path.
start_hostile() {
	local var=$1 sock pidf
	shift
	sock=$BATS_TEST_TMPDIR/$var.sock
	pidf=$BATS_TEST_TMPDIR/$var.pid
	rm -f "$sock" "$pidf"
	python3 "$BATS_TEST_DIRNAME/hostile-server.py" --socket "$sock" \
		--pidfile "$pidf" "$@" </dev/null >/dev/null 2>&1 3>&- &
	_record_pid "$!"
	_wait_file "$pidf" || return 1
	_publish "$var" "nbd+unix:///?socket=$sock" "$sock"
}

# make_pki DIR CN: a CA named CN, a server certificate for localhost
# (and 127.0.0.1) and a client certificate signed by it, laid out as
# libnbd and nbdkit want.  Needs certtool (gnutls-bin).
make_pki() {
	mkdir -p "$1"
	(
		cd "$1" || exit 1
		certtool --generate-privkey --outfile ca-key.pem
		printf 'cn = %s\nca\ncert_signing_key\nexpiration_days = 2\n' \
			"$2" >ca.info
		certtool --generate-self-signed --load-privkey ca-key.pem \
			--template ca.info --outfile ca-cert.pem
		for who in server client; do
			certtool --generate-privkey --outfile "$who-key.pem"
			if [ "$who" = server ]; then
				printf '%s\n' 'cn = localhost' 'dns_name = localhost' \
					'ip_address = 127.0.0.1' tls_www_server
			else
				printf '%s\n' 'cn = client' tls_www_client
			fi >"$who.info"
			printf '%s\n' encryption_key signing_key \
				'expiration_days = 2' >>"$who.info"
			certtool --generate-certificate \
				--load-ca-certificate ca-cert.pem \
				--load-ca-privkey ca-key.pem \
				--load-privkey "$who-key.pem" --template "$who.info" \
				--outfile "$who-cert.pem"
		done
		chmod 600 ./*-key.pem
	) >/dev/null 2>&1
}

# For TLS test files: "setup_file() { tls_setup_file; }" makes a CA,
# certificates ($pki) and a PSK file ($psk) once per file, and
# "setup() { tls_setup; }" skips when certtool or psktool is missing.
tls_setup_file() {
	command -v certtool >/dev/null && command -v psktool >/dev/null ||
		return 0
	make_pki "$BATS_FILE_TMPDIR/pki" 'nbd-utils test CA'
	psktool -u alice -p "$BATS_FILE_TMPDIR/keys.psk" >/dev/null
}

tls_setup() {
	nbdu_setup
	[ -s "$BATS_FILE_TMPDIR/pki/client-cert.pem" ] ||
		skip "needs: certtool and psktool"
	pki=$BATS_FILE_TMPDIR/pki
	psk=$BATS_FILE_TMPDIR/keys.psk
}

# Under "bats --jobs" (make check), the tests of one file run side by
# side only in hostile.bats: each of its tests has a server of its own,
# and the file alone takes longer than the rest of the suite divided
# among the jobs.  Every other file runs its tests in order, as they
# may share a file's setup (install.bats) or loop devices (block.bats).
# bats reads this after sourcing the file, hence a plain assignment.
if [ "${BATS_TEST_FILENAME##*/}" != hostile.bats ]; then
	BATS_NO_PARALLELIZE_WITHIN_FILE=true
fi

# mkimg FILE MIB: a sparse image of MIB MiB (4 or more) with random data
# in its first eighth, a MiB of it at five eighths, a hole between and
# the mark "end!" in its last four bytes, so copies meet data, holes and
# an end that is not a whole block of data.
mkimg() {
	local f=$1 mib=$2
	rm -f "$f"
	truncate -s "${mib}M" "$f"
	head -c "$((mib / 8 > 0 ? mib / 8 : 1))M" /dev/urandom |
		dd of="$f" conv=notrunc status=none
	head -c 1M /dev/urandom |
		dd of="$f" bs=1M seek=$((mib * 5 / 8)) conv=notrunc status=none
	printf 'end!' | dd of="$f" bs=1 seek=$((mib * 1048576 - 4)) \
		conv=notrunc status=none
}

# assert_error_is LINE: stderr is exactly LINE (run_tool checked the exit).
assert_error_is() {
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "want one line: $stderr"
	[ "${stderr_lines[0]}" = "$1" ] ||
		fail "got '${stderr_lines[0]}', want '$1'"
}

# assert_error_matches REGEX: stderr is one line matching REGEX.
assert_error_matches() {
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "want one line: $stderr"
	[[ ${stderr_lines[0]} =~ $1 ]] ||
		fail "'${stderr_lines[0]}' does not match '$1'"
}

# quote_re TEXT: TEXT as a bash extended regular expression.
quote_re() {
	printf '%s' "$1" | sed 's/[][\\.*^$?+(){}|]/\\&/g'
}

# map_same_as_nbdinfo URI [OPTION...]: nbd-stat-map prints what
# nbdinfo --map prints, and nothing on stderr (skipped without nbdinfo).
map_same_as_nbdinfo() {
	local uri=$1 want
	shift
	command -v nbdinfo >/dev/null || return 0
	want=$(nbdinfo --map "$@" "$uri") || fail "nbdinfo failed"
	run_tool nbd-stat-map "$@" "$uri"
	assert_output "$want"
	[ -z "$stderr" ] || fail "unexpected stderr: $stderr"
}

# copy_appending FILE ARGS...: nbd-copy ARGS with stdout appended to
# FILE, for "run" (which would capture stdout itself).
copy_appending() {
	local out=$1
	shift
	"${nbdu_wrap[@]}" "$NBDU_BUILD/nbd-copy" "$@" >>"$out"
}

# Random bytes with no run of zeroes, so every block is written.
random_img() {
	head -c "$2" /dev/urandom | tr '\0' '\1' >"$1"
}
