# syntax=docker/dockerfile:1
# quotesd's container image (docs/OPERATIONS.md, "Run in a container"):
#   docker build -t quotesd .
#   docker run -d -p 1717:1717 -p 8080:8080 -v quotesd:/data quotesd
# Build stage: cgo is required (github.com/mattn/go-sqlite3), so the Go image
# with its gcc; run stage: Debian slim, the same glibc the binary links.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false \
      -ldflags "-s -w ${VERSION:+-X main.version=$VERSION}" \
      -o /out/quotesd ./cmd/quotesd

FROM debian:bookworm-slim
# ca-certificates: TLS to a mail relay, MX hosts and IRC servers; tzdata:
# --tz and the system's zone.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 quotesd \
    && useradd --system --uid 10001 --gid quotesd --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin quotesd \
    && install -d -o quotesd -g quotesd -m 0750 /data
COPY --from=build /out/quotesd /usr/local/bin/quotesd
COPY contrib/quotesd.conf /etc/quotesd/quotesd.conf

ARG VERSION=""
ARG REVISION=""
LABEL org.opencontainers.image.title="quotesd" \
      org.opencontainers.image.description="Quote of the day server: one quote library served over RFC 865 (QOTD), HTTP, SMTP and IRC" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/OPERATIONS.md" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# The library (created from the one built in on the first start) and the
# mail queue live in /data; every other setting is a QUOTESD_ variable
# (`quotesd serve -h`) or a line of the file named by QUOTESD_CONFIG.
# Unprivileged ports, on every interface of the container; the operations
# listener (/metrics, /livez, /readyz) stays on the container's loopback,
# where the health check asks it: publish it with QUOTESD_OPS_ADDR=:9090.
ENV QUOTESD_DB=/data/quotes.db \
    QUOTESD_STATE_DIR=/data/state \
    QUOTESD_QOTD_ADDR=:1717 \
    QUOTESD_WEB_ADDR=:8080 \
    QUOTESD_FINGER_ADDR=:7979 \
    QUOTESD_OPS_ADDR=127.0.0.1:9090 \
    QUOTESD_CONFIG=/etc/quotesd/quotesd.conf
VOLUME ["/data"]
WORKDIR /data
USER quotesd:quotesd
EXPOSE 1717 8080 7979
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --start-interval=2s --retries=3 \
    CMD ["quotesd", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["quotesd"]
CMD ["serve"]
