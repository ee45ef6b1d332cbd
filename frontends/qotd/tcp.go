package qotd

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

// TCPService is the QOTD service on one stream listener: the Acceptor of
// the Acceptor-Connector pattern, each accepted connection handled by its
// own goroutine (the synchronous half of Half-Sync/Half-Async; the Go
// runtime's netpoller is the asynchronous half).
type TCPService struct {
	s      *Server
	ln     net.Listener
	active atomic.Int64   // connections being answered
	wg     sync.WaitGroup // every connection goroutine
}

// TCP returns the service answering connections accepted on ln. Serve
// closes ln when its context ends.
func (s *Server) TCP(ln net.Listener) *TCPService {
	return &TCPService{s: s, ln: ln}
}

// Addr is the listener's address.
func (t *TCPService) Addr() net.Addr { return t.ln.Addr() }

// Serve accepts connections until ctx ends, then closes the listener and
// waits for the connections in flight (each bounded by the write timeout)
// and returns nil. An accept error that leaves the listener alive (out of
// file descriptors or memory, a firewall rule) is retried with back-off; a
// dead listener (closed under the service, or no longer listening) ends
// Serve with a permanent error (see reactor.ListenerFailed), so that the
// process stops instead of restarting a service that can never accept
// again.
func (t *TCPService) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { t.ln.Close() })
	defer stop()
	defer t.wg.Wait()
	rc := rawListener(t.ln)
	var delay time.Duration
	for {
		if rc != nil {
			if err := t.acceptPending(ctx, rc, &delay); err != nil {
				return err
			}
		}
		// Nothing is pending (or the listener is not a raw socket): wait in
		// the netpoller for the next connection, answered the plain way.
		conn, err := t.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil // closed by the AfterFunc above
			}
			if reactor.ListenerDead(err) {
				return reactor.ListenerFailed(t.ln.Addr(), err)
			}
			if !t.backOff(ctx, err, &delay) {
				return nil
			}
			continue
		}
		delay = 0
		if !t.admit(peerOf(conn)) {
			conn.Close()
			continue
		}
		t.wg.Add(1)
		go t.handle(ctx, conn)
	}
}

// backOff waits after an accept error that leaves the listener alive (out
// of file descriptors), longer each time in a row: *delay doubles from 5 ms up to 1 s. It
// reports false if ctx ended meanwhile.
func (t *TCPService) backOff(ctx context.Context, err error, delay *time.Duration) bool {
	*delay = min(max(2**delay, 5*time.Millisecond), time.Second)
	t.s.log.Warn("accept failed; retrying", "err", err, "in", *delay)
	select {
	case <-time.After(*delay):
		return true
	case <-ctx.Done():
		return false
	}
}

// peerOf is conn's remote address, or the zero AddrPort when it is not an
// IP address (a Unix socket).
func peerOf(conn net.Conn) netip.AddrPort {
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	return netip.AddrPort{}
}

// admit applies the per-client rate limit and the cap on connections in
// flight to a connection from peer. A connection admitted counts as
// active until its handler says otherwise (t.active.Add(-1)).
func (t *TCPService) admit(peer netip.AddrPort) bool {
	cfg := t.s.cfg.Load()
	if cfg.ConnRate > 0 && peer.IsValid() && !t.s.connRate.Allow(limits.ClientOf(peer.Addr()), time.Now()) {
		t.reject(peer, reasonRate, "connection over the per-client rate; closed")
		return false
	}
	if n := t.active.Add(1); cfg.MaxConns > 0 && n > int64(cfg.MaxConns) {
		t.active.Add(-1)
		t.reject(peer, reasonMaxConns, "too many connections at once; closed")
		return false
	}
	return true
}

// reject counts a refused connection; the caller closes it. In a flood
// this runs for every connection, so the debug line is built only when
// debug logging is on.
func (t *TCPService) reject(peer netip.AddrPort, reason, msg string) {
	t.s.metrics.rejected.WithLabelValues("tcp", reason).Inc()
	if t.s.log.Enabled(context.Background(), slog.LevelDebug) {
		t.s.log.Debug(msg, "remote", peer.String())
	}
}

// discardPool holds the buffers that swallow what clients send.
var discardPool = sync.Pool{New: func() any { return new(discard) }}

// discard is a buffer for input to drop, with what the drop found; the
// flags live here rather than in writeReply's closure, which would move
// them to the heap on every connection.
type discard struct {
	buf       [4096]byte
	sent, eof bool // the client sent input; it closed its end
}

// Bounds on the lingering close of a client that sent something: how long
// to wait for its end of the stream, and how much of its input to read and
// drop meanwhile. Past either, the connection is closed regardless.
const (
	lingerTimeout = 2 * time.Second
	lingerMax     = 64 << 10
)

// writeReply writes reply to conn, ends our half of the stream, and drops
// whatever the client has sent, lingering for its end of the stream when
// it sent anything.
//
// A reply fits the empty send buffer of a new connection, so one
// non-blocking write(2) nearly always sends it whole; only when it does not
// is the write deadline armed (a runtime timer per connection, measurable
// at tens of thousands of connections per second) for the rest.
//
// Closing a socket that holds unread input makes the kernel send a reset
// instead of a FIN, and input arriving after the close draws one too. A
// reset reaches the client as "connection reset by peer" instead of the
// end of the quote, and on a real network can overtake a retransmitted
// reply and destroy it. So, as HTTP servers do (a "lingering close"):
//
//  1. shutdown(SHUT_WR) right after the reply: the FIN follows the quote
//     at once, so the client holds the whole reply and a clean end of
//     stream before any reset we might still cause;
//  2. read and drop what the client has sent so far, without waiting;
//  3. if it sent anything (a telnet user who typed), keep reading and
//     dropping until it closes its end, within lingerTimeout and
//     lingerMax, so that the close finds nothing unread.
//
// A client that sends nothing (nearly all of them) costs one more
// syscall, shutdown(2), and no timer: waiting for every client to close
// first halved the connection rate.
//
// Step 3 holds the connection's slot, so it is taken only when mayLinger
// allows it (see TCPService.mayLinger); otherwise the connection is closed
// at once, its client already holding the whole quote and our end of
// stream.
func writeReply(conn net.Conn, reply []byte, timeout time.Duration, mayLinger func() bool) error {
	var rc syscall.RawConn
	if sc, ok := conn.(syscall.Conn); ok {
		rc, _ = sc.SyscallConn()
	}
	if rc != nil {
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = syscall.Write(int(fd), reply)
			return true // never wait for writability here
		}); err != nil {
			return err
		}
		switch {
		case werr == nil:
			reply = reply[n:]
		case werr != syscall.EAGAIN && werr != syscall.EINTR:
			return werr
		}
	}
	if len(reply) > 0 {
		conn.SetWriteDeadline(deadline(time.Now(), timeout))
		if _, err := conn.Write(reply); err != nil {
			return err
		}
	}
	if rc == nil {
		return nil
	}
	d := discardPool.Get().(*discard)
	defer discardPool.Put(d)
	rc.Read(func(fd uintptr) bool {
		d.endWrite(int(fd))
		return true // never wait for readability here
	})
	if d.sent && !d.eof && mayLinger() {
		linger(conn, d.buf[:])
	}
	return nil
}

// mayLinger reports whether an answered connection whose client sent
// input may stay open to linger over it: only while at most half of
// MaxConns is in use, this connection included. Lingering lasts up to
// lingerTimeout, so without this bound clients that type a byte and hold
// their connections could take every slot, at MaxConns/2 connections a
// second, and new clients would be closed unanswered.
func (t *TCPService) mayLinger() bool {
	maxConns := t.s.cfg.Load().MaxConns
	return maxConns <= 0 || t.active.Load() <= int64(maxConns/2)
}

// endWrite ends our half of the stream on the socket fd and drops what the
// client has sent so far, noting whether it sent anything and whether it
// has closed its end. The socket is non-blocking: read returns EAGAIN once
// it is empty, and endWrite never waits.
func (d *discard) endWrite(fd int) {
	d.sent, d.eof = false, false
	syscall.Shutdown(fd, syscall.SHUT_WR)
	for range 16 {
		n, err := syscall.Read(fd, d.buf[:])
		if n == 0 && err == nil {
			d.eof = true
		}
		if n <= 0 || err != nil {
			break
		}
		d.sent = true
	}
}

// linger reads and drops conn's input until the client closes its end,
// lingerTimeout passes or lingerMax bytes have been dropped.
func linger(conn net.Conn, buf []byte) {
	conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	for total := 0; total < lingerMax; {
		n, err := conn.Read(buf)
		total += n
		if err != nil {
			return
		}
	}
}

// handle writes the reply, discards the input and closes.
func (t *TCPService) handle(ctx context.Context, conn net.Conn) {
	defer t.wg.Done()
	defer t.active.Add(-1)
	defer conn.Close()
	defer func() {
		if r := recover(); r != nil {
			t.s.metrics.tcpErrors.Inc()
			t.s.log.Error("panic while serving a connection", "remote", conn.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	start := time.Now()
	reply, err := t.s.Reply(ctx)
	if err != nil {
		t.s.metrics.tcpErrors.Inc()
		t.s.replyFailed(err)
		return
	}
	if err := writeReply(conn, reply, t.s.writeTimeout(), t.mayLinger); err != nil {
		t.s.metrics.tcpErrors.Inc()
		t.s.log.Debug("writing the quote failed", "remote", conn.RemoteAddr().String(), "err", err)
		return
	}
	took := time.Since(start)
	t.s.metrics.tcpServed.Inc()
	// Enabled spares the hot path the formatting of the remote address.
	if t.s.log.Enabled(ctx, slog.LevelDebug) {
		t.s.log.Debug("served", "remote", conn.RemoteAddr().String(), "bytes", len(reply), "took", took)
	}
}

// Close closes the listener, for a start that fails after binding it.
func (t *TCPService) Close() error { return t.ln.Close() }

// String names the service in logs.
func (t *TCPService) String() string { return "qotd-tcp" }
