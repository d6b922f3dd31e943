#!/bin/sh
# Installs what shadowdiff needs to build, test and benchmark on Debian 12.
# Idempotent: when everything is installed it prints nothing, runs no
# apt-get and needs no root; otherwise it runs apt-get update once and
# installs only the missing packages (as root).
set -eu

# Build, then tests (prometheus for promtool) and benchmark. One list:
# add packages here.
PACKAGES="build-essential autoconf automake libtool pkg-config
libevent-dev libssl-dev libjansson-dev libinih-dev zlib1g-dev libpcre2-dev check
node-llhttp curl python3 python3-jsonschema jq
nginx-light wrk mandoc prometheus"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) ||
	    status=""
	if [ "$status" != installed ]; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps.sh: missing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: must run as root to install packages" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: apt-get not found: install the packages above by hand" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: apt-get update and install" >&2
apt-get -q update >/dev/null
# shellcheck disable=SC2086 # the list is meant to split into words
apt-get -q -y --no-install-recommends install $missing >/dev/null
echo "deps.sh: done" >&2
