#!/bin/sh
# quotesd package: after install or upgrade. systemd learns of the units
# (and the drop-in); a fresh install enables and starts nothing, since the
# sockets bind ports 17, 80 and 25, which the administrator chooses to give
# (docs/OPERATIONS.md, "Install a package"). An upgrade restarts a running
# service on the new binary; the sockets stay open, so no client is refused.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	# dpkg: configure OLD-VERSION on an upgrade; rpm: 2 (or more).
	if { [ "$1" = configure ] && [ -n "${2:-}" ]; } || [ "${1:-0}" -ge 2 ] 2>/dev/null; then
		systemctl try-restart quotesd.service >/dev/null 2>&1 || true
	fi
fi
exit 0
