//go:build !linux

package oneshot

import (
	"context"
	"net"
	"syscall"
	"time"
)

// rawListener is nil off Linux: Serve accepts through net.Listener there,
// and Inline is never called.
func rawListener(net.Listener) syscall.RawConn { return nil }

func (a *Acceptor) acceptPending(context.Context, net.Addr, syscall.RawConn, *time.Duration) error {
	return nil
}
