package smtp

import (
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
)

// SetIPRate changes the per-client message rate and burst of a running
// server (on SIGHUP); a rate of 0 removes the limit. A client (an IPv4
// address or an IPv6 /64, limits.Client) keeps what it has spent: after
// SetIPRate with the same or a new rate, one that was refused still is,
// until it has earned a message back at the new rate.
func (s *Server) SetIPRate(r rate.Limit, burst int) {
	s.limiter.SetRateAt(s.cfg.Now(), r, burst)
}

// allowMessage takes a message from the budget of the session's client,
// and reports whether there was one (450 if not).
func (ss *session) allowMessage() bool {
	if ss.s.limiter.Allow(ss.client, ss.s.cfg.Now()) {
		return true
	}
	ss.s.metrics.rejected.WithLabelValues(rejectIPRate).Inc()
	ss.s.log.Info("smtp message refused: rate limit", "ip", ss.ip, "client", ss.client.String())
	return false
}

// limitListener bounds concurrent connections, in all and per client.
// Past either bound it answers 421 at once and closes, rather than leaving
// clients waiting in the kernel's accept queue with no word. The per-client
// bound comes first, so that one client holding idle connections cannot
// take every slot; rejected is called with the reason, the label of the
// rejected counter. A bound of 0 is no bound.
type limitListener struct {
	net.Listener
	sem       chan struct{} // nil: no bound in all
	perClient int           // 0: no bound per client
	rejected  func(reason string)
	mu        sync.Mutex
	clients   map[limits.Client]int // open connections by client; no zero counts
}

func newLimitListener(ln net.Listener, n, perClient int, rejected func(reason string)) net.Listener {
	l := &limitListener{Listener: ln, perClient: perClient, rejected: rejected, clients: map[limits.Client]int{}}
	if n > 0 {
		l.sem = make(chan struct{}, n)
	}
	return l
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := limits.ClientOfNetAddr(c.RemoteAddr())
		if !l.enter(client) {
			l.rejected(rejectMaxConnsPerClient)
			go refuse(c, "421 4.7.0 Too many connections from your address, try again later\r\n")
			continue
		}
		if l.sem == nil {
			return &limitConn{Conn: c, release: func() { l.leave(client) }}, nil
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem; l.leave(client) }}, nil
		default:
			l.leave(client)
			l.rejected(rejectMaxConns)
			go refuse(c, "421 4.7.0 Too many connections, try again later\r\n")
		}
	}
}

// enter counts a new connection of client, unless it has its cap already.
func (l *limitListener) enter(client limits.Client) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perClient > 0 && l.clients[client] >= l.perClient {
		return false
	}
	l.clients[client]++
	return true
}

// leave counts a connection of client gone. The map holds only clients
// with open connections: at most MaxConns entries, when there is a bound.
func (l *limitListener) leave(client limits.Client) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[client]--; l.clients[client] <= 0 {
		delete(l.clients, client)
	}
}

// refuse writes reply, within a few seconds, and closes c.
func refuse(c net.Conn, reply string) {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, reply)
	c.Close()
}
