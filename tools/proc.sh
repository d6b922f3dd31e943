# shellcheck shell=sh
# tools/proc.sh: sourced by tools/demo.sh and bench/lib.sh (so by the
# bench scripts), after they set FAILED_MSG (printed when the script
# fails, may be empty). The processes a script starts go into $PIDS;
# on exit, or on INT or TERM, each is stopped by PID (TERM, then KILL
# after 5 s) and $DIR, the script's temporary directory, is removed.

PIDS=""
DIR=""

# Says whether process $1 is running (a zombie is not).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Starts a test server (command and arguments after $1) whose output,
# in $DIR/$1.out, says "port N" once it listens, waiting at most $TRIES
# tenths of a second; sets STARTED_PID and STARTED_PORT, or calls the
# script's die().
start_server() {
	name=$1
	shift
	"$@" >"$DIR/$name.out" 2>"$DIR/$name.err" &
	STARTED_PID=$!
	PIDS="$PIDS $STARTED_PID"
	n=0
	while ! grep -qs '^port ' "$DIR/$name.out" && [ $n -lt "$TRIES" ]; do
		alive "$STARTED_PID" || break
		sleep 0.1
		n=$((n + 1))
	done
	STARTED_PORT=$(awk '$1 == "port" { print $2; exit }' "$DIR/$name.out")
	[ -n "$STARTED_PORT" ] ||
	    die "$* did not start: $(cat "$DIR/$name.err")"
}

# Starts $BUILD/tests/sd-backend -f $1 (go or rust); sets BACKEND_PID and
# BACKEND_PORT, or calls the script's die().
start_backend() {
	start_server "$1" "$BUILD/tests/sd-backend" -f "$1"
	# shellcheck disable=SC2034 # for the sourcing script
	BACKEND_PID=$STARTED_PID
	# shellcheck disable=SC2034
	BACKEND_PORT=$STARTED_PORT
}

# Stops what we started and removes $DIR.
cleanup() {
	status=$?
	trap - EXIT INT TERM
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $PIDS; do
		n=0
		while alive "$pid" && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[ -n "$DIR" ] && rm -rf "$DIR"
	if [ "$status" -ne 0 ] && [ -n "${FAILED_MSG:-}" ]; then
		echo "$FAILED_MSG" >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
