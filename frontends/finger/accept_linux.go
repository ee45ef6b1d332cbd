//go:build linux

package finger

import (
	"context"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"syscall"
)

// deferAccept asks the kernel to hand over a connection on ln only once
// its client has sent something (TCP_DEFER_ACCEPT), or after about secs
// seconds of silence: a Finger client speaks first, so the acceptor then
// finds its query line there and answers in place, instead of handing
// nearly every connection to a goroutine to wait for it. The read deadline
// still bounds a client once its connection is accepted. Failing (not a
// TCP socket) changes nothing but the speed.
func deferAccept(ln net.Listener, secs int) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, secs)
	})
}

// inline answers the admitted connection fd in the acceptor when it can
// without waiting (see oneshot.Acceptor.Inline): when the client's query
// line has arrived already (it usually has, by the time its connection is
// accepted under load) and its reply needs no library call (today's quote
// from the cache, a refusal). Any other connection is handed to a
// goroutine of its own with what was read so far.
func (t *TCPService) inline(ctx context.Context, fd int, peer netip.AddrPort) {
	handedOff := false
	defer func() {
		if r := recover(); r != nil {
			t.s.metrics.errors.Inc()
			t.s.log.Error("panic while serving a connection", "remote", peer.String(), "panic", r, "stack", string(debug.Stack()))
		}
		if !handedOff {
			syscall.Close(fd)
			t.acc.Done()
		}
	}()
	n, err := syscall.Read(fd, t.buf[:])
	for err == syscall.EINTR {
		n, err = syscall.Read(fd, t.buf[:])
	}
	if err != nil && err != syscall.EAGAIN {
		t.s.metrics.errors.Inc()
		t.s.log.Debug("reading the query failed", "remote", peer.String(), "err", err)
		return
	}
	n = max(n, 0)
	q, ok := lineQuery(t.buf[:n])
	var reply []byte
	if ok {
		switch q.Kind {
		case Today:
			reply = t.s.cachedToday()
		case Refused:
			reply = t.s.Answer(ctx, q)
		}
	}
	if reply == nil {
		// The line is not all there, or its answer needs the library.
		have := slices.Clone(t.buf[:n])
		handedOff = true
		t.acc.Finish(fd, peer, func(conn net.Conn) { t.serve(ctx, conn, have) })
		return
	}
	handedOff = t.acc.Send(fd, peer, reply, t.s.cfg.Load().WriteTimeout, func(err error) {
		if err != nil {
			t.s.metrics.errors.Inc()
			t.s.log.Debug("writing the reply failed", "remote", peer.String(), "err", err)
			return
		}
		t.served(ctx, peer, q, len(reply))
	})
}
