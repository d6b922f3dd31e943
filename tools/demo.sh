#!/bin/sh
# tools/demo.sh: shadowdiff in one command on Debian 12. Installs what is
# missing (tools/deps.sh), builds into ./build (or $BUILD), starts the
# test backend twice, as the Go service (primary) and as its Rust
# rewrite (shadow), puts shadowdiff in front and sends a few requests
# through it, printing each answer. Stops everything it started, by PID.
# Exits non-zero if any step fails.
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd)
BUILD=${BUILD:-$TOP/build}
TRIES=100		# readiness polls of 0.1 s: 10 s at most

FAILED_MSG="demo.sh: failed"
# shellcheck source=tools/proc.sh
. "$TOP/tools/proc.sh"

die() {
	echo "demo.sh: $*" >&2
	exit 1
}

step() {
	printf '\n==> %s\n' "$*"
}

# Sends request $2 (path) with method $1 through shadowdiff, expects
# status $3, prints the status line, a few headers and the body; further
# arguments go to curl.
show() {
	method=$1
	path=$2
	want=$3
	shift 3
	printf '\n--- %s %s%s\n' "$method" "$SD" "$path"
	curl -sS -i -X "$method" "$@" "$SD$path" >"$DIR/response" ||
	    die "$method $path: no answer"
	tr -d '\r' <"$DIR/response" | awk '
	NR == 1 { print; next }
	body { print; next }
	/^$/ { body = 1; print; next }
	tolower($0) ~ /^(content-type|content-length|server|x-echo-[a-z]+):/ {
		print
	}'
	got=$(awk 'NR == 1 { print $2; exit }' "$DIR/response")
	[ "$got" = "$want" ] || die "$method $path: status $got, expected $want"
}

step "dependencies (tools/deps.sh)"
sh tools/deps.sh
echo "all installed"

step "build in $BUILD"
[ -f configure ] || autoreconf -fi
if [ ! -f "$BUILD/Makefile" ]; then
	mkdir -p "$BUILD"
	(cd "$BUILD" && "$TOP/configure" -q)
fi
make -C "$BUILD" -j2

step "backends"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sd-demo.XXXXXX")
start_backend go
GO_PORT=$BACKEND_PORT
start_backend rust
RUST_PORT=$BACKEND_PORT
echo "Go service (sd-backend -f go)     on 127.0.0.1:$GO_PORT"
echo "Rust rewrite (sd-backend -f rust) on 127.0.0.1:$RUST_PORT"

step "shadowdiff"
# conf/shadowdiff.conf with the demo's addresses: the listener on a free
# port (0), the Go service as primary. RUST_PORT is for the shadow.
sed -e 's|^address = 127.0.0.1:8080|address = 127.0.0.1:0|' \
    -e "s|^url = http://127.0.0.1:9001|url = http://127.0.0.1:$GO_PORT|" \
    -e 's|^workers = auto|workers = 1|' \
    conf/shadowdiff.conf >"$DIR/shadowdiff.conf"
grep -E '^(address|url|workers) =' "$DIR/shadowdiff.conf" | sed 's/^/    /'
"$BUILD/shadowdiff" -c "$DIR/shadowdiff.conf" >"$DIR/shadowdiff.out" \
    2>"$DIR/shadowdiff.log" &
SD_PID=$!
PIDS="$PIDS $SD_PID"
n=0
while ! grep -q "listening on 127.0.0.1:" "$DIR/shadowdiff.log" &&
    [ $n -lt $TRIES ]; do
	alive "$SD_PID" || break
	sleep 0.1
	n=$((n + 1))
done
SD_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
    "$DIR/shadowdiff.log" | head -n 1)
[ -n "$SD_PORT" ] ||
    die "shadowdiff did not start: $(tail -n 5 "$DIR/shadowdiff.log")"
SD=http://127.0.0.1:$SD_PORT
echo "shadowdiff on 127.0.0.1:$SD_PORT (pid $SD_PID)"

step "requests through shadowdiff"
show GET /api/users/1 200
show GET '/api/search?q=%3Cb%3E' 200
show POST /echo 200 -H 'Content-Type: application/json' \
    --data-binary '{"name":"Ada","balance":1}'
show GET /status/404 404

step "shadowdiff's log"
cat "$DIR/shadowdiff.log"
