#!/bin/sh
# bench/tls.sh [BUILD]: TLS termination. Loads the test backend
# (tests/sd-backend, plain HTTP) through nginx and through shadowdiff
# (primary only), each terminating TLS with the same certificate (P-256,
# made by tests/gen-certs.sh), and prints for each:
#   keep-alive  wrk over HTTPS, GET /hello on kept connections: req/s
#   handshakes  the same with "Connection: close": a new connection and
#               a TLS handshake per request, handshakes/s (wrk resumes
#               the session it had: these are resumptions, TLS 1.3
#               PSK with a fresh ECDHE, as most returning clients do)
# and the ratios shadowdiff/nginx. Settings as bench/proxy.sh
# (DURATION, WARMUP, CONNECTIONS, THREADS, WORKERS).
# Everything started is stopped on exit, by PID; nothing is left running.
set -eu


FAILED_MSG=""
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

need_tools wrk curl python3 openssl
if [ ! -x "$BUILD/tests/sd-backend" ] || [ ! -x "$BUILD/shadowdiff" ]; then
	die "$BUILD/shadowdiff or tests/sd-backend not found: build first"
fi
find_nginx
[ -n "$NGINX" ] || die "nginx not found (tools/deps.sh installs it)"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sd-bench.XXXXXX")
sh "$(dirname "$0")/../tests/gen-certs.sh" "$DIR/certs"
CHAIN=$DIR/certs/chain-server.pem
KEY=$DIR/certs/server.key

start_backend go
wait_hello "http://127.0.0.1:$BACKEND_PORT/hello" "$BACKEND_PID" ||
    die "sd-backend does not answer"

NGINX_PORT=$(free_port)
NGINX_TLS="$CHAIN $KEY" NGINX_SCHEME=https \
    nginx_start nginx "$NGINX_PORT" "$BACKEND_PORT" ||
    die "nginx: $START_NOTE"

SD_PORT=$(free_port)
cat >"$DIR/shadowdiff.conf" <<EOF
[server]
workers = $WORKERS
[listen]
address = 127.0.0.1:$SD_PORT tls
[tls]
certificate = $CHAIN $KEY
[admin]
listen = 127.0.0.1:0
[primary]
url = http://127.0.0.1:$BACKEND_PORT
EOF
SD_SCHEME=https sd_start shadowdiff "$SD_PORT" || die "shadowdiff: $START_NOTE"

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up" \
    "$WARMUP), GET /hello over TLS (P-256 certificate); workers $WORKERS"
echo "machine: $(machine), $(openssl version)"
echo
# Prints one row: $1 the target, then measure's five fields.
row() {
	printf '%-22s %10s %8s %8s %8s %7s\n' "$@"
}
row target req/s p50_ms p90_ms p99_ms errors
NK=$(measure "https://127.0.0.1:$NGINX_PORT/hello")
# shellcheck disable=SC2086 # measure's five fields
row "nginx keep-alive" $NK
SK=$(measure "https://127.0.0.1:$SD_PORT/hello")
# shellcheck disable=SC2086 # measure's five fields
row "shadowdiff keep-alive" $SK
# A new connection per request: wrk reconnects after Connection: close.
WRK_HEADER="Connection: close"
NH=$(measure "https://127.0.0.1:$NGINX_PORT/hello")
# shellcheck disable=SC2086 # measure's five fields
row "nginx handshakes" $NH
SH=$(measure "https://127.0.0.1:$SD_PORT/hello")
# shellcheck disable=SC2086 # measure's five fields
row "shadowdiff handshakes" $SH
echo
echo "keep-alive shadowdiff/nginx  $(ratio "${SK%% *}" "${NK%% *}")"
echo "handshakes shadowdiff/nginx  $(ratio "${SH%% *}" "${NH%% *}")"
