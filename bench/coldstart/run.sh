#!/usr/bin/env bash
# Cold start under socket activation: the first QOTD answer and the first
# HTTP answer (a browser's first visit to /: Accept text/html, gzip and
# zstd accepted) of a quotesd that systemd-socket-activate starts on the
# client's connect, timed from the connect to the end of the reply; the
# process's CPU time and resident memory after that answer, and again
# after 2 s idle. Figures go to BENCHMARKS.md, "## Cold start".
#
# usage: bench/coldstart/run.sh [LIBRARY.db] [REV...]
#   builds the working tree's quotesd and that of each git REV given
#   (e.g. HEAD~3), and runs them in alternating rounds.
# env:   N (rounds, 20), SETTLE (idle wait, 2s), PROTOS ("qotd http")
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${1:-quotes.db}
[ $# -gt 0 ] && shift
N=${N:-20} SETTLE=${SETTLE:-2s} PROTOS=${PROTOS:-qotd http}
[ -f "$DB" ] || { echo "no library at $DB" >&2; exit 1; }
command -v systemd-socket-activate >/dev/null || { echo "systemd-socket-activate is missing (Debian package systemd)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each quotesd is installed (written with write(2), as a package manager
# does) rather than run where the linker wrote it: the page cache keeps
# the linker's output in small pages, which fault in differently (RssFile
# about 26 MB where an installed copy shows 19 MB, at the same CPU time).
go build -o "$tmp/client" ./bench/coldstart
go build -o "$tmp/build" ./cmd/quotesd
install -m 755 "$tmp/build" "$tmp/quotesd"
bins=$tmp/quotesd
for rev in "$@"; do
	git worktree add -q --detach "$tmp/src-$rev" "$rev"
	(cd "$tmp/src-$rev" && go build -o "$tmp/build" ./cmd/quotesd)
	git worktree remove --force "$tmp/src-$rev"
	install -m 755 "$tmp/build" "$tmp/quotesd-$rev"
	bins=$bins,$tmp/quotesd-$rev
done
rm "$tmp/build"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), library $DB ($(du -h "$DB" | cut -f1))"
for proto in $PROTOS; do
	"$tmp/client" -bin "$bins" -db "$DB" -proto "$proto" -n "$N" -settle "$SETTLE"
done
