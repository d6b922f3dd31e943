#!/bin/sh
# tools/demo.sh: shadowdiff in one command on Debian 12. Installs what is
# missing (tools/deps.sh), builds into ./build (or $BUILD), starts the
# test backend twice, as the Go service (primary) and as its Rust
# rewrite (shadow), puts shadowdiff in front and sends requests through
# it, printing each answer, then prints the divergence records they
# produced: the two real bugs, and none of the benign differences.
# Stops everything it started, by PID. Exits non-zero if any step fails.
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
# port (0), the Go service as primary, the Rust rewrite as shadow, the
# divergence log in the demo's directory.
LOG=$DIR/divergence.log
sed -e 's|^address = 127.0.0.1:8080|address = 127.0.0.1:0|' \
    -e 's|^listen = 127.0.0.1:9901|listen = 127.0.0.1:0|' \
    -e "s|^url = http://127.0.0.1:9001|url = http://127.0.0.1:$GO_PORT|" \
    -e "s|^url = http://127.0.0.1:9002|url = http://127.0.0.1:$RUST_PORT|" \
    -e "s|^path = /var/log/shadowdiff/divergence.log|path = $LOG|" \
    -e 's|^workers = auto|workers = 1|' \
    -e 's|^max_connections = 10000|max_connections = 1000|' \
    conf/shadowdiff.conf >"$DIR/shadowdiff.conf"
grep -E '^(address|url|workers|path) =' "$DIR/shadowdiff.conf" |
    sed 's/^/    /'
"$BUILD/shadowdiff" -c "$DIR/shadowdiff.conf" >"$DIR/shadowdiff.out" \
    2>"$DIR/shadowdiff.log" &
SD_PID=$!
PIDS="$PIDS $SD_PID"
wait_line "listening on 127.0.0.1:" "$DIR/shadowdiff.log" "$SD_PID" || true
SD_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
    "$DIR/shadowdiff.log" | head -n 1)
[ -n "$SD_PORT" ] ||
    die "shadowdiff did not start: $(tail -n 5 "$DIR/shadowdiff.log")"
SD=http://127.0.0.1:$SD_PORT
echo "shadowdiff on 127.0.0.1:$SD_PORT (pid $SD_PID)"

step "requests through shadowdiff"
# Clients get the Go service's answers; each GET is mirrored to the
# Rust rewrite and compared off the client's path.
show GET /api/users/1 200
show GET /api/users/2 200
show GET '/api/orders?user=1' 200
show GET '/api/orders?user=2' 200
show GET /api/orders/404 200
show GET '/api/search?q=%3Cb%3E%20%26%20co' 200
show GET /api/health 200
# A write: by default not mirrored (methods = GET HEAD OPTIONS).
show POST /echo 200 -H 'Content-Type: application/json' \
    --data-binary '{"name":"Ada","balance":1}'

step "the divergence log ($LOG)"
# Records are written by the diff threads: wait for the three bugs.
n=0
while [ "$(wc -l <"$LOG" 2>/dev/null || echo 0)" -lt 3 ] &&
    [ $n -lt $TRIES ]; do
	sleep 0.1
	n=$((n + 1))
done
sleep 0.3	# anything else would come now
records=$(wc -l <"$LOG")
echo "$records records (benign differences such as key order, 1 against"
echo "1.0, \\u003c against <, null against [] and timestamps are not"
echo "reported). One line each, as written:"
echo
cat "$LOG"
echo
echo "The same, readable (jq):"
jq -r '"\(.type) \(.method) \(.uri) (route \(.route)): primary \(.primary.status), shadow \(.shadow.status // .shadow.error)",
    (.diffs[] | "    \(.kind) \(if .kind == "status" then "" elif .path == "" then "(whole body) " else "\(.path) " end)\(.op): \(if has("primary") then (.primary | tojson) else "-" end) -> \(if has("shadow") then (.shadow | tojson) else "-" end)")' "$LOG"
[ "$records" -eq 3 ] ||
    die "expected 3 records (the three bugs), found $records"
grep -q '"path":"/balance"' "$LOG" || die "the balance bug is missing"
grep -q '"path":"/2","op":"removed"' "$LOG" ||
    die "the missing order is missing"
grep -q '"kind":"status"' "$LOG" || die "the 500 is missing"

step "the admin endpoint"
# The same story in figures, per route: what Prometheus would scrape.
ADMIN_PORT=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' \
    "$DIR/shadowdiff.log" | head -n 1)
[ -n "$ADMIN_PORT" ] || die "no admin endpoint in shadowdiff's log"
ADMIN=http://127.0.0.1:$ADMIN_PORT
echo "curl $ADMIN/healthz: $(curl -sS "$ADMIN/healthz")"
echo "curl $ADMIN/metrics, the comparisons and differences counted:"
curl -sS "$ADMIN/metrics" >"$DIR/metrics"
grep -E '^shadowdiff_(compared|differences)_total' "$DIR/metrics" |
    grep -v ' 0$' | sed 's/^/    /'
[ "$(grep -E '^shadowdiff_compared_total\{.*verdict="mismatch"\}' \
    "$DIR/metrics" | awk '{ n += $2 } END { print n }')" -eq 3 ] ||
    die "the metrics do not count the three bugs"

step "shadowdiff's log"
cat "$DIR/shadowdiff.log"
