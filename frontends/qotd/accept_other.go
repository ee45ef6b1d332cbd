//go:build !linux

package qotd

import (
	"context"
	"net/netip"
)

// inline is never called off Linux: the Acceptor accepts through
// net.Listener there, and every connection goes to handle.
func (t *TCPService) inline(context.Context, int, netip.AddrPort) {}
