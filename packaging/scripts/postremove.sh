#!/bin/sh
# quotesd package: after removal. The library and the mail queue in
# /var/lib/quotesd and the quotesd user stay on `apt remove` (and on an rpm
# erase, which has no purge) and go on `apt purge` / `dpkg --purge`.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
	rm -rf /var/lib/quotesd /etc/quotesd
	if getent passwd quotesd >/dev/null; then
		userdel quotesd >/dev/null 2>&1 || true
	fi
	if getent group quotesd >/dev/null; then
		groupdel quotesd >/dev/null 2>&1 || true
	fi
fi
exit 0
