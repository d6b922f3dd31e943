#!/bin/sh
# bench/cpu.sh [BUILD]: CPU time per request of each target's process, in
# one run. Loads the test backend (tests/sd-backend -f go, the primary)
# with wrk, keep-alive, GET $TARGET, five ways:
#   direct        wrk to the primary (the CPU is the backend's);
#   nginx         nginx, a plain reverse proxy with upstream keep-alive;
#   shadowdiff    shadowdiff, primary only (no [shadow]);
#   nginx-mirror  nginx with ngx_http_mirror_module to a second backend,
#                 sd-backend -f rust (upstream keep-alive);
#   sd-mirror     shadowdiff mirroring every request to that backend,
#                 diffing, and logging each divergence (on /api/users/1
#                 and /json/N every exchange differs, so every one is a
#                 record in the divergence log).
# Each proxy is started just before its runs and stopped right after.
# For each target it prints the CPU microseconds per request of the
# target's process: utime + stime from /proc/PID/stat (all threads, and
# for nginx the master and its worker) after the measured run minus
# before it, divided by the requests wrk completed; then req/s, p50 and
# p99 latencies, errors, and the process's peak resident memory
# (VmHWM, MiB, since it started: warm-up included). Then the ratios
# shadowdiff/nginx, sd-mirror/shadowdiff and sd-mirror/nginx-mirror of
# CPU per request.
#
# BUILD (argument, else $BUILD, else ./build) holds shadowdiff and
# tests/sd-backend. Settings from the environment:
#   TARGET        the request path (default /api/users/1, a JSON body of
#                 about 150 bytes; /json/1048576 for a 1 MiB JSON body)
#   DURATION      measured run per target, wrk syntax (default 10s)
#   WARMUP        uncounted run before it (default 2s)
#   CONNECTIONS   wrk connections (default 50)
#   THREADS       wrk threads (default 1)
#   WORKERS       nginx and shadowdiff worker processes/threads (default
#                 1: on 2 cores wrk needs one)
#   DIFF_THREADS  shadowdiff's [diff] threads (default 1)
# The clock tick is 1/CLK_TCK s (10 ms usually): runs of some seconds
# are needed. Everything started is stopped on exit, by PID.
set -eu

TARGET=${TARGET:-/api/users/1}

FAILED_MSG=""
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

# Prints the peak resident memory of process $1 in MiB (with its
# children: the largest), or "-".
peak_mib() {
	all="$1 $(cat /proc/"$1"/task/*/children 2>/dev/null || true)"
	for pid in $all; do
		cat "/proc/$pid/status" 2>/dev/null || true
	done | awk '$1 == "VmHWM:" && $2 > m { m = $2 }
	    END { if (m) printf "%.1f\n", m / 1024; else print "-" }'
}

# Measures target $1 on URL $2, the process $3 being the one whose CPU
# time is counted: prints its row and sets CPU_US (empty if wrk failed).
bench() {
	CPU_US=""
	if res=$(measure_cpu "$3" "$2" && echo "$CPU_US"); then
		# shellcheck disable=SC2086 # split the fields
		set -- "$1" $res "$(peak_mib "$3")"
		CPU_US=$7
		printf '%-13s %8s %9s %8s %8s %7s %7s\n' "$1" "$7" "$2" "$3" \
		    "$5" "$6" "$8"
	else
		printf '%-13s %s\n' "$1" "wrk failed (its output is above)"
	fi
}

# Target $1: shadowdiff before the primary, mirroring to 127.0.0.1:$2
# (no [shadow] if $2 is empty). Started, measured and stopped; sets
# CPU_US.
sd_target() {
	port=$(free_port)
	if [ -n "$2" ]; then
		sd_conf_file "$1" "$port" "$GO_PORT" "$2" 5s
	else
		sd_conf_file "$1" "$port" "$GO_PORT"
	fi
	CPU_US=""
	if sd_start "$1" "$port"; then
		bench "$1" "http://127.0.0.1:$port$TARGET" "$SD_PID"
	else
		printf '%-13s %s\n' "$1" "$START_NOTE"
		SD_FAILED=1
	fi
	stop_pid "$SD_PID"
	SUMMARY=$(sed -n 's/^[^ ]* info: //p' "$DIR/$1.log" |
	    grep -E '^(mirrored |shadow: |compared |divergence log: )' |
	    sed 's/^/              /' || true)
}

# Target $1: nginx before the primary, mirroring to 127.0.0.1:$2 (no
# mirror if $2 is empty). Started, measured and stopped; sets CPU_US.
nginx_target() {
	CPU_US=""
	if [ -z "$NGINX" ]; then
		printf '%-13s %s\n' "$1" "nginx not installed"
		return 0
	fi
	port=$(free_port)
	if [ -n "$2" ]; then
		set -- "$1" "$port" "$GO_PORT" "$2" 5s
	else
		set -- "$1" "$port" "$GO_PORT"
	fi
	if nginx_start "$@"; then
		bench "$1" "http://127.0.0.1:$port$TARGET" "$NGINX_PID"
	else
		printf '%-13s %s\n' "$1" "$START_NOTE"
	fi
	stop_pid "$NGINX_PID"
}

for tool in wrk curl python3 getconf; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool not found (tools/deps.sh installs it)"
done
for prog in shadowdiff tests/sd-backend; do
	[ -x "$BUILD/$prog" ] ||
	    die "$BUILD/$prog not found: build first (make -C $BUILD)"
done
find_nginx
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sd-bench.XXXXXX")

start_backend go
GO_PORT=$BACKEND_PORT
GO_PID=$BACKEND_PID
wait_hello "http://127.0.0.1:$GO_PORT/hello" "$GO_PID" ||
    die "sd-backend -f go does not answer"
start_backend rust
RUST_PORT=$BACKEND_PORT
wait_hello "http://127.0.0.1:$RUST_PORT/hello" "$BACKEND_PID" ||
    die "sd-backend -f rust does not answer"

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo \
    2>/dev/null || true)
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up" \
    "$WARMUP), GET $TARGET; workers $WORKERS, diff threads ${DIFF_THREADS:-1}"
echo "machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $(uname -sr);" \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-13s %8s %9s %8s %8s %7s %7s\n' target cpu_us/req req/s p50_ms \
    p99_ms errors peakMiB

SD_FAILED=0
bench direct "http://127.0.0.1:$GO_PORT$TARGET" "$GO_PID"
nginx_target nginx ""
C_NGINX=$CPU_US
sd_target shadowdiff ""
C_SD=$CPU_US
nginx_target nginx-mirror "$RUST_PORT"
C_NGINX_MIRROR=$CPU_US
sd_target sd-mirror "$RUST_PORT"
C_SD_MIRROR=$CPU_US
echo
echo "sd-mirror: records $(wc -l <"$DIR/sd-mirror.records" 2>/dev/null ||
    echo 0)"
[ -z "$SUMMARY" ] || printf '%s\n' "$SUMMARY"

echo
echo "CPU per request, load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-32s %s (aim <= 0.90)\n' "shadowdiff/nginx" \
    "$(ratio "$C_SD" "$C_NGINX")"
printf '%-32s %s (aim <= 1.60)\n' "sd-mirror/shadowdiff" \
    "$(ratio "$C_SD_MIRROR" "$C_SD")"
printf '%-32s %s\n' "sd-mirror/nginx-mirror" \
    "$(ratio "$C_SD_MIRROR" "$C_NGINX_MIRROR")"
[ "$SD_FAILED" -eq 0 ]
