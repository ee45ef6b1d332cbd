#!/bin/sh
# Writes what a release ships beside the binary and that the binary itself
# makes: the man page (gzipped) and the shell completions. They come from
# the flag declarations, so they cannot drift from the binary they ship
# with. The goreleaser before-hook runs it with no arguments (into
# build/extras, from a fresh build); the package test names its own output
# directory and binary.
#
#   packaging/extras.sh [OUTDIR [QUOTESD-BINARY]]
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/extras}
bin=${2:-}
mkdir -p "$out/completions"
if [ -z "$bin" ]; then
	bin=$out/quotesd-extras
	go build -o "$bin" ./cmd/quotesd
	trap 'rm -f "$bin"' EXIT
fi
"$bin" man > "$out/quotesd.1"
gzip -9 -n -f "$out/quotesd.1"
"$bin" completion bash > "$out/completions/quotesd.bash"
"$bin" completion zsh > "$out/completions/_quotesd"
"$bin" completion fish > "$out/completions/quotesd.fish"
