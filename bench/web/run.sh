#!/usr/bin/env bash
# Web benchmark: wrk against quotesd's /api/v1/today, / (the HTML page) and
# today's quote cards (/today.png, /today.svg, cached after the first),
# a bare net/http handler writing the same JSON body (and, as references,
# writing quotesd's very API and PNG card responses, header fields and
# all), and Twisted web serving the same bytes, one after the other in one
# run on loopback.
# bench/run --only http runs the suite's comparison (with nginx as well);
# this script keeps the variants (access log off, rate limit on, hardened bare).
#
#   bench/web/run.sh [duration, default 5s] [connections, default 32] [rounds, default 5]
#
# The machine may be shared and noisy, so the targets are measured in
# rounds, interleaved (bare, quotesd, ..., bare, quotesd, ...), and each
# target's best and median rounds are reported: noise only ever slows a
# run down, and interleaving spreads it over every target alike.
#
# Needs wrk and python3-twisted (Debian packages wrk, python3-twisted).
# Prints one line per target and the ratio quotesd/bare for the API.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-5s}
CONNS=${2:-32}
ROUNDS=${3:-5}
THREADS=${THREADS:-1}
PY=${PYTHON:-/usr/bin/python3}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/quotesd" ./cmd/quotesd
go build -o "$work/bare" bench/web/bare.go
cp "${DB:-quotes.db}" "$work/quotes.db" # DB=path to bench another library

# Every frontend but web, and the operations listener, is switched off,
# whatever frontends exist.
off=()
for f in $("$work/quotesd" serve -h 2>&1 | grep -oE -- '-[a-z]+(-[a-z]+)*-addr' | sort -u); do
	[ "$f" = "-web-addr" ] || off+=("-$f=")
done

H=127.0.0.1:18085 S=127.0.0.1:18086 P=127.0.0.1:18087 Q=127.0.0.1:18080 B=127.0.0.1:18081 T=18082 L=127.0.0.1:18083 N=127.0.0.1:18084
# The access log (one JSON line per request) goes to /dev/null but is
# still formatted and written: it is part of the cost measured. The rate
# limit is off: wrk is one client, and a per-IP limit would stop it.
"$work/quotesd" --db "$work/quotes.db" serve "${off[@]}" --web-addr "$Q" --web-rate 0 \
	--log-format json --state-dir "$work/state" 2>/dev/null &
pids+=($!)
# The same with the per-IP rate limit on, at a limit wrk cannot reach, to
# show what the limiter (and deciding the client IP) costs.
"$work/quotesd" --db "$work/quotes.db" serve "${off[@]}" --web-addr "$L" --web-rate 1000000000 \
	--log-format json --state-dir "$work/state2" 2>/dev/null &
pids+=($!)
# And without the access log (--web-access-log=false), to show its cost.
"$work/quotesd" --db "$work/quotes.db" serve "${off[@]}" --web-addr "$N" --web-rate 0 --web-access-log=false \
	--log-format json --state-dir "$work/state3" 2>/dev/null &
pids+=($!)
waitfor() { for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
# /livez is not on the web port (it is on the operations listener, which
# the loop above turns off): wait for the API itself.
waitfor "http://$Q/api/v1/today"
waitfor "http://$L/api/v1/today"
waitfor "http://$N/api/v1/today"
curl -fsS -D "$work/today.head" "http://$Q/api/v1/today" >"$work/today.json"
curl -fsS -D "$work/card.head" "http://$Q/today.png" >"$work/card.png"
"$work/bare" -addr "$B" -body "$work/today.json" &
pids+=($!)
# The bare handler again, behind the same http.Server timeouts as quotesd
# (a read and a write deadline set on every request): what hardening the
# server costs, apart from the handler.
"$work/bare" -addr "$H" -body "$work/today.json" -hardened &
pids+=($!)
# And net/http sending quotesd's very responses, header fields and all:
# the API's, and today's PNG card's (cached by quotesd after the curl
# above). What the card's bytes cost net/http itself, whoever sends them.
"$work/bare" -addr "$S" -body "$work/today.json" -headers "$work/today.head" -hardened &
pids+=($!)
"$work/bare" -addr "$P" -body "$work/card.png" -headers "$work/card.head" -hardened &
pids+=($!)
if "$PY" -c 'import twisted' 2>/dev/null; then
	"$PY" bench/web/twisted_quote.py "$T" "$work/today.json" &
	pids+=($!)
	twisted=1
else
	echo "python3-twisted is not installed: skipping Twisted" >&2
	twisted=0
fi
waitfor "http://$B/"
waitfor "http://$H/"
waitfor "http://$S/"
waitfor "http://$P/"
[ $twisted = 1 ] && waitfor "http://127.0.0.1:$T/"

# measure NAME URL [HEADER]: one wrk run; appends req/s, p50, p99 to NAME's file.
measure() {
	local name=$1 url=$2 hdr=${3:-}
	local args=(-t"$THREADS" -c"$CONNS" -d"$DUR" --latency)
	[ -n "$hdr" ] && args+=(-H "$hdr")
	local out
	out=$(wrk "${args[@]}" "$url")
	grep -q "Non-2xx" <<<"$out" && { echo "$name: non-2xx answers:" >&2; echo "$out" >&2; exit 1; }
	awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print r, p50, p99}' <<<"$out" >>"$work/$name.runs"
}

targets=(bare bare-hardened quotesd-api-today quotesd-api-nolog quotesd-api-limited quotesd-page-html quotesd-page-text quotesd-card-png quotesd-card-svg bare-same-api bare-same-png)
url_bare_same_api="http://$S/api/v1/today"
url_bare_same_png="http://$P/today.png"
url_bare="http://$B/api/v1/today"
url_bare_hardened="http://$H/api/v1/today"
url_quotesd_api_today="http://$Q/api/v1/today"
url_quotesd_api_limited="http://$L/api/v1/today"
url_quotesd_api_nolog="http://$N/api/v1/today"
url_quotesd_page_html="http://$Q/"
url_quotesd_page_text="http://$Q/"
url_quotesd_card_png="http://$Q/today.png"
url_quotesd_card_svg="http://$Q/today.svg"
if [ $twisted = 1 ]; then
	targets+=(twisted)
	url_twisted="http://127.0.0.1:$T/api/v1/today"
fi
run_target() {
	local t=$1 v="url_${1//-/_}"
	case $t in
	quotesd-page-html) measure "$t" "${!v}" "Accept: text/html" ;;
	*) measure "$t" "${!v}" ;;
	esac
}

echo "wrk -t$THREADS -c$CONNS -d$DUR, best of $ROUNDS interleaved rounds, $(nproc) cores, $(go env GOVERSION), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in "${targets[@]}"; do # warm up
	DUR=2s run_target "$t"
	rm -f "$work/$t.runs"
done
for _ in $(seq "$ROUNDS"); do
	for t in "${targets[@]}"; do run_target "$t"; done
done
for t in "${targets[@]}"; do
	sort -k1,1 -g -r "$work/$t.runs" >"$work/$t.sorted"
	best=$(head -1 "$work/$t.sorted")
	median=$(awk '{r[NR]=$1} END {print r[int((NR+1)/2)]}' "$work/$t.sorted")
	read -r r p50 p99 <<<"$best"
	printf '%-20s best %10s req/s (p50 %-8s p99 %-8s)  median %10s req/s\n' "$t" "$r" "$p50" "$p99" "$median"
	echo "$r" >"$work/$t.best"
	echo "$median" >"$work/$t.median"
done
# ratio A B: A's rate over B's, best and median.
ratio() {
	awk -v a="$1" -v b="$2" -v ab="$(cat "$work/$1.best")" -v bb="$(cat "$work/$2.best")" \
		-v am="$(cat "$work/$1.median")" -v bm="$(cat "$work/$2.median")" \
		'BEGIN { printf "%s / %s: %.2fx (best), %.2fx (median)\n", a, b, ab / bb, am / bm }'
}
for t in bare-hardened quotesd-api-today quotesd-api-nolog quotesd-api-limited; do
	ratio "$t" bare
done
# The issue's goal for the cards: at least 0.8x the API's requests per second.
for t in quotesd-card-png quotesd-card-svg; do
	ratio "$t" quotesd-api-today
done
# What net/http allows that goal: the PNG card's response against the
# API's, both sent by the bare handler; and quotesd's card against it.
ratio bare-same-png bare-same-api
ratio quotesd-card-png bare-same-png
