#!/bin/sh
# bench/proxy.sh [BUILD]: loads the test backend (tests/sd-backend) with
# wrk, keep-alive, GET /hello (6-byte body), three ways: directly,
# through nginx (a plain reverse proxy with upstream keep-alive) and
# through shadowdiff (primary only), and prints requests/s, latency
# percentiles and the ratios shadowdiff/direct and shadowdiff/nginx.
#
# BUILD (argument, else $BUILD, else ./build) holds tests/sd-backend and
# shadowdiff. Settings from the environment:
#   DURATION     measured run per target, wrk syntax (default 10s)
#   WARMUP       uncounted run before it (default 2s)
#   CONNECTIONS  wrk connections (default 50)
#   THREADS      wrk threads (default 1)
#   WORKERS      nginx and shadowdiff worker processes/threads (default 1:
#                on 2 cores wrk needs one)
# Everything started is stopped on exit, by PID; nothing is left running.
set -eu


FAILED_MSG=""
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

# Prints one row of the table: $1 the target, $2 measure's five fields
# or a note.
row() {
	if measured "$2"; then
		# shellcheck disable=SC2086 # split the five fields
		printf '%-11s %10s %8s %8s %8s %7s\n' "$1" $2
	else
		printf '%-11s %s\n' "$1" "$2"
	fi
}

# Measures URL $2 as target $1 and prints its row, or prints note $3 as
# its row if there is no URL; sets RES to measure's five fields, or "".
bench() {
	RES=""
	if [ -n "$2" ]; then
		RES=$(measure "$2")
		row "$1" "$RES"
	else
		row "$1" "$3"
	fi
}

need_tools wrk curl python3
need_built tests/sd-backend
find_nginx
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sd-bench.XXXXXX")

# The backend.
start_backend go
DIRECT_URL=http://127.0.0.1:$BACKEND_PORT/hello
wait_hello "$DIRECT_URL" "$BACKEND_PID" || die "sd-backend does not answer"

# nginx: Debian's package, our own configuration and files.
NGINX_URL=""
NGINX_NOTE="not installed"
if [ -n "$NGINX" ]; then
	port=$(free_port)
	if nginx_start nginx "$port" "$BACKEND_PORT"; then
		NGINX_URL=http://127.0.0.1:$port/hello
	else
		NGINX_NOTE=$START_NOTE
	fi
fi

# shadowdiff, primary only.
SD_URL=""
SD_NOTE="not built"
SD_FAILED=0
if [ -x "$BUILD/shadowdiff" ]; then
	port=$(free_port)
	sd_conf "$port" "$BACKEND_PORT" >"$DIR/shadowdiff.conf"
	if sd_start shadowdiff "$port"; then
		SD_URL=http://127.0.0.1:$port/hello
	else
		SD_FAILED=1
		SD_NOTE=$START_NOTE
	fi
fi

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up" \
    "$WARMUP), GET /hello; workers $WORKERS"
echo "machine: $(machine)"
echo
printf '%-11s %10s %8s %8s %8s %7s\n' target req/s p50_ms p90_ms p99_ms errors

bench direct "$DIRECT_URL" ""
DIRECT=$RES
bench nginx "$NGINX_URL" "$NGINX_NOTE"
NGINX_RES=$RES
bench shadowdiff "$SD_URL" "$SD_NOTE"
SD_RES=$RES

direct_rps=${DIRECT%% *}
nginx_rps=${NGINX_RES%% *}
sd_rps=${SD_RES%% *}
echo
echo "nginx/direct       $(ratio "$nginx_rps" "$direct_rps")"
echo "shadowdiff/direct  $(ratio "$sd_rps" "$direct_rps")"
echo "shadowdiff/nginx   $(ratio "$sd_rps" "$nginx_rps")"
[ "$SD_FAILED" -eq 0 ]
