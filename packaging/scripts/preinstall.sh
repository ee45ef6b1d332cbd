#!/bin/sh
# quotesd package: before install or upgrade. The system user the service
# runs as, made before the files are unpacked so that /var/lib/quotesd,
# which the package ships, is unpacked owned by it.
set -e
if ! getent group quotesd >/dev/null; then
	groupadd --system quotesd
fi
if ! getent passwd quotesd >/dev/null; then
	useradd --system --gid quotesd --home-dir /var/lib/quotesd --no-create-home \
		--shell /usr/sbin/nologin --comment "quotesd quote of the day server" quotesd
fi
exit 0
