#!/bin/sh
# bench/mirror.sh [BUILD]: what mirroring costs the client. Loads the test
# backend (tests/sd-backend -f go, the primary) with wrk, keep-alive,
# GET /json/1024 (a JSON body of 1024 bytes), seven ways, in one run:
#   direct        wrk to the primary;
#   shadowdiff    shadowdiff, primary only (no [shadow]);
#   sd-mirror     shadowdiff mirroring every request to sd-backend -f rust
#                 and diffing: every exchange differs ("version"), so
#                 every one is a record in the divergence log;
#   sd-hang       shadowdiff mirroring to a shadow that never answers
#                 (tests/sd-misbehave -m hang), shadow timeout 1s and the
#                 default max_inflight (100 per worker): most requests go
#                 unmirrored, and the client must not notice;
#   nginx         nginx, a plain reverse proxy with upstream keep-alive;
#   nginx-mirror  nginx with ngx_http_mirror_module to the rust backend
#                 (mirror_request_body on, upstream keep-alive);
#   nginx-hang    the same to the hanging shadow, proxy_connect_timeout
#                 and proxy_read_timeout 1s on the mirror location.
# Each proxy is started just before its runs and stopped right after, so
# nothing else is running during a measurement but the backends.
#
# It prints requests/s, p50 and p99 latencies and errors (socket errors
# plus non-2xx answers) per target; how many requests reached the primary
# and the shadow, the records written (wc -l of the divergence log; the
# log is complete once shadowdiff has stopped) and shadowdiff's own
# summary at exit (mirrored, not mirrored and why, compared, dropped);
# and the ratios sd-mirror/shadowdiff req/s (aim >= 0.75),
# sd-hang/shadowdiff p99 (aim <= 1.10), sd-mirror/nginx-mirror req/s and
# sd-hang/nginx-hang p99.
#
# BUILD (argument, else $BUILD, else ./build) holds shadowdiff,
# tests/sd-backend and tests/sd-misbehave. Settings from the environment:
#   DURATION      measured run per target, wrk syntax (default 10s)
#   WARMUP        uncounted run before it (default 2s)
#   CONNECTIONS   wrk connections (default 50)
#   THREADS       wrk threads (default 1)
#   WORKERS       nginx and shadowdiff worker processes/threads (default
#                 1: on 2 cores wrk needs one)
#   DIFF_THREADS  shadowdiff's [diff] threads (default 1)
# Everything started is stopped on exit, by PID; nothing is left running.
set -eu

DIFF_THREADS=${DIFF_THREADS:-1}

TARGET=/json/1024

FAILED_MSG=""
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

# Prints one row of the table: $1 the target, $2 measure's five fields
# (req/s p50 p90 p99 errors; p90 is left out) or a note.
row() {
	if measured "$2"; then
		# shellcheck disable=SC2086 # split the five fields
		set -- "$1" $2
		printf '%-13s %10s %8s %8s %7s\n' "$1" "$2" "$3" "$5" "$6"
	else
		printf '%-13s %s\n' "$1" "$2"
	fi
}

# Prints field $2 of measure's result $1, or nothing if $1 is empty.
field() {
	[ -n "$1" ] || return 0
	echo "$1" | awk -v i="$2" '{ print $i }'
}

# Prints $1 as a percentage of $2, or "n/a".
pct() {
	if [ -z "$1" ] || [ -z "$2" ] || [ "$2" -eq 0 ]; then
		echo n/a
	else
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%\n", 100 * a / b }'
	fi
}

# Prints ratio $1 and whether it meets the aim: $2 is ">=" or "<=", $3
# the bound.
aim() {
	case $1 in
	n/a)	echo "n/a" ;;
	*)	awk -v r="$1" -v op="$2" -v b="$3" 'BEGIN {
			ok = op == ">=" ? r >= b : r <= b
			printf "%s (aim %s %s: %s)\n", r, op, b,
			    ok ? "met" : "NOT met"
		}' ;;
	esac
}

# The request count of the sd-backend on port $1, and its reset.
backend_count() {
	curl -s --max-time 2 "http://127.0.0.1:$1/stats" |
	    awk '$1 == "requests" { print $2 }'
}
backend_reset() {
	curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$1/stats/reset" ||
	    true
}

# The lines in file $1 (0 if there is none).
lines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# Zeroes what the counts after a target are taken from: the requests the
# two backends received, and the hanging shadow's request heads so far.
counts_reset() {
	backend_reset "$GO_PORT"
	backend_reset "$RUST_PORT"
	HANG_BEFORE=$(lines "$DIR/hang.requests")
}

# Sets PRIMARY, RUST and HANG to the requests the primary, the rust
# backend and the hanging shadow received since counts_reset.
counts() {
	PRIMARY=$(backend_count "$GO_PORT")
	RUST=$(backend_count "$RUST_PORT")
	HANG=$(($(lines "$DIR/hang.requests") - HANG_BEFORE))
}

# Measures URL $2 as target $1: prints its row and sets RES to measure's
# five fields, or to "" if wrk failed.
bench() {
	if RES=$(measure "$2"); then
		row "$1" "$RES"
	else
		RES=""
		row "$1" "wrk failed (its output is above)"
	fi
}

# Target $1: shadowdiff before the primary, mirroring to 127.0.0.1:$2
# with the shadow timeout $3 (no [shadow] if $2 is empty), its divergence
# log $DIR/$1.records. Started, measured and stopped; sets RES.
sd_target() {
	port=$(free_port)
	{
		sd_conf "$port" "$GO_PORT"
		if [ -n "$2" ]; then
			cat <<EOF
[shadow]
url = http://127.0.0.1:$2
timeout = $3
[diff]
threads = $DIFF_THREADS
[log]
path = $DIR/$1.records
EOF
		fi
	} >"$DIR/$1.conf"
	RES=""
	if sd_start "$1" "$port"; then
		counts_reset
		bench "$1" "http://127.0.0.1:$port$TARGET"
	else
		row "$1" "$START_NOTE"
		SD_FAILED=1
	fi
	stop_pid "$SD_PID"
	counts
	# What it says of mirroring and diffing at exit, if it does.
	SUMMARY=$(sed -n 's/^[^ ]* info: //p' "$DIR/$1.log" |
	    grep -E '^(mirrored |shadow: |compared |divergence log: )' |
	    sed 's/^/              /' || true)
}

# Target $1: nginx before the primary, mirroring to 127.0.0.1:$2 with
# timeouts $3 (no mirror if $2 is empty). Started, measured and stopped;
# sets RES.
nginx_target() {
	RES=""
	if [ -z "$NGINX" ]; then
		row "$1" "nginx not installed"
		return 0
	fi
	port=$(free_port)
	if [ -n "$2" ]; then
		set -- "$1" "$port" "$GO_PORT" "$2" "$3"
	else
		set -- "$1" "$port" "$GO_PORT"
	fi
	if nginx_start "$@"; then
		counts_reset
		bench "$1" "http://127.0.0.1:$port$TARGET"
	else
		row "$1" "$START_NOTE"
	fi
	stop_pid "$NGINX_PID"
	counts
}

# Starts $BUILD/tests/sd-misbehave -m hang, logging each request head to
# $DIR/hang.requests; sets HANG_PORT, or calls die().
start_hang() {
	start_server hang "$BUILD/tests/sd-misbehave" -m hang \
	    -c "$DIR/hang.requests"
	HANG_PORT=$STARTED_PORT
}

need_tools wrk curl python3
need_built shadowdiff tests/sd-backend tests/sd-misbehave
find_nginx
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sd-bench.XXXXXX")

# The backends: the primary, the shadow that differs, the one that hangs.
start_backend go
GO_PORT=$BACKEND_PORT
wait_hello "http://127.0.0.1:$GO_PORT/hello" "$BACKEND_PID" ||
    die "sd-backend -f go does not answer"
start_backend rust
RUST_PORT=$BACKEND_PORT
wait_hello "http://127.0.0.1:$RUST_PORT/hello" "$BACKEND_PID" ||
    die "sd-backend -f rust does not answer"
start_hang
HANG_BEFORE=0

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up" \
    "$WARMUP), GET $TARGET; workers $WORKERS, diff threads $DIFF_THREADS"
echo "machine: $(machine)"
echo
printf '%-13s %10s %8s %8s %7s\n' target req/s p50_ms p99_ms errors

SD_FAILED=0

RES=""
bench direct "http://127.0.0.1:$GO_PORT$TARGET"
R_DIRECT=$RES

sd_target shadowdiff "" ""
R_SD=$RES

sd_target sd-mirror "$RUST_PORT" 5s
R_SD_MIRROR=$RES
SD_MIRROR_SUMMARY=$SUMMARY
RECORDS=$(lines "$DIR/sd-mirror.records")
MISMATCHES=$(grep -c '^{"type":"mismatch"' "$DIR/sd-mirror.records" \
    2>/dev/null || true)
SD_MIRROR_COUNTS="primary $PRIMARY, shadow $RUST ($(pct "$RUST" "$PRIMARY")),"
SD_MIRROR_COUNTS="$SD_MIRROR_COUNTS records $RECORDS"
SD_MIRROR_COUNTS="$SD_MIRROR_COUNTS ($(pct "$RECORDS" "$PRIMARY") of primary),"
SD_MIRROR_COUNTS="$SD_MIRROR_COUNTS mismatch ${MISMATCHES:-0}"

sd_target sd-hang "$HANG_PORT" 1s
R_SD_HANG=$RES
SD_HANG_SUMMARY=$SUMMARY
SD_HANG_COUNTS="primary $PRIMARY, shadow $HANG ($(pct "$HANG" "$PRIMARY")),"
SD_HANG_COUNTS="$SD_HANG_COUNTS records $(lines "$DIR/sd-hang.records"),"
SD_HANG_COUNTS="$SD_HANG_COUNTS timeouts $(grep -c '"error":"timeout"' \
    "$DIR/sd-hang.records" 2>/dev/null || true)"

nginx_target nginx "" ""
R_NGINX=$RES

nginx_target nginx-mirror "$RUST_PORT" 5s
R_NGINX_MIRROR=$RES
NGINX_MIRROR_COUNTS="primary $PRIMARY, shadow $RUST ($(pct "$RUST" "$PRIMARY"))"

nginx_target nginx-hang "$HANG_PORT" 1s
R_NGINX_HANG=$RES
NGINX_HANG_COUNTS="primary $PRIMARY, shadow $HANG ($(pct "$HANG" "$PRIMARY"))"

echo
echo "requests received during the warm-up and measured runs, records written:"
printf '%-13s %s\n' sd-mirror "$SD_MIRROR_COUNTS"
[ -z "$SD_MIRROR_SUMMARY" ] || printf '%s\n' "$SD_MIRROR_SUMMARY"
printf '%-13s %s\n' sd-hang "$SD_HANG_COUNTS"
[ -z "$SD_HANG_SUMMARY" ] || printf '%s\n' "$SD_HANG_SUMMARY"
if [ -n "$NGINX" ]; then
	printf '%-13s %s\n' nginx-mirror "$NGINX_MIRROR_COUNTS"
	printf '%-13s %s\n' nginx-hang "$NGINX_HANG_COUNTS"
fi

rps_direct=$(field "$R_DIRECT" 1)
rps_sd=$(field "$R_SD" 1)
rps_sd_mirror=$(field "$R_SD_MIRROR" 1)
rps_nginx=$(field "$R_NGINX" 1)
rps_nginx_mirror=$(field "$R_NGINX_MIRROR" 1)
p99_sd=$(field "$R_SD" 4)
p99_sd_hang=$(field "$R_SD_HANG" 4)
p99_nginx=$(field "$R_NGINX" 4)
p99_nginx_hang=$(field "$R_NGINX_HANG" 4)
echo
printf '%-32s %s\n' "sd-mirror/shadowdiff req/s" \
    "$(aim "$(ratio "$rps_sd_mirror" "$rps_sd")" '>=' 0.75)"
printf '%-32s %s\n' "sd-hang/shadowdiff p99" \
    "$(aim "$(ratio "$p99_sd_hang" "$p99_sd")" '<=' 1.10)"
printf '%-32s %s\n' "sd-mirror/nginx-mirror req/s" \
    "$(ratio "$rps_sd_mirror" "$rps_nginx_mirror")"
printf '%-32s %s (%s vs %s ms)\n' "sd-hang/nginx-hang p99" \
    "$(ratio "$p99_sd_hang" "$p99_nginx_hang")" "${p99_sd_hang:-n/a}" \
    "${p99_nginx_hang:-n/a}"
printf '%-32s %s\n' "shadowdiff/direct req/s" "$(ratio "$rps_sd" "$rps_direct")"
printf '%-32s %s\n' "shadowdiff/nginx req/s" "$(ratio "$rps_sd" "$rps_nginx")"
printf '%-32s %s\n' "nginx-mirror/nginx req/s" \
    "$(ratio "$rps_nginx_mirror" "$rps_nginx")"
printf '%-32s %s (%s vs %s ms)\n' "nginx-hang/nginx p99" \
    "$(ratio "$p99_nginx_hang" "$p99_nginx")" "${p99_nginx_hang:-n/a}" \
    "${p99_nginx:-n/a}"
[ "$SD_FAILED" -eq 0 ]
