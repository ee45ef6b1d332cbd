//go:build !linux

package qotd

import (
	"context"
	"net"
	"syscall"
	"time"
)

// rawListener is nil off Linux: Serve accepts through net.Listener there.
func rawListener(net.Listener) syscall.RawConn { return nil }

func (t *TCPService) acceptPending(context.Context, syscall.RawConn, *time.Duration) error {
	return nil
}
