//go:build linux

package qotd

import (
	"context"
	"net/netip"
	"runtime/debug"
	"syscall"
)

// inline answers the admitted connection fd in the acceptor when today's
// reply is cached (see oneshot.Acceptor.Inline).
//
// A QOTD exchange is accept, one write of a reply that fits the empty send
// buffer of a new socket, shutdown, close; it never has to wait for the
// client. Only a connection that must wait gets a goroutine of its own: one
// whose reply needs the library (random mode, or the first connection of
// the day), one whose reply did not fit the send buffer, and one whose
// client sent input and must be lingered over.
func (t *TCPService) inline(ctx context.Context, fd int, peer netip.AddrPort) {
	if reply := t.s.cachedReply(); reply != nil {
		t.answerFD(ctx, fd, peer, reply)
		return
	}
	t.acc.Go(peer, func() { t.answerFD(ctx, fd, peer, nil) })
}

// answerFD answers the admitted connection fd from peer with reply (nil:
// ask the library now), and closes it or hands it to a goroutine that
// finishes what cannot be done without waiting. It runs in the acceptor
// when reply is given, so it must never block.
func (t *TCPService) answerFD(ctx context.Context, fd int, peer netip.AddrPort, reply []byte) {
	handedOff := false
	defer func() {
		if r := recover(); r != nil {
			t.s.metrics.tcpErrors.Inc()
			t.s.log.Error("panic while serving a connection", "remote", peer.String(), "panic", r, "stack", string(debug.Stack()))
		}
		if !handedOff {
			syscall.Close(fd)
			t.acc.Done()
		}
	}()
	if reply == nil {
		var err error
		if reply, err = t.s.Reply(ctx); err != nil {
			t.s.metrics.tcpErrors.Inc()
			t.s.replyFailed(err)
			return
		}
	}
	handedOff = t.acc.Send(fd, peer, reply, t.s.writeTimeout(), func(err error) {
		if err != nil {
			t.s.metrics.tcpErrors.Inc()
			t.s.log.Debug("writing the quote failed", "remote", peer.String(), "err", err)
			return
		}
		t.served(ctx, peer, len(reply))
	})
}
