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

BUILD=${1:-${BUILD:-./build}}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-1}

TRIES=100		# readiness polls of 0.1 s: 10 s at most

FAILED_MSG=""
# shellcheck source=tools/proc.sh
. "$(dirname "$0")/../tools/proc.sh"

die() {
	echo "proxy.sh: $*" >&2
	exit 1
}

# Prints a TCP port that is free on 127.0.0.1 now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Waits until $1 answers "hello"; $2 is the PID serving it.
wait_hello() {
	n=0
	while [ $n -lt $TRIES ]; do
		alive "$2" || return 1
		if [ "$(curl -s --max-time 1 "$1" 2>/dev/null)" = hello ]; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# Runs wrk on $1 (warm-up, then measured) and prints
# "req/s p50 p90 p99 errors", latencies in ms.
measure() {
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$1" >/dev/null
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1" \
	    >"$DIR/wrk.out"
	awk '
	function ms(v) {
		if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
		if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
		if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 }
		return v + 0
	}
	$1 == "50%" { p50 = ms($2) }
	$1 == "90%" { p90 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	$1 == "Requests/sec:" { rps = $2 }
	/^ *Socket errors:/ {
		for (i = 3; i <= NF; i++) { v = $i; sub(/,$/, "", v);
		    if (v ~ /^[0-9]+$/) err += v }
	}
	/^ *Non-2xx or 3xx responses:/ { err += $NF }
	END {
		if (rps == "") exit 1
		printf "%.0f %.3f %.3f %.3f %d\n", rps, p50, p90, p99, err
	}' "$DIR/wrk.out" || { cat "$DIR/wrk.out" >&2; return 1; }
}

# Prints one row of the table: $1 the target, $2 measure's five fields
# or a note.
row() {
	target=$1
	note=$2
	# shellcheck disable=SC2086 # split the five fields
	set -- $2
	if [ $# -eq 5 ] && [ "$1" -eq "$1" ] 2>/dev/null; then
		printf '%-11s %10s %8s %8s %8s %7s\n' "$target" "$@"
	else
		printf '%-11s %s\n' "$target" "$note"
	fi
}

# Prints $1 / $2 with two decimals, or "n/a".
ratio() {
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo n/a
	else
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
	fi
}

for tool in wrk curl python3; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool not found (tools/deps.sh installs it)"
done
[ -x "$BUILD/tests/sd-backend" ] ||
    die "$BUILD/tests/sd-backend not found: build first (make -C $BUILD)"
NGINX=$(command -v nginx 2>/dev/null || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
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
	mkdir -p "$DIR/nginx"
	cat >"$DIR/nginx/nginx.conf" <<EOF
worker_processes $WORKERS;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log warn;
events {
	worker_connections 4096;
}
http {
	access_log off;
	client_body_temp_path $DIR/nginx/client_body;
	proxy_temp_path $DIR/nginx/proxy;
	fastcgi_temp_path $DIR/nginx/fastcgi;
	uwsgi_temp_path $DIR/nginx/uwsgi;
	scgi_temp_path $DIR/nginx/scgi;
	upstream b {
		server 127.0.0.1:$BACKEND_PORT;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass http://b;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
	"$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" \
	    -e "$DIR/nginx/error.log" -g 'daemon off;' \
	    >"$DIR/nginx/stdout" 2>&1 &
	NGINX_PID=$!
	PIDS="$PIDS $NGINX_PID"
	if wait_hello "http://127.0.0.1:$port/hello" "$NGINX_PID"; then
		NGINX_URL=http://127.0.0.1:$port/hello
	else
		NGINX_NOTE="failed to start: $(tail -n 3 "$DIR/nginx/error.log" \
		    "$DIR/nginx/stdout" 2>/dev/null | tr '\n' ' ')"
	fi
fi

# shadowdiff, primary only.
SD_URL=""
SD_NOTE="not built"
SD_FAILED=0
if [ -x "$BUILD/shadowdiff" ]; then
	port=$(free_port)
	cat >"$DIR/shadowdiff.conf" <<EOF
[server]
workers = $WORKERS
[listen]
address = 127.0.0.1:$port
[primary]
url = http://127.0.0.1:$BACKEND_PORT
EOF
	"$BUILD/shadowdiff" -c "$DIR/shadowdiff.conf" \
	    >"$DIR/shadowdiff.out" 2>"$DIR/shadowdiff.log" &
	SD_PID=$!
	PIDS="$PIDS $SD_PID"
	n=0
	while ! grep -q "listening on 127.0.0.1:$port" "$DIR/shadowdiff.log" &&
	    [ $n -lt $TRIES ]; do
		alive "$SD_PID" || break
		sleep 0.1
		n=$((n + 1))
	done
	if grep -q "listening on 127.0.0.1:$port" "$DIR/shadowdiff.log" &&
	    wait_hello "http://127.0.0.1:$port/hello" "$SD_PID"; then
		SD_URL=http://127.0.0.1:$port/hello
	else
		SD_FAILED=1
		SD_NOTE="failed to start: $(tail -n 3 "$DIR/shadowdiff.log" |
		    tr '\n' ' ')"
	fi
fi

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo \
    2>/dev/null || true)
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up" \
    "$WARMUP), GET /hello; workers $WORKERS"
echo "machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $(uname -sr)"
echo
printf '%-11s %10s %8s %8s %8s %7s\n' target req/s p50_ms p90_ms p99_ms errors

DIRECT=$(measure "$DIRECT_URL")
row direct "$DIRECT"

NGINX_RES=""
if [ -n "$NGINX_URL" ]; then
	NGINX_RES=$(measure "$NGINX_URL")
	row nginx "$NGINX_RES"
else
	row nginx "$NGINX_NOTE"
fi

SD_RES=""
if [ -n "$SD_URL" ]; then
	SD_RES=$(measure "$SD_URL")
	row shadowdiff "$SD_RES"
else
	row shadowdiff "$SD_NOTE"
fi

direct_rps=${DIRECT%% *}
nginx_rps=${NGINX_RES%% *}
sd_rps=${SD_RES%% *}
echo
echo "nginx/direct       $(ratio "$nginx_rps" "$direct_rps")"
echo "shadowdiff/direct  $(ratio "$sd_rps" "$direct_rps")"
echo "shadowdiff/nginx   $(ratio "$sd_rps" "$nginx_rps")"
[ "$SD_FAILED" -eq 0 ]
