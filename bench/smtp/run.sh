#!/usr/bin/env bash
# Benchmark of the mail frontend: postfix's smtp-source against quotesd,
# against Postfix itself as the mail server, against a do-nothing go-smtp
# server and against postfix's smtp-sink, side by side (see main.go).
# As root, Debian's postfix package is installed (not configured, not
# started: the benchmark runs its own instance); otherwise smtp-source and
# smtp-sink are extracted from it into the same cache as bench/run's, and
# Postfix is not measured. bench/run --only smtp runs this comparison as
# part of the suite; this script gives every option.
# Usage: bench/smtp/run.sh [-m MESSAGES] [-s SESSIONS] [-runs N] [-d=false]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$PWD/bench/out
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/quotesd-bench
mkdir -p "$OUT" "$CACHE"
# shellcheck source=bench/lib.sh
. bench/lib.sh
postfix_tools

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/quotesd" ./cmd/quotesd
go build -o "$work/bare-smtp" ./bench/smtp/bare
go run ./bench/smtp -postfix "$POSTFIX" -mta "$MTA" -quotesd "$work/quotesd" -bare "$work/bare-smtp" "$@"
