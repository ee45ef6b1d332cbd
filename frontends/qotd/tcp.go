package qotd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
	rate   *sourceLimiter
}

// TCP returns the service answering connections accepted on ln. Serve
// closes ln when its context ends.
func (s *Server) TCP(ln net.Listener) *TCPService {
	return &TCPService{s: s, ln: ln, rate: newSourceLimiter(1)}
}

// Addr is the listener's address.
func (t *TCPService) Addr() net.Addr { return t.ln.Addr() }

// Serve accepts connections until ctx ends, then closes the listener and
// waits for the connections in flight (each bounded by the write timeout)
// and returns nil. Temporary accept errors (out of file descriptors) are
// retried with back-off; any other is returned.
func (t *TCPService) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { t.ln.Close() })
	defer stop()
	defer t.wg.Wait()
	var delay time.Duration
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			//lint:ignore SA1019 Temporary is right for accept(2): EMFILE, ENFILE, ECONNABORTED
			if ne, ok := err.(net.Error); ok && ne.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				t.s.log.Warn("accept failed; retrying", "err", err, "in", delay)
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return err
		}
		delay = 0
		if !t.admit(conn) {
			conn.Close()
			continue
		}
		t.wg.Add(1)
		go t.handle(ctx, conn)
	}
}

// admit applies the per-IP rate limit and the cap on connections in flight.
func (t *TCPService) admit(conn net.Conn) bool {
	cfg := t.s.cfg.Load()
	if cfg.ConnRate > 0 {
		t.rate.setRate(cfg.ConnRate)
		if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok && !t.rate.allow(ta.AddrPort().Addr().Unmap(), time.Now()) {
			t.reject(conn, reasonRate, "connection over the per-address rate; closed")
			return false
		}
	}
	if n := t.active.Add(1); cfg.MaxConns > 0 && n > int64(cfg.MaxConns) {
		t.active.Add(-1)
		t.reject(conn, reasonMaxConns, "too many connections at once; closed")
		return false
	}
	return true
}

// reject counts a refused connection; the caller closes it. In a flood
// this runs for every connection, so the debug line is built only when
// debug logging is on.
func (t *TCPService) reject(conn net.Conn, reason, msg string) {
	t.s.metrics.rejected.WithLabelValues("tcp", reason).Inc()
	if t.s.log.Enabled(context.Background(), slog.LevelDebug) {
		t.s.log.Debug(msg, "remote", conn.RemoteAddr().String())
	}
}

// discardPool holds the buffers that swallow what clients send.
var discardPool = sync.Pool{New: func() any { return new([4096]byte) }}

// writeReply writes reply to conn and then reads and drops whatever the
// client has sent so far, without waiting for more.
//
// A reply fits the empty send buffer of a new connection, so one
// non-blocking write(2) nearly always sends it whole; only when it does not
// is the write deadline armed (a runtime timer per connection, measurable
// at tens of thousands of connections per second) for the rest.
//
// Closing a socket with unread input makes the kernel answer with a reset
// instead of a FIN, and a reset can destroy the reply still in flight or
// unread at the client; so the input is ignored by reading it. Input that
// comes after the close still draws a reset, but by then the client holds
// the reply and our FIN. (Waiting for the client to close first would be
// safer still, and halved the connection rate.)
func writeReply(conn net.Conn, reply []byte, timeout time.Duration) error {
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
		conn.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := conn.Write(reply); err != nil {
			return err
		}
	}
	if rc != nil {
		buf := discardPool.Get().(*[4096]byte)
		rc.Read(func(fd uintptr) bool {
			// The socket is non-blocking: read returns EAGAIN once it is empty.
			for range 16 {
				if n, err := syscall.Read(int(fd), buf[:]); n <= 0 || err != nil {
					break
				}
			}
			return true // never wait for readability
		})
		discardPool.Put(buf)
	}
	return nil
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
	if err := writeReply(conn, reply, t.s.writeTimeout()); err != nil {
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
