package queue_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// dbProxy forwards connections on loopback to a PostgreSQL server, and can
// cut them all and refuse new ones, as a server that is down does.
type dbProxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

// newDBProxy starts a proxy to the server of dbURL and returns it with the
// URL of the same database through it.
func newDBProxy(t *testing.T, dbURL string) (*dbProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: u.Host}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *dbProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

// cut closes every connection and refuses new ones until restore.
func (p *dbProxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *dbProxy) restore() { p.down.Store(false) }

// While the database is down, Record fails (a session answers 451, never a
// 250 for a reply not stored), and delivery says it is paused (/readyz);
// once the database is back, records succeed, and delivery resumes and
// sends them, without reopening the queue.
func TestPostgres_DatabaseDownFailsRecordsThenAllResumes(t *testing.T) {
	proxy, dbURL := newDBProxy(t, pgtest.NewDatabase(t))
	q := openQueue(t, dbURL, queue.WithLease(3*time.Second))
	sink := smtptest.NewSink(t, smtptest.Options{})
	d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, Concurrency: 2,
		MaxAge: time.Hour, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	record(t, q, reply("before@example.org", 1))
	sink.Wait(t, 1, 10*time.Second)

	proxy.cut()
	if skip, err := q.Record(context.Background(), reply("during@example.org", 2)); err == nil {
		t.Fatalf("Record with the database down = %q, nil; want an error (a 451 to the client)", skip)
	}
	if !waitFor(10*time.Second, func() bool { return d.Ready() != nil }) {
		t.Error("Delivery.Ready() = nil with the database down and a write failed, want an error (/readyz)")
	}

	proxy.restore()
	if !waitFor(15*time.Second, func() bool {
		_, err := q.Record(context.Background(), reply("after@example.org", 3))
		return err == nil
	}) {
		t.Fatal("Record still fails 15s after the database came back")
	}
	ms := sink.Wait(t, 2, 15*time.Second)
	if got := ms[1].To[0]; got != "after@example.org" {
		t.Errorf("delivered %s after the outage, want after@example.org", got)
	}
	if !waitFor(10*time.Second, func() bool { return d.Ready() == nil }) {
		t.Errorf("Delivery.Ready() = %v after the database came back, want nil", d.Ready())
	}
	if got := len(sink.Messages()); got != 2 {
		t.Errorf("%d replies delivered, want 2 (the one refused during the outage is not queued)", got)
	}
}

// waitFor polls cond until it holds or d passes, and reports whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
