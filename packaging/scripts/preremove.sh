#!/bin/sh
# quotesd package: before removal (not before an upgrade): stop the service
# and its sockets where systemd runs.
set -e
case "$1" in
	remove|purge|0)
		if [ -d /run/systemd/system ]; then
			systemctl stop quotesd.service quotesd.socket quotesd-web.socket \
				quotesd-smtp.socket quotesd-finger.socket quotesd-udp.socket >/dev/null 2>&1 || true
			systemctl disable quotesd.service quotesd.socket quotesd-web.socket \
				quotesd-smtp.socket quotesd-finger.socket quotesd-udp.socket >/dev/null 2>&1 || true
		fi
		;;
esac
exit 0
