package smtp_test

// Tests that every per-client limit of the mail frontend counts an IPv6
// /64 as one client, and that a reload forgives no client.

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
)

// peerListener is a real listener on loopback whose connections report,
// as their RemoteAddr, the address set by from before the client dials:
// many clients at addresses of one IPv6 /64 without configuring any
// address on the machine. Clients must dial one at a time.
type peerListener struct {
	net.Listener
	mu   sync.Mutex
	next net.Addr
}

// listenAsPeers listens on [::1]:0, or 127.0.0.1:0 on a host without
// IPv6, for the harness.
func listenAsPeers(pl *peerListener) func(testing.TB) net.Listener {
	return func(t testing.TB) net.Listener {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
		}
		pl.Listener = ln
		return pl
	}
}

// from makes the next connection accepted appear to come from ip.
func (l *peerListener) from(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next = &net.TCPAddr{IP: net.ParseIP(ip), Port: 40025}
}

func (l *peerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return &peerConn{Conn: c, remote: l.next}, nil
}

type peerConn struct {
	net.Conn
	remote net.Addr
}

func (c *peerConn) RemoteAddr() net.Addr { return c.remote }

// slash64 are addresses of 2001:db8:1:2::/64 after its first,
// 2001:db8:1:2::1: the same /64, other interface identifiers.
var slash64 = []string{"2001:db8:1:2::2", "2001:db8:1:2::ffff", "2001:db8:1:2:1::1",
	"2001:db8:1:2:dead:beef:0:1", "2001:db8:1:2:8000::", "2001:db8:1:2:ffff:ffff:ffff:ffff"}

// sendFrom sends a request over a connection that appears to come from ip.
func sendFrom(t *testing.T, h *harness, pl *peerListener, ip, sender string) error {
	t.Helper()
	pl.from(ip)
	return send(t, h.addr, sender, []string{"quote@quotes.test"}, request("today"))
}

func TestSMTP_MessageRateCountsAnIPv6Slash64AsOneClient(t *testing.T) {
	pl := &peerListener{}
	h := newHarness(t, func(s *setup) {
		s.cfg.IPRate, s.cfg.IPBurst = rate.Every(time.Hour), 2
		s.listen = listenAsPeers(pl)
	})
	for i := range 2 {
		if err := sendFrom(t, h, pl, "2001:db8:1:2::1", fmt.Sprintf("user%d@example.org", i)); err != nil {
			t.Fatalf("message %d from 2001:db8:1:2::1: %v", i+1, err)
		}
	}
	for i, ip := range slash64 {
		err := sendFrom(t, h, pl, ip, fmt.Sprintf("other%d@example.org", i))
		wantCode(t, err, 450, gosmtp.EnhancedCode{4, 7, 1})
	}
	if got := h.counter(t, "quotesd_smtp_rejected_total", "ip_rate"); got != float64(len(slash64)) {
		t.Errorf("rejected{reason=ip-rate} = %v, want %d", got, len(slash64))
	}
	for _, ip := range []string{"2001:db8:1:3::1", "2001:db9:1:2::1", "192.0.2.1"} {
		if err := sendFrom(t, h, pl, ip, "carol@example.org"); err != nil {
			t.Errorf("a message from %s, another client: %v", ip, err)
		}
	}
}

func TestSMTP_DailyReplyCapCountsAnIPv6Slash64AsOneClient(t *testing.T) {
	pl := &peerListener{}
	h := newHarness(t, func(s *setup) {
		s.limits.PerIP = 2
		s.listen = listenAsPeers(pl)
	})
	for i := range 2 {
		if err := sendFrom(t, h, pl, "2001:db8:1:2::1", fmt.Sprintf("user%d@example.org", i)); err != nil {
			t.Fatalf("message %d from 2001:db8:1:2::1: %v", i+1, err)
		}
	}
	if n := h.queued(t); n != 2 {
		t.Fatalf("%d replies queued for 2001:db8:1:2::1, want 2", n)
	}
	// The other addresses of the /64 are answered 250, but get no reply:
	// the cap is the first address's, spent.
	for i, ip := range slash64 {
		if err := sendFrom(t, h, pl, ip, fmt.Sprintf("other%d@example.org", i)); err != nil {
			t.Fatalf("message from %s: %v", ip, err)
		}
	}
	if n := h.queued(t); n != 2 {
		t.Errorf("%d replies queued after mail from %d more addresses of the /64, want still 2", n, len(slash64))
	}
	if got := h.counter(t, "quotesd_smtp_replies_skipped_total", queue.SkipIPLimit); got != float64(len(slash64)) {
		t.Errorf("skipped{reason=ip_limit} = %v, want %d", got, len(slash64))
	}
	if err := sendFrom(t, h, pl, "2001:db8:1:3::1", "carol@example.org"); err != nil {
		t.Fatal(err)
	}
	if n := h.queued(t); n != 3 {
		t.Errorf("%d replies queued after mail from another /64, want 3", n)
	}
}

// SetIPRate is what a SIGHUP calls: with the same rate or another, a client
// that has spent its budget stays refused.
func TestSMTP_ReloadKeepsEachClientsSpentMessageRate(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.IPRate, s.cfg.IPBurst = rate.Every(time.Hour), 2 })
	for range 2 {
		mustSend(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today"))
	}
	for _, tc := range []struct {
		r     rate.Limit
		burst int
	}{{rate.Every(time.Hour), 2}, {rate.Every(time.Minute), 10}, {rate.Every(24 * time.Hour), 1}} {
		h.srv.SetIPRate(tc.r, tc.burst)
		err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today"))
		wantCode(t, err, 450, gosmtp.EnhancedCode{4, 7, 1})
	}
	// Turning the limit off lets the client through.
	h.srv.SetIPRate(0, 0)
	mustSend(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today"))
}
