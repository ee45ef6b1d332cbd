//go:build !linux

package finger

import (
	"context"
	"net/netip"
)

// inline is never called off Linux: the Acceptor accepts through
// net.Listener there, and every connection goes to serve.
func (t *TCPService) inline(context.Context, int, netip.AddrPort) {}
