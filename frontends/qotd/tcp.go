package qotd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// TCPService is the QOTD service on one stream listener: the Acceptor of
// the Acceptor-Connector pattern, each accepted connection handled by its
// own goroutine (the synchronous half of Half-Sync/Half-Async; the Go
// runtime's netpoller is the asynchronous half).
type TCPService struct {
	s      *Server
	ln     net.Listener
	active atomic.Int64   // connections being answered (not lingering)
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
// waits for the connections in flight (each bounded by the write timeout
// and the linger time) and returns nil. Temporary accept errors (out of
// file descriptors) are retried with back-off; any other is returned.
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
			if ne, ok := err.(net.Error); ok && ne.Temporary() { //nolint:staticcheck // Temporary is right for accept(2): EMFILE, ECONNABORTED
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
		if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil && !t.rate.allow(ap.Addr().Unmap(), time.Now()) {
			t.s.metrics.rejected.WithLabelValues("tcp", reasonRate).Inc()
			t.s.log.Debug("connection over the per-address rate; closed", "remote", conn.RemoteAddr().String())
			return false
		}
	}
	if n := t.active.Add(1); cfg.MaxConns > 0 && n > int64(cfg.MaxConns) {
		t.active.Add(-1)
		t.s.metrics.rejected.WithLabelValues("tcp", reasonMaxConns).Inc()
		t.s.log.Debug("too many connections; closed", "remote", conn.RemoteAddr().String(), "max", cfg.MaxConns)
		return false
	}
	return true
}

// discardPool holds the buffers that swallow what clients send.
var discardPool = sync.Pool{New: func() any { return new([512]byte) }}

// handle writes the reply, half-closes, swallows any input until the
// client closes or the linger time ends, and closes.
func (t *TCPService) handle(ctx context.Context, conn net.Conn) {
	defer t.wg.Done()
	defer conn.Close()
	counted := true
	release := func() {
		if counted {
			t.active.Add(-1)
			counted = false
		}
	}
	defer release()
	defer func() {
		if r := recover(); r != nil {
			t.s.metrics.errors.WithLabelValues("tcp").Inc()
			t.s.log.Error("panic while serving a connection", "remote", conn.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	start := time.Now()
	reply, err := t.s.Reply(ctx)
	if err != nil {
		t.s.metrics.errors.WithLabelValues("tcp").Inc()
		t.s.log.Error("no quote to send", "remote", conn.RemoteAddr().String(), "err", err)
		return
	}
	conn.SetWriteDeadline(start.Add(t.s.writeTimeout()))
	if _, err := conn.Write(reply); err != nil {
		t.s.metrics.errors.WithLabelValues("tcp").Inc()
		t.s.log.Debug("writing the quote failed", "remote", conn.RemoteAddr().String(), "err", err)
		return
	}
	took := time.Since(start)
	t.s.metrics.served.WithLabelValues("tcp").Inc()
	release()                                  // lingering costs a goroutine, not a slot
	if t.s.log.Enabled(ctx, slog.LevelDebug) { // spare the hot path the formatting
		t.s.log.Debug("served", "remote", conn.RemoteAddr().String(), "bytes", len(reply), "took", took)
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			conn.SetReadDeadline(time.Now().Add(t.s.linger()))
			buf := discardPool.Get().(*[512]byte)
			for n := 0; n < 64<<10; { // swallow at most 64 KiB
				m, err := conn.Read(buf[:])
				n += m
				if err != nil {
					break
				}
			}
			discardPool.Put(buf)
		}
	}
}

// Close closes the listener, for a start that fails after binding it.
func (t *TCPService) Close() error { return t.ln.Close() }

// String names the service in logs.
func (t *TCPService) String() string { return "qotd-tcp" }
