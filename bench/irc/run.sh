#!/bin/sh
# bench/irc/run.sh [LIBRARY.db]: the IRC bot's !quote round trip through
# ngircd on loopback (see roundtrip_test.go), with the bot's production
# settings at a realistic pace and with pacing and cooldowns off.
# Needs ngircd (Debian package ngircd). Figures go to BENCHMARKS.md, "## IRC".
# bench/run --only irc runs the unpaced and bare-echo cases in alternating
# rounds as part of the suite; this script also runs the production case.
set -eu
cd "$(dirname "$0")/../.."
if [ $# -ge 1 ]; then
	QUOTESD_BENCH_DB=$(realpath "$1")
	export QUOTESD_BENCH_DB
fi
go test -run '^$' -bench 'RoundTrip_(BareEcho|Unpaced)$' -benchtime "${UNPACED:-150}x" ./bench/irc
go test -run '^$' -bench 'RoundTrip_Production' -benchtime "${PRODUCTION:-40}x" ./bench/irc
