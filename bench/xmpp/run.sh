#!/bin/sh
# bench/xmpp/run.sh [LIBRARY.db]: the XMPP bot's !quote round trip through
# Prosody on loopback (see roundtrip_test.go), pacing and cooldowns off,
# beside a bare echo client on the same server.
# Needs prosody (Debian package prosody). Figures go to BENCHMARKS.md, "## XMPP".
set -eu
cd "$(dirname "$0")/../.."
if [ $# -ge 1 ]; then
	QUOTESD_BENCH_DB=$(realpath "$1")
	export QUOTESD_BENCH_DB
fi
for round in 1 2 3; do
	echo "round $round" >&2
	go test -run '^$' -bench 'RoundTrip_(BareEcho|Unpaced)$' -benchtime "${N:-200}x" ./bench/xmpp
done
