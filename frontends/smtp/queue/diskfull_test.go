package queue_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"quotesd/frontends/smtp/queue"
	"quotesd/frontends/smtp/smtptest"
)

// gauge returns the value of the gauge or counter name on reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// tries counts RCPTs per recipient at a sink.
type tries struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *tries) add(rcpt string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[rcpt]++
}

func (c *tries) get(rcpt string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[rcpt]
}

// On a full state disk, every outcome that cannot be recorded (a reply
// accepted, refused for now, refused for good) is held, not taken for a
// reply still to send: the relay sees each reply at most once, not again
// and again at the speed it answers. Delivery pauses and says so (Ready,
// metrics), and once the disk has room the outcomes are recorded.
func TestDelivery_StorageFailureStopsDeliveryAndNeverResends(t *testing.T) {
	dir := smtptest.SmallFS(t, 1<<20)
	q := openQueue(t, dir)
	for i, rcpt := range []string{"alice@example.org", "busy@example.org", "gone@example.org"} {
		record(t, q, reply(rcpt, i+1))
	}
	// The relay takes its time over the first RCPT: the disk fills
	// while delivery is under way.
	var rcpts tries
	first, filled := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sink := smtptest.NewSink(t, smtptest.Options{Reject: func(rcpt string) error {
		rcpts.add(rcpt)
		once.Do(func() { close(first); <-filled })
		switch rcpt {
		case "busy@example.org":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		case "gone@example.org":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	reg := prometheus.NewRegistry()
	d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone},
		MinBackoff: time.Hour, MaxBackoff: time.Hour, Timeout: 5 * time.Second, Metrics: queue.NewMetrics(reg)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Delivery.Serve: %v", err)
		}
	}()
	<-first
	filler := smtptest.FillFS(t, dir)
	close(filled)

	deadline := time.Now().Add(10 * time.Second)
	for d.Ready() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d.Ready() == nil {
		t.Fatal("Ready() = nil with the state disk full, want the reason delivery is paused")
	}
	time.Sleep(time.Second) // time enough for copies and retries to pile up
	for _, rcpt := range []string{"alice@example.org", "busy@example.org", "gone@example.org"} {
		if n := rcpts.get(rcpt); n > 1 {
			t.Errorf("with the state disk full the relay saw RCPT %s %d times, want at most once", rcpt, n)
		}
	}
	if n := len(sink.Messages()); n > 1 {
		t.Errorf("with the state disk full the relay got %d messages, want at most 1 (alice's)", n)
	}
	if got := gauge(t, reg, "quotesd_smtp_queue_store_failing"); got != 1 {
		t.Errorf("quotesd_smtp_queue_store_failing = %v with the state disk full, want 1", got)
	}
	if got := gauge(t, reg, "quotesd_smtp_queue_store_failures_total"); got < 1 {
		t.Errorf("quotesd_smtp_queue_store_failures_total = %v with the state disk full, want 1 or more", got)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	sink.Wait(t, 1, 10*time.Second) // alice's reply, if it was not sent before
	waitCounts(t, q, 1, 1, 1)       // busy deferred for an hour; alice sent; gone dropped
	if err := d.Ready(); err != nil {
		t.Errorf("Ready() = %v once the disk has room, want nil", err)
	}
	if got := gauge(t, reg, "quotesd_smtp_queue_store_failing"); got != 0 {
		t.Errorf("quotesd_smtp_queue_store_failing = %v once the disk has room, want 0", got)
	}
	if got := gauge(t, reg, "quotesd_smtp_replies_unrecorded"); got != 0 {
		t.Errorf("quotesd_smtp_replies_unrecorded = %v once the disk has room, want 0", got)
	}
	time.Sleep(200 * time.Millisecond) // room for a copy to show up
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("the relay got %d messages in all, want 1", n)
	}
	for _, rcpt := range []string{"alice@example.org", "busy@example.org", "gone@example.org"} {
		if n := rcpts.get(rcpt); n != 1 {
			t.Errorf("the relay saw RCPT %s %d times in all, want once", rcpt, n)
		}
	}
}
