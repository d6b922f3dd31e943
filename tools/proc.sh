# tools/proc.sh: sourced by tools/demo.sh and bench/proxy.sh, after they
# set FAILED_MSG (printed when the script fails, may be empty). The
# processes a script starts go into $PIDS; on exit, or on INT or TERM,
# each is stopped by PID (TERM, then KILL after 5 s) and $DIR, the
# script's temporary directory, is removed.

PIDS=""
DIR=""

# Says whether process $1 is running (a zombie is not).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Starts $BUILD/tests/sd-backend with flavor $1, its output in $DIR,
# waiting at most $TRIES tenths of a second; sets BACKEND_PID and
# BACKEND_PORT, or calls the script's die().
start_backend() {
	"$BUILD/tests/sd-backend" -f "$1" >"$DIR/$1.out" 2>"$DIR/$1.err" &
	BACKEND_PID=$!
	PIDS="$PIDS $BACKEND_PID"
	n=0
	while ! grep -q '^port ' "$DIR/$1.out" && [ $n -lt $TRIES ]; do
		alive "$BACKEND_PID" || break
		sleep 0.1
		n=$((n + 1))
	done
	BACKEND_PORT=$(awk '$1 == "port" { print $2; exit }' "$DIR/$1.out")
	[ -n "$BACKEND_PORT" ] ||
	    die "sd-backend -f $1 did not start: $(cat "$DIR/$1.err")"
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
