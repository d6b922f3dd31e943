#!/bin/sh
# tools/test-all.sh: the whole test suite on Debian 12, in one command.
# Installs what is missing (tools/deps.sh), then builds and runs
# `make check` twice, in a --enable-werror build and in a
# --enable-sanitizers (ASan + UBSan) build, then `make distcheck`.
# Ends with one line "N passed, M failed" (every Check test case and
# every step counts) and exits non-zero if anything failed.
set -u

cd "$(dirname "$0")/.."
TOP=$(pwd)
JOBS=${JOBS:-2}
passed=0
failed=0

# Adds the PASS and FAIL results of a build directory's test logs.
count() {
	p=$(cat "$1"/tests/*.trs 2>/dev/null | grep -c '^:test-result: PASS') || p=0
	f=$(cat "$1"/tests/*.trs 2>/dev/null | grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)') || f=0
	passed=$((passed + p))
	failed=$((failed + f))
}

# Records a step that is not a test case (a build, distcheck).
step() {
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "test-all.sh: FAILED: $2" >&2
	fi
}

if ! sh tools/deps.sh; then
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || { echo "0 passed, 1 failed"; exit 1; }
fi

for kind in werror sanitizers; do
	dir="$TOP/build-ci-$kind"
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "==> $kind build" >&2
	(cd "$dir" && ../configure -q --enable-"$kind" >/dev/null &&
	    make -s -j"$JOBS" >/dev/null)
	rc=$?
	step $rc "$kind build"
	[ $rc -eq 0 ] || continue
	echo "==> $kind: make check" >&2
	(cd "$dir" && make -s -j"$JOBS" check >/dev/null 2>&1)
	rc=$?
	count "$dir"
	if [ $rc -ne 0 ]; then
		echo "test-all.sh: make check failed in $dir; failing tests:" >&2
		grep -l '^:test-result: \(FAIL\|ERROR\)' "$dir"/tests/*.trs >&2 || true
		grep -h '^not ok' "$dir"/tests/*.log >&2 || true
		# A program that crashed before TAP has no results: count it.
		[ "$(cat "$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: \(FAIL\|ERROR\)')" -gt 0 ] ||
		    step 1 "make check in $dir"
	fi
done

echo "==> make distcheck" >&2
(cd "$TOP/build-ci-werror" && make -s -j"$JOBS" distcheck >/dev/null 2>&1)
step $? "make distcheck"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
