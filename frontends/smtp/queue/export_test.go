package queue

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// ErrNonPublicAddress is errNonPublicAddress, for tests to match.
var ErrNonPublicAddress = errNonPublicAddress

// MXDialer is the dialler direct delivery uses by default.
func MXDialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return mxDialer(timeout, publicAddr)
}

// AllowLoopbackMX returns cfg with direct delivery allowed to connect to
// loopback addresses as well as public ones: the tests' MX sinks listen on
// 127.0.0.1. Only tests of this package can set it.
func AllowLoopbackMX(cfg Config) Config {
	cfg.allowAddr = func(a netip.Addr) bool { return a.Unmap().IsLoopback() || publicAddr(a) }
	return cfg
}

// CountDepthEvery returns cfg with the depth gauges set every interval
// rather than every 15 seconds.
func CountDepthEvery(cfg Config, every time.Duration) Config {
	cfg.depthEvery = every
	return cfg
}

// SchemaVersion is the version of the queue's newest schema.
var SchemaVersion = len(migrations)
