package qotd

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
)

// TCPService is the QOTD service on one stream listener: a oneshot
// Acceptor (the connection cap, the per-client rate, back-off, the wait
// for connections in flight) whose connections get the quote, then a
// lingering close.
type TCPService struct {
	s   *Server
	ln  net.Listener
	acc oneshot.Acceptor
}

// TCP returns the service answering connections accepted on ln. Serve
// closes ln when its context ends.
func (s *Server) TCP(ln net.Listener) *TCPService {
	t := &TCPService{s: s, ln: ln}
	t.acc = oneshot.Acceptor{
		Log:      s.log,
		MaxConns: func() int { return s.cfg.Load().MaxConns },
		ConnRate: s.connRate,
		Rejected: func(reason string) { s.metrics.rejected.WithLabelValues("tcp", reason).Inc() },
		Failed:   s.metrics.tcpErrors.Inc,
		Inline:   t.inline,
		Handle:   t.handle,
	}
	return t
}

// Addr is the listener's address.
func (t *TCPService) Addr() net.Addr { return t.ln.Addr() }

// Serve accepts connections until ctx ends, then closes the listener and
// waits for the connections in flight (each bounded by the write timeout)
// and returns nil; a listener that dies ends it with a permanent error
// (see oneshot.Acceptor.Serve).
func (t *TCPService) Serve(ctx context.Context) error {
	return t.acc.Serve(ctx, t.ln)
}

// handle writes the reply, discards the input; the Acceptor closes.
func (t *TCPService) handle(ctx context.Context, conn net.Conn) {
	start := time.Now()
	reply, err := t.s.Reply(ctx)
	if err != nil {
		t.s.metrics.tcpErrors.Inc()
		t.s.replyFailed(err)
		return
	}
	if err := oneshot.WriteReply(conn, reply, t.s.writeTimeout(), t.acc.MayLinger); err != nil {
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

// served counts a connection answered in full.
func (t *TCPService) served(ctx context.Context, peer netip.AddrPort, n int) {
	t.s.metrics.tcpServed.Inc()
	if t.s.log.Enabled(ctx, slog.LevelDebug) {
		t.s.log.Debug("served", "remote", peer.String(), "bytes", n)
	}
}

// Close closes the listener, for a start that fails after binding it.
func (t *TCPService) Close() error { return t.ln.Close() }

// String names the service in logs.
func (t *TCPService) String() string { return "qotd-tcp" }
