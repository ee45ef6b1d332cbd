# Helpers of bench/run (sourced, not run): tools, processes, measurements.
# Every server is started through start(), which records its PID; stop_all
# stops each recorded process and its children by PID, never by name.

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools -------------------------------------------------------------------

# need_pkg PKG CHECK...: runs CHECK (a command); when it fails installs the
# Debian package PKG (as root) with daemons kept from starting: a
# policy-rc.d that refuses every start, removed afterwards if we made it.
need_pkg() {
	local pkg=$1
	shift
	"$@" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || die "$pkg is missing: apt-get install $pkg (as root), or run bench/run as root"
	local made=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		made=1
	fi
	log "installing $pkg"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >"$OUT/apt.log" 2>&1 ||
		{ apt-get update >>"$OUT/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >>"$OUT/apt.log" 2>&1; } ||
		{ [ $made = 1 ] && rm -f /usr/sbin/policy-rc.d; die "apt-get install $pkg failed (see $OUT/apt.log)"; }
	[ $made = 1 ] && rm -f /usr/sbin/policy-rc.d
	"$@" >/dev/null 2>&1 || die "$pkg installed but '$*' still fails"
}

# postfix_tools: smtp-source and smtp-sink, and Postfix itself, the mail
# server measured beside quotesd (bench/smtp/postfix.go). As root, Debian's
# postfix package is installed with no configuration of its own ("No
# configuration") and its daemon kept from starting: the benchmark runs
# its own throwaway instance. Otherwise the tools are extracted from the
# package into a cache directory, run with LD_LIBRARY_PATH at its
# usr/lib/postfix, and Postfix is not measured. Sets POSTFIX (the root the
# tools are under) and MTA (the directory of the postfix command, or "").
postfix_tools() {
	MTA=
	if [ "$(id -u)" = 0 ]; then
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
		need_pkg postfix test -x /usr/sbin/postfix
		POSTFIX=/ MTA=/usr/sbin
		dpkg-query -W -f '${Version}' postfix >"$CACHE/postfix-version"
		POSTFIX_VERSION=$(cat "$CACHE/postfix-version")
		return 0
	fi
	POSTFIX=$CACHE/postfix
	if ! [ -x "$POSTFIX/usr/sbin/smtp-source" ] || ! [ -s "$POSTFIX/VERSION" ]; then
		log "fetching smtp-source and smtp-sink from Debian's postfix package into $POSTFIX"
		rm -rf "$CACHE/postfix-deb" "$POSTFIX"
		mkdir -p "$CACHE/postfix-deb"
		(cd "$CACHE/postfix-deb" && apt-get download postfix >/dev/null 2>&1) ||
			(apt-get update >/dev/null 2>&1 && cd "$CACHE/postfix-deb" && apt-get download postfix >/dev/null 2>&1) ||
			die "apt-get download postfix failed"
		dpkg-deb -x "$CACHE"/postfix-deb/postfix_*.deb "$POSTFIX"
		dpkg-deb -f "$CACHE"/postfix-deb/postfix_*.deb Version >"$POSTFIX/VERSION"
		rm -rf "$CACHE/postfix-deb"
	fi
	POSTFIX_VERSION=$(cat "$POSTFIX/VERSION")
}

# --- processes ---------------------------------------------------------------

PIDS=()

# start NAME CMD...: runs CMD in the background, output to $TMP/NAME.log,
# and records its PID in PIDS and in the variable PID_<NAME> (dashes
# become underscores).
start() {
	local name=$1
	shift
	"$@" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	printf -v "PID_${name//-/_}" '%s' "$pid"
}

# in_turn ROUND NAME...: the contenders in the order of round ROUND,
# one per line: as given in odd rounds, reversed in even ones, so that
# none always runs right after the same other (whose closed connections,
# tens of thousands in TIME_WAIT, and heat it would inherit) and each
# ratio's rounds see both orders.
in_turn() {
	local r=$1
	shift
	if ((r % 2)); then
		printf '%s\n' "$@"
	else
		printf '%s\n' "$@" | tac
	fi
}

# run_fg CMD...: runs CMD as a recorded background process and waits for
# it, so that Ctrl-C reaches our trap at once and the cleanup stops it and
# whatever it started.
run_fg() {
	"$@" &
	local pid=$!
	PIDS+=("$pid")
	local rc=0
	wait "$pid" || rc=$?
	forget "$pid"
	return $rc
}

forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# children PID: the PIDs of PID's children, from /proc.
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }

# stop PID: stops PID and its descendants (collected before signalling),
# with SIGTERM, then SIGKILL after 3 s.
stop() {
	local all=() todo=("$1") p
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		all+=("$p")
		# shellcheck disable=SC2207
		todo+=($(children "$p"))
	done
	for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 30); do
		local alive=0
		for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${all[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait "$1" 2>/dev/null || true
	forget "$1"
}

stop_all() {
	local p
	for p in "${PIDS[@]}"; do stop "$p"; done
}

# wait_tcp HOST:PORT: until something accepts connections there (10 s).
wait_tcp() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on $1 (logs in $TMP)"
}

# port_free HOST:PORT: fails when something already listens there.
port_free() { ! (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }

# --- measurements ------------------------------------------------------------

# cputicks PID...: user+system CPU clock ticks used so far by the PIDs and
# their children (nginx's workers), from /proc/PID/stat.
cputicks() {
	local p t=0 c
	for p in "$@"; do
		c=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + c))
		local kids
		kids=$(children "$p")
		# shellcheck disable=SC2086
		[ -n "$kids" ] && t=$((t + $(cputicks $kids)))
	done
	echo "$t"
}

# rss_kb PID: resident memory (VmRSS) of PID in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

loadavg() { cut -d' ' -f1 /proc/loadavg; }

# record SUITE CONTENDER PARAM ROUND KEY=VALUE...: one line of raw results.
record() {
	local IFS=$'\t'
	echo "$*" >>"$RAW"
}
