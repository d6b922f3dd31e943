#!/bin/sh
# tests/check-layers.sh: fails when a module reaches a header that
# docs/architecture.md says it must not (the "never does" column).
# Includes are followed through the project's own headers, so a header
# that pulls in another counts as including it. Run by make check; also
# by hand: sh tests/check-layers.sh [TOP_SRCDIR].
#
# Each rule is one line: FILES, the kind (deny: none of the headers
# matching the ERE; only: no project or libevent header but those
# matching it), the ERE, and the reason printed on a violation, separated
# by " :: ".
set -u

top=${1:-${top_srcdir:-$(dirname "$0")/..}}
cd "$top" || exit 2

RULES='
src/diff/*.c src/diff/*.h include/shadowdiff/diff.h :: only :: ^shadowdiff/diff\.h$ :: the diff engine is a library: no daemon header, no libevent
src/conn.c :: deny :: ^shadowdiff/(mirror|differ|record|divlog)\.h$ :: conn knows nothing of the shadow
src/differ.c src/record.c :: deny :: ^(event2/.*|shadowdiff/(worker|conn|exchange|upstream|sock)\.h)$ :: diff threads touch no worker, connection or libevent object
src/divlog.c :: deny :: ^(event2/.*|shadowdiff/(worker|conn|exchange|upstream|sock|diff)\.h)$ :: the writer thread writes records; it decides nothing about them
src/exchange.c :: deny :: ^shadowdiff/(differ|record|divlog)\.h$ :: the exchange hands its job to its worker; it never diffs
src/mirror.c :: deny :: ^(event2/.*|shadowdiff/(sock|upstream|worker|conn)\.h)$ :: mirror decides; it does no I/O of its own
src/http.c :: deny :: ^(event2/event\.h|event2/bufferevent\.h|shadowdiff/(sock|upstream|worker|conn)\.h)$ :: http is the message model: no I/O
src/upstream.c :: deny :: ^shadowdiff/(mirror|exchange|conn)\.h$ :: upstream sends what it is given; it never decides what to mirror
src/worker.c :: deny :: ^shadowdiff/exchange\.h$ :: a worker runs connections and hands jobs over; it knows nothing inside an exchange
src/config.c src/config-table.c src/route.c :: deny :: ^(event2/.*|shadowdiff/(sock|upstream|worker|conn|exchange)\.h)$ :: config reads files; it touches no socket
src/admin.c :: deny :: ^shadowdiff/(worker|conn|exchange|upstream|differ)\.h$ :: admin serves what report gathers; it reaches into no object of another thread
src/triage.c src/triage-parse.c :: deny :: ^(event2/.*|shadowdiff/(worker|conn|exchange|upstream|sock|config)\.h)$ :: triage aggregates records; it runs in the report tool and, later, off the workers
src/*.c tools/*.c :: deny :: ^shadowdiff/(daemon|listen)\.h$ :: only main, daemon and listen take part in start-up and reload
'
# Exempt from the last rule: the files that own start-up and reload.
STARTUP='src/main.c src/daemon.c src/listen.c'

list=$(find src include tools -name '*.[ch]' | sort)
# shellcheck disable=SC2086 # the list is meant to split into words
awk -v rules="$RULES" -v startup="$STARTUP" '
function dir(p) { sub(/\/[^\/]*$/, "", p); return p }
# The file a quoted include names, or "" outside the tree.
function resolve(from, name,   p) {
	if (name ~ /^shadowdiff\//) return "include/" name
	p = dir(from) "/" name
	return (p in seen) ? p : ""
}
# Collects in reach[] every header FILE reaches, with the first chain.
function walk(file, chain,   i, n, name, p) {
	n = nincl[file]
	for (i = 1; i <= n; i++) {
		name = incl[file, i]
		if (name in reach) continue
		reach[name] = chain
		p = resolve(file, name)
		if (p != "") walk(p, chain (chain == "" ? "" : " -> ") name)
	}
}
# Whether FILE matches one of the space-separated globs in PATS.
function matches(file, pats,   n, i, g, a) {
	n = split(pats, a, " ")
	for (i = 1; i <= n; i++) {
		g = a[i]
		gsub(/\./, "\\.", g)
		gsub(/\*/, "[^/]*", g)
		if (file ~ ("^" g "$")) return 1
	}
	return 0
}
FNR == 1 { seen[FILENAME] = 1; files[++nfiles] = FILENAME }
/^#[ \t]*include[ \t]*[<"]/ {
	line = $0
	sub(/^#[ \t]*include[ \t]*[<"]/, "", line)
	sub(/[>"].*$/, "", line)
	if ($0 ~ /</ && line !~ /^event2\//) next
	incl[FILENAME, ++nincl[FILENAME]] = line
}
END {
	# Every header each file reaches, with the first chain to it.
	for (f = 1; f <= nfiles; f++) {
		split("", reach)
		walk(files[f], "")
		for (h in reach)
			reached[files[f], h] = reach[h]
	}
	nrules = 0
	n = split(rules, rl, "\n")
	for (r = 1; r <= n; r++)
		if (split(rl[r], part, / :: /) == 4)
			rule[++nrules] = rl[r]
	printf("1..%d\n", nrules)
	bad = 0
	for (r = 1; r <= nrules; r++) {
		split(rule[r], part, / :: /)
		out = ""
		for (f = 1; f <= nfiles; f++) {
			file = files[f]
			if (!matches(file, part[1])) continue
			if (part[4] ~ /start-up and reload/ &&
			    index(" " startup " ", " " file " ")) continue
			for (k in reached) {
				split(k, fh, SUBSEP)
				if (fh[1] != file) continue
				h = fh[2]
				if (part[2] == "deny" && h !~ part[3]) continue
				if (part[2] == "only" && \
				    (h !~ /^(shadowdiff|event2)\// || h ~ part[3]))
					continue
				via = reached[k] == "" ? "" : \
				    " (via " reached[k] ")"
				out = out "# " file " reaches " h via "\n"
			}
		}
		if (out == "")
			printf("ok %d - %s\n", r, part[4])
		else {
			printf("not ok %d - %s\n%s", r, part[4], out)
			bad++
		}
	}
	exit(bad != 0)
}' $list
