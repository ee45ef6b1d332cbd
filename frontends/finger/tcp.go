package finger

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
)

// lineBuf is the most a query read takes: MaxQuery bytes and a CRLF. A
// line that has no LF within it is too long.
const lineBuf = MaxQuery + 2

// TCPService is the Finger service on one stream listener: a oneshot
// Acceptor whose connections are read one query line, answered, and
// closed.
type TCPService struct {
	s   *Server
	ln  net.Listener
	acc oneshot.Acceptor
	buf [lineBuf]byte // the acceptor's read buffer (Inline runs in one goroutine)
}

// TCP returns the service answering connections accepted on ln. Serve
// closes ln when its context ends. On Linux, ln hands over connections
// once their query has arrived, or after the read timeout at start (see
// deferAccept).
func (s *Server) TCP(ln net.Listener) *TCPService {
	t := &TCPService{s: s, ln: ln}
	if ln != nil {
		deferAccept(ln, int(max(1, math.Ceil(s.cfg.Load().ReadTimeout.Seconds()))))
	}
	t.acc = oneshot.Acceptor{
		Log:      s.log,
		MaxConns: func() int { return s.cfg.Load().MaxConns },
		ConnRate: s.connRate,
		Rejected: func(reason string) { s.metrics.rejected.WithLabelValues(reason).Inc() },
		Failed:   s.metrics.errors.Inc,
		Inline:   t.inline,
		Handle:   func(ctx context.Context, conn net.Conn) { t.serve(ctx, conn, nil) },
	}
	return t
}

// Addr is the listener's address.
func (t *TCPService) Addr() net.Addr { return t.ln.Addr() }

// Serve accepts connections until ctx ends, then closes the listener,
// waits for the connections in flight (each bounded by the read and write
// timeouts) and returns nil; a listener that dies ends it with a permanent
// error (see oneshot.Acceptor.Serve).
func (t *TCPService) Serve(ctx context.Context) error {
	return t.acc.Serve(ctx, t.ln)
}

// serve reads the query (its first bytes, have, may already be read),
// answers it and ends the stream; the caller closes conn.
func (t *TCPService) serve(ctx context.Context, conn net.Conn, have []byte) {
	peer := oneshot.PeerOf(conn)
	q, err := t.readQuery(conn, have)
	if err != nil {
		t.s.metrics.errors.Inc()
		t.s.log.Debug("reading the query failed", "remote", peer.String(), "err", err)
		return
	}
	reply := t.s.Answer(ctx, q)
	if err := oneshot.WriteReply(conn, reply, t.s.cfg.Load().WriteTimeout, t.acc.MayLinger); err != nil {
		t.s.metrics.errors.Inc()
		t.s.log.Debug("writing the reply failed", "remote", peer.String(), "err", err)
		return
	}
	t.served(ctx, peer, q, len(reply))
}

// readQuery reads conn until the end of the query line, within the read
// timeout from now, and parses it. A client that sends no line end in
// time is refused (reasonTimeout); one that ends its stream instead of
// the line has sent its query all the same.
//
// The line is usually there already (see deferAccept): it is first read
// without waiting, and the deadline, a runtime timer, is armed only when
// the line is not all there.
func (t *TCPService) readQuery(conn net.Conn, have []byte) (Query, error) {
	buf := make([]byte, len(have), lineBuf)
	copy(buf, have)
	if q, ok := readNow(conn, &buf); ok {
		return q, nil
	}
	conn.SetReadDeadline(time.Now().Add(t.s.cfg.Load().ReadTimeout))
	for {
		if q, ok := lineQuery(buf); ok {
			return q, nil
		}
		n, err := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return refuse(reasonTimeout, "finger: no query line within the time allowed"), nil
		case err == io.EOF:
			if q, ok := lineQuery(buf); ok {
				return q, nil
			}
			return Parse(buf), nil
		case err != nil:
			return Query{}, err
		}
	}
}

// readNow reads what conn holds into *buf without waiting, and parses the
// query if that completes the line (ok); otherwise the caller waits.
func readNow(conn net.Conn, buf *[]byte) (q Query, ok bool) {
	if q, ok := lineQuery(*buf); ok {
		return q, true
	}
	sc, isRaw := conn.(syscall.Conn)
	if !isRaw {
		return Query{}, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return Query{}, false
	}
	b := *buf
	rc.Read(func(fd uintptr) bool {
		n, err := syscall.Read(int(fd), b[len(b):cap(b)])
		if err == nil && n > 0 {
			b = b[:len(b)+n]
		}
		return true // never wait here
	})
	*buf = b
	return lineQuery(b)
}

// lineQuery parses the query in buf once buf holds a whole line, or is
// full without one (too long); ok is false while more is to come.
func lineQuery(buf []byte) (q Query, ok bool) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) >= lineBuf {
			return Parse(buf), true // over MaxQuery: refused as too long
		}
		return Query{}, false
	}
	return Parse(bytes.TrimSuffix(buf[:i], []byte("\r"))), true
}

// served counts a reply sent in full.
func (t *TCPService) served(ctx context.Context, peer netip.AddrPort, q Query, n int) {
	if q.Kind == Today {
		t.s.metrics.todayServed.Inc()
	} else {
		t.s.metrics.replies.WithLabelValues(string(q.Kind)).Inc()
	}
	if t.s.log.Enabled(ctx, slog.LevelDebug) {
		t.s.log.Debug("served", "remote", peer.String(), "query", string(q.Kind), "bytes", n)
	}
}

// Close closes the listener, for a start that fails after binding it.
func (t *TCPService) Close() error { return t.ln.Close() }

// String names the service in logs.
func (t *TCPService) String() string { return "finger" }
