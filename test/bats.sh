#!/bin/sh
# Run bats-core on the given paths, bringing it first if it is missing:
# as root through apt-get, otherwise from the npm registry into .tools/.
# As root it also brings mandoc, GNU parallel, rsync, gnuplot, netpbm and
# NumPy (for the interop tests).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
local_bats=$here/.tools/node_modules/bats/bin/bats
if command -v bats >/dev/null 2>&1; then
	bats=bats
elif [ -x "$local_bats" ]; then
	bats=$local_bats
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "test/bats.sh: installing bats with apt-get" >&2
	apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bats >&2
	bats=bats
elif command -v npm >/dev/null 2>&1; then
	echo "test/bats.sh: installing bats from npm into .tools/" >&2
	npm install --silent --prefix "$here/.tools" bats >&2
	bats=$local_bats
else
	echo "test/bats.sh: bats-core is missing and neither apt-get (as root) nor npm can bring it" >&2
	exit 2
fi
# The tools some tests need (man pages, sweeps, plots): installed as root
# through apt-get when missing; otherwise those tests skip and say why.
missing=
for t in mandoc:mandoc parallel:parallel rsync:rsync gnuplot:gnuplot-nox pnmtopng:netpbm; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing="$missing python3-numpy"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "test/bats.sh: installing$missing with apt-get" >&2
	# shellcheck disable=SC2086 # one word per package
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $missing; } >&2 ||
		echo "test/bats.sh: could not install$missing; the tests that need them skip" >&2
fi
exec "$bats" "$@"
