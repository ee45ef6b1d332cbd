//go:build !linux

package finger

import (
	"context"
	"net"
	"net/netip"
)

// deferAccept is Linux's (TCP_DEFER_ACCEPT); elsewhere connections are
// accepted at once.
func deferAccept(net.Listener, int) {}

// inline is never called off Linux: the Acceptor accepts through
// net.Listener there, and every connection goes to serve.
func (t *TCPService) inline(context.Context, int, netip.AddrPort) {}
