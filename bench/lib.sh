# bench/lib.sh: shell functions shared by the benchmarks, bench/proxy.sh,
# bench/mirror.sh and bench/tls.sh. Sourced after the script sets
# FAILED_MSG; it sets BUILD (the script's first argument, else $BUILD,
# else ./build) and the wrk settings' defaults (DURATION, WARMUP,
# CONNECTIONS, THREADS, WORKERS), and sources tools/proc.sh (PIDS, DIR,
# alive, wait_line, reap, start_backend and the trap that stops
# everything on exit). $DIR
# must be set before any function here is called.
# shellcheck shell=sh disable=SC2034 # it sets variables for its callers

BUILD=${1:-${BUILD:-./build}}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-1}

TRIES=100		# readiness polls of 0.1 s: 10 s at most

# shellcheck source=tools/proc.sh
. "$(dirname "$0")/../tools/proc.sh"

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# Dies unless each command named in the arguments is installed.
need_tools() {
	for tool; do
		command -v "$tool" >/dev/null 2>&1 ||
		    die "$tool not found (tools/deps.sh installs it)"
	done
}

# Dies unless each program named in the arguments is built in $BUILD.
need_built() {
	for prog; do
		[ -x "$BUILD/$prog" ] ||
		    die "$BUILD/$prog not found: build first (make -C $BUILD)"
	done
}

# Says whether $1 is measure's five fields (req/s p50 p90 p99 errors)
# rather than a note.
measured() {
	# shellcheck disable=SC2086 # split the five fields
	set -- $1
	[ $# -eq 5 ] && [ "$1" -eq "$1" ] 2>/dev/null
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
		if [ "$(curl -sk --max-time 1 "$1" 2>/dev/null)" = hello ]; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# Stops process $1, one of ours (TERM, then KILL after 10 s), and takes
# it off $PIDS.
stop_pid() {
	kill "$1" 2>/dev/null || true
	reap "$1" 100
	rest=""
	for pid in $PIDS; do
		[ "$pid" = "$1" ] || rest="$rest $pid"
	done
	PIDS=$rest
}

# Runs wrk on $1 (warm-up, then measured) and prints
# "req/s p50 p90 p99 errors", latencies in ms. The measured run's output
# stays in $DIR/wrk.out.
measure() {
	# $WRK_HEADER: a request header to add ("Connection: close").
	if [ -n "${WRK_HEADER:-}" ]; then
		set -- "$1" -H "$WRK_HEADER"
	fi
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" >/dev/null
	[ -z "${CPU_PIDS:-}" ] || CPU_T0=$(cpu_ticks "$CPU_PIDS")
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" \
	    >"$DIR/wrk.out"
	[ -z "${CPU_PIDS:-}" ] || CPU_T1=$(cpu_ticks "$CPU_PIDS")
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

# Prints the CPU time, in clock ticks, that the processes $1 (PIDs
# separated by spaces) and their children have used so far: utime and
# stime from /proc/PID/stat, which count every thread of the process,
# those that have ended too. The children are nginx's workers.
cpu_ticks() {
	all=""
	for pid in $1; do
		all="$all $pid $(cat /proc/"$pid"/task/*/children \
		    2>/dev/null || true)"
	done
	for pid in $all; do
		sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null || true
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# Like measure, and sets CPU_US to the CPU microseconds per request that
# the processes $1 (see cpu_ticks) used during the measured run: their
# CPU time divided by the requests wrk completed. The URL and wrk's
# options follow $1.
measure_cpu() {
	CPU_PIDS=$1
	shift
	measure "$@" >"$DIR/measure.res" || { CPU_PIDS=""; return 1; }
	CPU_PIDS=""
	reqs=$(awk '$2 == "requests" && $3 == "in" { print $1 }' \
	    "$DIR/wrk.out")
	CPU_US=$(awk -v t=$((CPU_T1 - CPU_T0)) -v hz="$(getconf CLK_TCK)" \
	    -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f\n", t * 1e6 / hz / n }')
	cat "$DIR/measure.res"
}

# Writes $DIR/$1.conf: sd_conf's shadowdiff on 127.0.0.1:$2 in front of
# the primary 127.0.0.1:$3; with $4, mirroring to 127.0.0.1:$4 with the
# shadow timeout $5, $DIFF_THREADS diff threads (default 1) and the
# divergence log $DIR/$1.records.
sd_conf_file() {
	{
		sd_conf "$2" "$3"
		if [ -n "${4:-}" ]; then
			cat <<EOF
[shadow]
url = http://127.0.0.1:$4
timeout = $5
[diff]
threads = ${DIFF_THREADS:-1}
[log]
path = $DIR/$1.records
EOF
		fi
	} >"$DIR/$1.conf"
}

# Prints $1 / $2 with two decimals, or "n/a".
ratio() {
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo n/a
	else
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
	fi
}

# Prints what the figures are measured on: the CPUs, their model and
# the kernel.
machine() {
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo \
	    2>/dev/null || true)
	echo "$(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
}

# Sets NGINX to the nginx binary, or to "" if there is none.
find_nginx() {
	NGINX=$(command -v nginx 2>/dev/null || true)
	if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then
		NGINX=/usr/sbin/nginx
	fi
}

# Prints an nginx configuration: prefix directory $1, listening on
# 127.0.0.1:$2, a plain reverse proxy to 127.0.0.1:$3 with upstream
# keep-alive, $WORKERS worker processes. With $4, every request is also
# mirrored (ngx_http_mirror_module, request body included) to
# 127.0.0.1:$4, upstream keep-alive too, with connect and read timeouts
# of $5 on the mirror subrequest. With $NGINX_TLS ("CHAIN KEY"), the
# listener speaks TLS 1.2 and 1.3 with that certificate.
nginx_conf() {
	cat <<EOF
worker_processes $WORKERS;
pid $1/nginx.pid;
error_log $1/error.log warn;
events {
	worker_connections 4096;
}
http {
	access_log off;
	client_body_temp_path $1/client_body;
	proxy_temp_path $1/proxy;
	fastcgi_temp_path $1/fastcgi;
	uwsgi_temp_path $1/uwsgi;
	scgi_temp_path $1/scgi;
	upstream b {
		server 127.0.0.1:$3;
		keepalive 64;
	}
EOF
	if [ -n "${4:-}" ]; then
		cat <<EOF
	upstream shadow {
		server 127.0.0.1:$4;
		keepalive 64;
	}
EOF
	fi
	cat <<EOF
	server {
		listen 127.0.0.1:$2${NGINX_TLS:+ ssl};
EOF
	if [ -n "${NGINX_TLS:-}" ]; then
		cat <<EOF
		ssl_certificate ${NGINX_TLS% *};
		ssl_certificate_key ${NGINX_TLS#* };
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache shared:SSL:10m;
EOF
	fi
	cat <<EOF
		location / {
EOF
	if [ -n "${4:-}" ]; then
		cat <<EOF
			mirror /mirror;
			mirror_request_body on;
EOF
	fi
	cat <<EOF
			proxy_pass http://b;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
EOF
	if [ -n "${4:-}" ]; then
		cat <<EOF
		location = /mirror {
			internal;
			proxy_pass http://shadow\$request_uri;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_connect_timeout $5;
			proxy_read_timeout $5;
		}
EOF
	fi
	cat <<EOF
	}
}
EOF
}

# Starts $NGINX with its own prefix directory $DIR/$1 and the
# configuration nginx_conf writes from $2 and on (see there), in the
# foreground (daemon off, with its master process); sets NGINX_PID and
# returns 0 once it answers GET /hello, else sets START_NOTE and returns 1.
nginx_start() {
	ndir=$DIR/$1
	shift
	mkdir -p "$ndir"
	nginx_conf "$ndir" "$@" >"$ndir/nginx.conf"
	"$NGINX" -p "$ndir" -c "$ndir/nginx.conf" \
	    -e "$ndir/error.log" -g 'daemon off;' \
	    >"$ndir/stdout" 2>&1 &
	NGINX_PID=$!
	PIDS="$PIDS $NGINX_PID"
	wait_hello "${NGINX_SCHEME:-http}://127.0.0.1:$1/hello" "$NGINX_PID" &&
	    return 0
	START_NOTE="failed to start: $(tail -n 3 "$ndir/error.log" \
	    "$ndir/stdout" 2>/dev/null | tr '\n' ' ')"
	return 1
}

# Prints the configuration of a shadowdiff with $WORKERS workers that
# listens on 127.0.0.1:$1 (its admin endpoint on a free port) in front
# of the primary 127.0.0.1:$2; the caller may add sections after it.
sd_conf() {
	cat <<EOF
[server]
workers = $WORKERS
[listen]
address = 127.0.0.1:$1
[admin]
listen = 127.0.0.1:0
[primary]
url = http://127.0.0.1:$2
EOF
}

# Starts $BUILD/shadowdiff with the configuration $DIR/$1.conf, which
# listens on 127.0.0.1:$2 (and nowhere else), stdout in $DIR/$1.out and
# messages in $DIR/$1.log; sets SD_PID and returns 0 once it is
# listening and answers GET /hello, else sets START_NOTE and returns 1.
sd_start() {
	"$BUILD/shadowdiff" -c "$DIR/$1.conf" \
	    >"$DIR/$1.out" 2>"$DIR/$1.log" &
	SD_PID=$!
	PIDS="$PIDS $SD_PID"
	if wait_line "listening on 127.0.0.1:$2" "$DIR/$1.log" "$SD_PID" &&
	    wait_hello "${SD_SCHEME:-http}://127.0.0.1:$2/hello" "$SD_PID"; then
		return 0
	fi
	START_NOTE="failed to start: $(tail -n 3 "$DIR/$1.log" |
	    tr '\n' ' ')"
	return 1
}
