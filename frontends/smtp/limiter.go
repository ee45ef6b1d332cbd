package smtp

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-chi/httprate"
	"golang.org/x/time/rate"
)

// SetIPRate changes the per-IP message rate and burst of a running server
// (on SIGHUP); a rate of 0 removes the limit.
func (s *Server) SetIPRate(r rate.Limit, burst int) {
	burst = max(burst, 1)
	if r <= 0 {
		s.limiter.Store(nil)
		return
	}
	if l := s.limiter.Load(); l != nil {
		l.set(r, burst)
		return
	}
	s.limiter.Store(newIPLimiter(r, burst))
}

// ipLimiter is a token bucket per client IP. Buckets idle long enough to be
// full again are forgotten, so the map stays as small as the set of
// recently active clients.
type ipLimiter struct {
	mu      sync.Mutex
	r       rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newIPLimiter(r rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{r: r, burst: burst, buckets: map[string]*bucket{}}
}

// set changes the rate and burst. Every client starts again with a full
// bucket at the new settings: an operator who raises the limit does so
// because clients are being refused, and they should get through at once.
func (l *ipLimiter) set(r rate.Limit, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r, l.burst = r, burst
	clear(l.buckets)
}

func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	full := time.Duration(float64(l.burst) / float64(l.r) * float64(time.Second))
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > full {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = &bucket{l: rate.NewLimiter(l.r, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}

// limitListener bounds concurrent connections, in all and per client.
// Past either bound it answers 421 at once and closes, rather than leaving
// clients waiting in the kernel's accept queue with no word. The per-client
// bound comes first, so that one client holding idle connections cannot
// take every slot; rejected is called with the reason, the label of the
// rejected counter.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	perClient int
	rejected  func(reason string)
	mu        sync.Mutex
	clients   map[string]int // open connections by client (clientOf); no zero counts
}

func newLimitListener(ln net.Listener, n, perClient int, rejected func(reason string)) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), perClient: perClient,
		rejected: rejected, clients: map[string]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientOf(c.RemoteAddr())
		if !l.enter(client) {
			l.rejected("max-conns-per-client")
			go refuse(c, "421 4.7.0 Too many connections from your address, try again later\r\n")
			continue
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem; l.leave(client) }}, nil
		default:
			l.leave(client)
			l.rejected("max-conns")
			go refuse(c, "421 4.7.0 Too many connections, try again later\r\n")
		}
	}
}

// enter counts a new connection of client, unless it has its cap already.
func (l *limitListener) enter(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[client] >= l.perClient {
		return false
	}
	l.clients[client]++
	return true
}

// leave counts a connection of client gone. The map holds only clients
// with open connections: at most MaxConns entries.
func (l *limitListener) leave(client string) {
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

// clientOf is the client a connection from addr counts against: its IP
// address, IPv6 addresses grouped by /64 (what one subscriber or host is
// usually given, so that it cannot get past a cap by using more addresses
// of its prefix). It is the grouping of the web frontend's rate limit,
// httprate.CanonicalizeIP, so that both frontends agree on what a client
// is. An address that is no IP (a Unix socket's) is its own client.
func clientOf(addr net.Addr) string {
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return httprate.CanonicalizeIP(host)
}
