#!/usr/bin/env bash
# QOTD over TCP: connections per second and latency of quotesd against a
# bare Go accept-write-close server (bench/qotd/bare) and Twisted's QOTD
# (bench/qotd/twisted_qotd.py, Debian python3-twisted), side by side on
# loopback, in alternating rounds; then quotesd again while 10,000 idle
# clients hold connections open. Figures go to BENCHMARKS.md, "## QOTD".
# bench/run --only qotd runs the same comparison at 8, 64 and 256 clients as
# part of the suite; this script keeps the 10,000-idle-clients case.
#
# usage: bench/qotd/run.sh [LIBRARY.db]     (default: the shipped quotes.db)
# env:   C (concurrent clients, 32), D (duration per run, 5s), ROUNDS (3),
#        IDLE (10000), PYTHON (python3 with twisted; default /usr/bin/python3),
#        BARE_FLAGS (e.g. -keepalive=false: the bare server without keep-alive, as quotesd)
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${1:-quotes.db}
C=${C:-32} D=${D:-5s} ROUNDS=${ROUNDS:-3} IDLE=${IDLE:-10000}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -f "$DB" ] || { echo "no library at $DB" >&2; exit 1; }

# 10,000 idle clients need 10,000 descriptors in the load client, and as
# many for a moment in the server.
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/quotesd" ./cmd/quotesd
go build -o "$tmp/bare" ./bench/qotd/bare
go build -o "$tmp/load" ./bench/qotd/load

Q=127.0.0.1:17170 B=127.0.0.1:17171 T=17172
# Only the QOTD frontend; the other frontends' addresses and the operations
# listener's are emptied (the variables of frontends this build does not
# have are ignored).
QUOTESD_WEB_ADDR= QUOTESD_SMTP_ADDR= QUOTESD_FINGER_ADDR= QUOTESD_IRC_ADDR= QUOTESD_IRC_SERVER= QUOTESD_OPS_ADDR= \
  "$tmp/quotesd" --db "$DB" serve --qotd-addr "$Q" --qotd-max-conns 4096 --log-level warn \
  --state-dir "$tmp/state" 2>"$tmp/quotesd.log" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${Q%:*}/${Q#*:}") 2>/dev/null && break; sleep 0.1; done
size=$( (exec 3<>"/dev/tcp/${Q%:*}/${Q#*:}"; cat <&3) | wc -c)
"$tmp/bare" -addr "$B" -size "$size" ${BARE_FLAGS:-} 2>/dev/null &
pids+=($!)
qpid=${pids[0]} bpid=$!
have_twisted=0
if "$PYTHON" -c 'import twisted' 2>/dev/null; then
  "$PYTHON" bench/qotd/twisted_qotd.py "$T" "$size" >/dev/null 2>&1 &
  pids+=($!)
  tpid=$!
  have_twisted=1
else
  echo "($PYTHON has no twisted: apt-get install python3-twisted; skipping Twisted)" >&2
fi
sleep 1

echo "# $(nproc) CPUs, load average $(cut -d" " -f1-3 /proc/loadavg), $C clients, $D per run, $ROUNDS rounds, reply of $size bytes; $(go version | cut -d' ' -f3)"
# cputicks PID: user+system CPU time the process used so far, in clock ticks.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run LABEL ADDR PID [load flags]: one run, with the server's CPU time per
# connection appended: unlike the rate, it does not depend on what else
# the machine is doing.
run() {
  local label=$1 addr=$2 pid=$3; shift 3
  local t0 out t1
  t0=$(cputicks "$pid")
  out=$("$tmp/load" -addr "$addr" -c "$C" -d "$D" -label "$label" "$@")
  t1=$(cputicks "$pid")
  echo "$out" | awk -v t="$((t1 - t0))" -v hz="$hz" '{ for (i = 1; i < NF; i++) if ($i == "served") n = $(i+1);
    printf "%s  server CPU %.1fµs/conn\n", $0, t / hz * 1e6 / n }'
}
for r in $(seq "$ROUNDS"); do
  run bare "$B" "$bpid"
  run quotesd "$Q" "$qpid"
  if [ "$have_twisted" = 1 ]; then run twisted "127.0.0.1:$T" "$tpid"; fi
done | tee "$tmp/rounds"
# Medians over the rounds: the machine may be shared, so a round that
# another process disturbed does not move the result much.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'; }
for s in bare quotesd twisted; do
  grep -q "^$s " "$tmp/rounds" || continue
  rate=$(awk -v s="$s" '$1 == s { print $3 }' "$tmp/rounds" | median)
  p99=$(awk -v s="$s" '$1 == s { print $7 }' "$tmp/rounds" | sed 's/ms$//; s/µs$/e-3/' | awk '{ printf "%.3f\n", $1 }' | median)
  cpu=$(awk -v s="$s" '$1 == s { sub("µs/conn", "", $NF); print $NF }' "$tmp/rounds" | median)
  printf 'median %-8s conns/s %8.0f  p99 %6.2fms  server CPU %5.1fµs/conn\n' "$s" "$rate" "$p99" "$cpu"
done | tee "$tmp/medians"
awk '$2 == "bare" { b = $4; bc = $9 + 0 } $2 == "quotesd" { q = $4; qc = $9 + 0 } $2 == "twisted" { t = $4; tc = $9 + 0 }
  END { printf "rate: quotesd/bare %.2fx", q / b; if (t) printf ", twisted/bare %.2fx", t / b;
        printf "; CPU per connection: quotesd/bare %.2fx", qc / bc; if (t) printf ", twisted/bare %.2fx", tc / bc; printf "\n" }' "$tmp/medians"
echo "# quotesd while $IDLE idle clients are connected:"
run quotesd "$Q" "$qpid" -idle "$IDLE"
if grep -q . "$tmp/quotesd.log"; then echo "# quotesd logged:"; cat "$tmp/quotesd.log"; fi
