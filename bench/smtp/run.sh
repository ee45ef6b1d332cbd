#!/usr/bin/env bash
# Benchmark of the mail frontend: postfix's smtp-source against quotesd and
# against postfix's smtp-sink, side by side (see main.go). smtp-source and
# smtp-sink come from Debian's postfix package, extracted, not installed.
# Usage: bench/smtp/run.sh [-m MESSAGES] [-s SESSIONS] [-d=false]
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download postfix >/dev/null 2>&1) || {
  echo "apt-get download postfix failed (run apt-get update?)" >&2; exit 1; }
dpkg-deb -x "$work"/postfix_*.deb "$work/postfix"
go build -o "$work/quotesd" ./cmd/quotesd
go run ./bench/smtp -postfix "$work/postfix" -quotesd "$work/quotesd" "$@"
