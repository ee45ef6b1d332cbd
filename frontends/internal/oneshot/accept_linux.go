//go:build linux

package oneshot

import (
	"context"
	"net"
	"net/netip"
	"os"
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

// acceptPending accepts the connections pending on the listening socket
// rc, without waiting, and gives each admitted one to Inline; it returns
// once none is left: the Reactor's dispatch, answering in place what can
// be answered without waiting. Serve then waits for the next connection
// through Accept.
//
// A one-shot exchange rarely has to wait: a QOTD reply fits the empty send
// buffer of a new socket, and a Finger client's query line is usually there
// by the time its connection is accepted. A net.Conn and a goroutine per
// connection would add the socket's registration with the netpoller (two
// epoll_ctl calls), the goroutine's start and a thread hand-off to every
// connection: about a quarter of the server's CPU per connection, measured
// with perf on QOTD. Only a connection that must wait gets those (Finish).
//
// It returns an error only when the socket no longer listens (a permanent
// one: see reactor.ListenerFailed). A closed listener is left to Accept to
// report.
func (a *Acceptor) acceptPending(ctx context.Context, addr net.Addr, rc syscall.RawConn, delay *time.Duration) error {
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
				return reactor.ListenerFailed(addr, os.NewSyscallError("accept4", aerr))
			default:
				// Out of descriptors or memory, a firewall rule, a network
				// error pending on the connection: the socket still listens.
				if !a.backOff(ctx, os.NewSyscallError("accept4", aerr), delay) {
					return nil
				}
			}
			continue
		}
		*delay = 0
		peer := AddrPortOf(sa)
		if !a.Admit(peer) {
			syscall.Close(fd)
			continue
		}
		a.Inline(ctx, fd, peer)
	}
	return nil
}

// AddrPortOf is the IP address and port in sa, or the zero AddrPort for
// any other kind of address (a Unix socket's peer).
func AddrPortOf(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// Finish hands the admitted connection fd from peer, which Inline could
// not answer without waiting, to a goroutine of its own, as a net.Conn
// whose reads and writes wait in the netpoller, to run rest; the
// connection is then closed and Done. Finish always takes fd.
func (a *Acceptor) Finish(fd int, peer netip.AddrPort, rest func(net.Conn)) {
	f := os.NewFile(uintptr(fd), "oneshot")
	conn, err := net.FileConn(f) // a duplicate of fd, registered with the netpoller
	f.Close()                    // closes fd itself
	if err != nil {
		a.failed()
		a.Log.Debug("finishing a connection failed", "remote", peer.String(), "err", err)
		a.Done()
		return
	}
	a.Go(peer, func() {
		defer a.Done()
		defer conn.Close()
		rest(conn)
	})
}

// Send writes reply to fd, a connection admitted by the accept loop, and
// sees the exchange to its end without blocking the loop: when the socket
// takes the whole reply at once and the client has sent nothing more, it
// returns false and the caller closes fd; otherwise a goroutine of its own
// (Finish) writes the rest under timeout, or waits for the client's end of
// the stream before the close (see WriteReply), and Send returns true: fd
// is taken. done gets the outcome when the reply has gone out, nil, or the
// error that stopped it.
func (a *Acceptor) Send(fd int, peer netip.AddrPort, reply []byte, timeout time.Duration, done func(error)) (handedOff bool) {
	n, err := syscall.Write(fd, reply)
	for err == syscall.EINTR {
		n, err = syscall.Write(fd, reply)
	}
	if err == syscall.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		done(err)
		return false
	}
	if n < len(reply) {
		// The send buffer is full (a tiny one, or a reply past it).
		a.Finish(fd, peer, func(conn net.Conn) { done(WriteReply(conn, reply[n:], timeout, a.MayLinger)) })
		return true
	}
	d := GetDiscard()
	d.EndWrite(fd)
	sent, eof := d.Sent, d.EOF
	d.Put()
	if sent && !eof && a.MayLinger() {
		// The client sent more: wait for its end of the stream before
		// closing, so that the close draws no reset.
		a.Finish(fd, peer, func(conn net.Conn) {
			d := GetDiscard()
			defer d.Put()
			Linger(conn, d)
			done(nil)
		})
		return true
	}
	done(nil)
	return false
}
