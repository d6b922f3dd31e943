#!/bin/sh
# The manual pages pass mandoc's linter: `mandoc -T lint -W warning`
# prints nothing for each. Pages made at build time (their @sysconfdir@
# and @docdir@ replaced) are checked in their .in source. Prints TAP.
srcdir=${top_srcdir:-.}/man
pages="shadowdiff.8 shadowdiff-compare.1 shadowdiff.conf.5 shadowdiff-report.1"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc not found"
	exit 0
fi

# shellcheck disable=SC2086 # the list is meant to split into words
set -- $pages
echo "1..$#"
n=0
for page in $pages; do
	n=$((n + 1))
	src=$srcdir/$page
	[ -f "$src" ] || src=$src.in
	if [ ! -f "$src" ]; then
		echo "not ok $n - $page # no $srcdir/$page(.in)"
		continue
	fi
	# mandoc may print notes about its database (-T lint looks up .Xr);
	# those are not about the page.
	out=$(mandoc -T lint -W warning "$src" 2>&1 | grep -v 'mandoc\.db')
	if [ -z "$out" ]; then
		echo "ok $n - $page"
	else
		echo "not ok $n - $page"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
