#!/bin/sh
# quotesd package: after install or upgrade. systemd learns of the units
# (and the drop-in); nothing is enabled or started: the sockets bind ports
# 17, 80 and 25, which the administrator chooses to give
# (docs/OPERATIONS.md, "Install a package").
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
