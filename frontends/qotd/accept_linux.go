//go:build linux

package qotd

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/quotesd/quotesd/reactor"
)

// rawListener returns ln's socket when Serve can accept on it directly (a
// TCP or Unix stream listener, as the reactor and systemd give), else nil.
func rawListener(ln net.Listener) syscall.RawConn {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// acceptPending accepts and answers the connections pending on the
// listening socket rc, without waiting, and returns once none is left:
// the Reactor's dispatch, answering in place what it can answer without
// waiting. Serve then waits for the next connection through Accept.
//
// A QOTD exchange is accept, one write of a reply that fits the empty send
// buffer of a new socket, shutdown, close; it never has to wait for the
// client. A net.Conn and a goroutine per connection would add the socket's
// registration with the netpoller (two epoll_ctl calls), the goroutine's
// start and a thread hand-off to every connection: about a quarter of the
// server's CPU per connection, measured with perf. Only a connection that
// must wait gets those, and a goroutine of its own (the synchronous half of
// Half-Sync/Half-Async): one whose reply needs the library (random mode, or
// the first connection of the day), one whose reply did not fit the send
// buffer, and one whose client sent input and must be lingered over.
//
// It returns an error only when the socket no longer listens (a permanent
// one: see reactor.ListenerFailed). A closed listener is left to Accept to
// report.
func (t *TCPService) acceptPending(ctx context.Context, rc syscall.RawConn, delay *time.Duration) error {
	for ctx.Err() == nil {
		var fd int
		var sa syscall.Sockaddr
		var aerr error
		if err := rc.Control(func(lfd uintptr) {
			fd, sa, aerr = syscall.Accept4(int(lfd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		}); err != nil {
			return nil // closed: Accept says so
		}
		if aerr != nil {
			switch errno, _ := aerr.(syscall.Errno); {
			case errno == syscall.EAGAIN:
				return nil // none left
			case errno == syscall.EINTR || errno == syscall.ECONNABORTED:
				// Interrupted, or the client gave up while queued: next.
			case reactor.ListenerDead(aerr):
				return reactor.ListenerFailed(t.ln.Addr(), os.NewSyscallError("accept4", aerr))
			default:
				// Out of descriptors or memory, a firewall rule, a network
				// error pending on the connection: the socket still listens.
				if !t.backOff(ctx, os.NewSyscallError("accept4", aerr), delay) {
					return nil
				}
			}
			continue
		}
		*delay = 0
		peer := addrPortOf(sa)
		if !t.admit(peer) {
			syscall.Close(fd)
			continue
		}
		if reply := t.s.cachedReply(); reply != nil {
			t.answerFD(ctx, fd, peer, reply)
			continue
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.answerFD(ctx, fd, peer, nil)
		}()
	}
	return nil
}

// addrPortOf is the IP address and port in sa, or the zero AddrPort for
// any other kind of address (a Unix socket's peer).
func addrPortOf(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
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
			t.active.Add(-1)
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
	n, err := syscall.Write(fd, reply)
	for err == syscall.EINTR {
		n, err = syscall.Write(fd, reply)
	}
	if err == syscall.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		t.s.metrics.tcpErrors.Inc()
		t.s.log.Debug("writing the quote failed", "remote", peer.String(), "err", err)
		return
	}
	if n < len(reply) {
		// The send buffer is full (a tiny one, or a reply past it): the
		// rest is written, under the write timeout, by a goroutine.
		handedOff = t.finish(ctx, fd, peer, func(conn net.Conn) error {
			return writeReply(conn, reply[n:], t.s.writeTimeout(), t.mayLinger)
		})
		return
	}
	d := discardPool.Get().(*discard)
	d.endWrite(fd)
	sent, eof := d.sent, d.eof
	discardPool.Put(d)
	if sent && !eof && t.mayLinger() {
		// The client typed something: wait for its end of the stream
		// before closing, so the close draws no reset (see writeReply).
		handedOff = t.finish(ctx, fd, peer, func(conn net.Conn) error {
			d := discardPool.Get().(*discard)
			defer discardPool.Put(d)
			linger(conn, d.buf[:])
			return nil
		})
		return
	}
	t.served(ctx, peer, len(reply))
}

// finish hands the connection fd to a goroutine of its own, as a net.Conn
// whose reads and writes wait in the netpoller, to run rest and close it.
// It reports whether it took fd; if not, fd is still the caller's.
func (t *TCPService) finish(ctx context.Context, fd int, peer netip.AddrPort, rest func(net.Conn) error) bool {
	f := os.NewFile(uintptr(fd), "qotd")
	conn, err := net.FileConn(f) // a duplicate of fd, registered with the netpoller
	f.Close()                    // closes fd itself
	if err != nil {
		t.s.metrics.tcpErrors.Inc()
		t.s.log.Debug("finishing a connection failed", "remote", peer.String(), "err", err)
		t.active.Add(-1)
		return true // fd is closed
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer t.active.Add(-1)
		defer conn.Close()
		if err := rest(conn); err != nil {
			t.s.metrics.tcpErrors.Inc()
			t.s.log.Debug("writing the quote failed", "remote", peer.String(), "err", err)
			return
		}
		t.s.metrics.tcpServed.Inc()
	}()
	return true
}

// served counts a connection answered in full.
func (t *TCPService) served(ctx context.Context, peer netip.AddrPort, n int) {
	t.s.metrics.tcpServed.Inc()
	if t.s.log.Enabled(ctx, slog.LevelDebug) {
		t.s.log.Debug("served", "remote", peer.String(), "bytes", n)
	}
}
