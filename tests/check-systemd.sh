#!/bin/sh
# The systemd unit as built: systemd-analyze verify accepts it, and its
# exposure score (systemd-analyze security) stays "OK" or better. TAP.
# Skipped where systemd-analyze is missing.
set -u
top_builddir=${top_builddir:-.}
unit=$top_builddir/systemd/shadowdiff.service
echo "1..2"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "ok 1 # SKIP systemd-analyze not installed"
	echo "ok 2 # SKIP systemd-analyze not installed"
	exit 0
fi
# Verify the unit with this build's daemon in place of the installed one.
dir=$(mktemp -d "${TMPDIR:-/tmp}/sd-unit.XXXXXX")
trap 'rm -rf "$dir"' EXIT
sed -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/shadowdiff|\1$(cd "$top_builddir" && pwd)/shadowdiff|" \
    "$unit" >"$dir/shadowdiff.service"
if grep -q '@[a-z]*@' "$unit"; then
	echo "not ok 1 - placeholders left in $unit"
elif out=$(systemd-analyze verify --man=no "$dir/shadowdiff.service" 2>&1) &&
    [ -z "$out" ]; then
	echo "ok 1 - systemd-analyze verify"
else
	echo "not ok 1 - systemd-analyze verify"
	echo "$out" | sed 's/^/# /'
fi
score=$(systemd-analyze security --offline=true "$dir/shadowdiff.service" \
    2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	echo "ok 2 - exposure $score (at most 2.0)"
else
	echo "not ok 2 - exposure ${score:-unknown} (at most 2.0)"
fi
