// Package oneshot serves the TCP protocols whose connection carries one
// short exchange and is closed (QOTD, Finger): one Acceptor per listener,
// with the connection cap, the per-client connection rate, accept back-off,
// a recover per connection and a wait for the connections in flight at
// shutdown; and the lingering close that spares a client who typed
// something a reset instead of the end of its reply. Both frontends serve
// through it, so a limit or a fix made here holds for both.
package oneshot

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/reactor"
)

// Reasons a connection is closed unanswered, as Rejected gets them (and
// frontends label their rejected counters with).
const (
	ReasonMaxConns = "max_conns" // too many connections at once
	ReasonRate     = "rate"      // over the per-client connection rate
)

// Acceptor answers the connections of one stream listener: the Acceptor
// of the Acceptor-Connector pattern. Each admitted connection is answered
// inline when it can be without waiting (Inline, on Linux), else by a
// goroutine of its own (Handle: the synchronous half of
// Half-Sync/Half-Async, the Go runtime's netpoller being the asynchronous
// half).
//
// Set the fields before Serve; they are not changed afterwards.
type Acceptor struct {
	Log *slog.Logger

	// MaxConns returns the cap in force on connections answered at once
	// (0: none); an excess connection is closed at once, unanswered.
	MaxConns func() int
	// ConnRate, when not nil, limits the connections per second of each
	// client (limits.Client: an IPv4 address or an IPv6 /64); its rate 0
	// is no limit. Peers without an IP address are not limited.
	ConnRate *limits.Limiter
	// Rejected counts a connection closed unanswered, by reason.
	Rejected func(reason string)
	// Failed counts a connection whose answer failed (a panic, a socket
	// that could not be handed to the netpoller).
	Failed func()

	// Inline, when set, answers the admitted connection fd, accepted from
	// a raw listening socket on Linux, without ever waiting: it must close
	// fd and call Done, or hand fd over (Finish, or Go). It runs in the
	// accepting goroutine. Without it, every connection goes to Handle.
	Inline func(ctx context.Context, fd int, peer netip.AddrPort)
	// Handle answers the admitted connection conn, in its own goroutine;
	// the Acceptor closes conn and calls Done afterwards.
	Handle func(ctx context.Context, conn net.Conn)

	// Active counts the connections admitted and not yet closed.
	Active atomic.Int64
	wg     sync.WaitGroup // every connection goroutine
}

// Serve accepts connections on ln until ctx ends, then closes ln, waits
// for the connections in flight (each bounded by its frontend's deadlines)
// and returns nil. An accept error that leaves the listener alive (out of
// file descriptors or memory, a firewall rule) is retried with back-off; a
// dead listener (closed under the service, or no longer listening) ends
// Serve with a permanent error (see reactor.ListenerFailed), so that the
// process stops instead of restarting a service that can never accept
// again.
func (a *Acceptor) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer a.wg.Wait()
	var rc syscall.RawConn
	if a.Inline != nil {
		rc = rawListener(ln)
	}
	var delay time.Duration
	for {
		if rc != nil {
			if err := a.acceptPending(ctx, ln.Addr(), rc, &delay); err != nil {
				return err
			}
		}
		// Nothing is pending (or the listener is not a raw socket): wait in
		// the netpoller for the next connection, answered the plain way.
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil // closed by the AfterFunc above
			}
			if reactor.ListenerDead(err) {
				return reactor.ListenerFailed(ln.Addr(), err)
			}
			if !a.backOff(ctx, err, &delay) {
				return nil
			}
			continue
		}
		delay = 0
		if !a.Admit(PeerOf(conn)) {
			conn.Close()
			continue
		}
		a.wg.Add(1)
		go a.handle(ctx, conn)
	}
}

// handle runs Handle on conn, then closes it.
func (a *Acceptor) handle(ctx context.Context, conn net.Conn) {
	defer a.wg.Done()
	defer a.Done()
	defer conn.Close()
	defer a.recoverPanic(conn.RemoteAddr().String())
	a.Handle(ctx, conn)
}

// recoverPanic logs a panic of a connection's answer, with its stack, and
// counts the connection failed: one bad connection must not stop the rest.
func (a *Acceptor) recoverPanic(remote string) {
	if r := recover(); r != nil {
		a.failed()
		a.Log.Error("panic while serving a connection", "remote", remote, "panic", r, "stack", string(debug.Stack()))
	}
}

func (a *Acceptor) failed() {
	if a.Failed != nil {
		a.Failed()
	}
}

// Go runs f in a goroutine that Serve waits for, recovering a panic as
// for any connection's answer. It is for Inline, to hand a connection over.
func (a *Acceptor) Go(remote netip.AddrPort, f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.recoverPanic(remote.String())
		f()
	}()
}

// Wait waits for the goroutines of Go and Finish (Serve waits for them too).
func (a *Acceptor) Wait() { a.wg.Wait() }

// Done says a connection admitted is closed.
func (a *Acceptor) Done() { a.Active.Add(-1) }

// backOff waits after an accept error that leaves the listener alive (out
// of file descriptors), longer each time in a row: *delay doubles from
// 5 ms up to 1 s. It reports false if ctx ended meanwhile.
func (a *Acceptor) backOff(ctx context.Context, err error, delay *time.Duration) bool {
	*delay = min(max(2**delay, 5*time.Millisecond), time.Second)
	a.Log.Warn("accept failed; retrying", "err", err, "in", *delay)
	select {
	case <-time.After(*delay):
		return true
	case <-ctx.Done():
		return false
	}
}

// Admit applies the per-client rate limit and the cap on connections in
// flight to a connection from peer, and reports whether it may be
// answered. A connection admitted counts as active until Done.
func (a *Acceptor) Admit(peer netip.AddrPort) bool {
	if a.ConnRate != nil && peer.IsValid() && !a.ConnRate.Allow(limits.ClientOf(peer.Addr()), time.Now()) {
		a.reject(peer, ReasonRate, "connection over the per-client rate; closed")
		return false
	}
	maxConns := 0
	if a.MaxConns != nil {
		maxConns = a.MaxConns()
	}
	if n := a.Active.Add(1); maxConns > 0 && n > int64(maxConns) {
		a.Active.Add(-1)
		a.reject(peer, ReasonMaxConns, "too many connections at once; closed")
		return false
	}
	return true
}

// reject counts a refused connection; the caller closes it. In a flood
// this runs for every connection, so the debug line is built only when
// debug logging is on.
func (a *Acceptor) reject(peer netip.AddrPort, reason, msg string) {
	if a.Rejected != nil {
		a.Rejected(reason)
	}
	if a.Log.Enabled(context.Background(), slog.LevelDebug) {
		a.Log.Debug(msg, "remote", peer.String())
	}
}

// MayLinger reports whether an answered connection whose client sent
// input it did not read may stay open to linger over it (see WriteReply):
// only while at most half of MaxConns is in use, this connection included.
// Lingering lasts up to LingerTimeout, so without this bound clients that
// type a byte and hold their connections could take every slot, at
// MaxConns/2 connections a second, and new clients would be closed
// unanswered.
func (a *Acceptor) MayLinger() bool {
	maxConns := 0
	if a.MaxConns != nil {
		maxConns = a.MaxConns()
	}
	return maxConns <= 0 || a.Active.Load() <= int64(maxConns/2)
}

// PeerOf is conn's remote address, or the zero AddrPort when it is not an
// IP address (a Unix socket).
func PeerOf(conn net.Conn) netip.AddrPort {
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	return netip.AddrPort{}
}

// Deadline is the deadline timeout after now; none (the zero time) for a
// timeout of 0.
func Deadline(now time.Time, timeout time.Duration) time.Time {
	if timeout == 0 {
		return time.Time{}
	}
	return now.Add(timeout)
}
