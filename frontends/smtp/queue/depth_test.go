package queue_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

func depth(t *testing.T, q *queue.Queue, now time.Time) queue.Depth {
	t.Helper()
	d, err := q.Depth(context.Background(), now)
	if err != nil {
		t.Fatalf("Depth: %v", err)
	}
	return d
}

func TestQueue_DepthOfAnEmptyQueueIsZero(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where)
		defer q.Close()
		if got := depth(t, q, time.Now()); got != (queue.Depth{}) {
			t.Errorf("Depth of an empty queue = %+v, want zero", got)
		}
	})
}

// Replies waiting for a retry are deferred, the others due; delivered and
// dropped ones, kept for audit, are not counted; the oldest is the first
// still queued.
func TestQueue_DepthCountsDueAndDeferredRepliesAndTheOldest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		clk := newClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		start := clk.Now()
		sink := smtptest.NewSink(t, smtptest.Options{Reject: func(rcpt string) error {
			switch rcpt {
			case "busy@example.org":
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			case "gone@example.org":
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}})
		q := openQueue(t, where, queue.WithClock(clk.Now))
		record(t, q, reply("here@example.org", 1))
		clk.Add(time.Minute)
		record(t, q, reply("gone@example.org", 2))
		clk.Add(time.Minute)
		record(t, q, reply("busy@example.org", 3))
		if got, want := depth(t, q, clk.Now()), (queue.Depth{Due: 3, Oldest: start}); got != want {
			t.Errorf("Depth before delivery = %+v, want %+v", got, want)
		}

		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone},
			MinBackoff: time.Hour, MaxBackoff: time.Hour})
		waitCounts(t, q, 1, 1, 1)
		record(t, q, reply("new@example.org", 4)) // delivered too, soon
		waitCounts(t, q, 1, 2, 1)
		want := queue.Depth{Deferred: 1, Oldest: start.Add(2 * time.Minute)}
		if got := depth(t, q, clk.Now()); got != want {
			t.Errorf("Depth with busy@ deferred = %+v, want %+v", got, want)
		}
		// Once its retry is due, it counts as due again.
		clk.Add(2 * time.Hour)
		want = queue.Depth{Due: 1, Oldest: start.Add(2 * time.Minute)}
		if got := depth(t, q, clk.Now()); got != want {
			t.Errorf("Depth when the retry is due = %+v, want %+v", got, want)
		}
	})
}

// depthGauge returns the value of the depth gauge of state.
func depthGauge(m *queue.Metrics, state string) float64 {
	return testutil.ToFloat64(m.Depth.WithLabelValues(state))
}

// waitGauges waits until the depth gauges read queued, deferred, held and
// the oldest age, and fails t with what they read otherwise.
func waitGauges(t *testing.T, m *queue.Metrics, queued, deferred, held, age float64) {
	t.Helper()
	read := func() [4]float64 {
		return [4]float64{depthGauge(m, "queued"), depthGauge(m, "deferred"), depthGauge(m, "held"), testutil.ToFloat64(m.OldestAge)}
	}
	want := [4]float64{queued, deferred, held, age}
	for deadline := time.Now().Add(10 * time.Second); read() != want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gauges queued, deferred, held, oldest age = %v, want %v", read(), want)
		}
	}
}

// The metrics exist from the start: the depth by every state at zero, and
// every reason a reply is dropped for.
func TestMetrics_EveryStateAndDropReasonExistsAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	queue.NewMetrics(reg)
	want := `# HELP quotesd_smtp_queue_oldest_age_seconds Age of the reply queued longest (queued, deferred or held); 0 when the queue is empty.
# TYPE quotesd_smtp_queue_oldest_age_seconds gauge
quotesd_smtp_queue_oldest_age_seconds 0
# HELP quotesd_smtp_queue_replies Replies in the mail queue, by state: queued (due), deferred (waiting for a retry), held (no delivery configured).
# TYPE quotesd_smtp_queue_replies gauge
quotesd_smtp_queue_replies{state="deferred"} 0
quotesd_smtp_queue_replies{state="held"} 0
quotesd_smtp_queue_replies{state="queued"} 0
# HELP quotesd_smtp_replies_dropped_total Replies given up on, by reason.
# TYPE quotesd_smtp_replies_dropped_total counter
quotesd_smtp_replies_dropped_total{reason="expired"} 0
quotesd_smtp_replies_dropped_total{reason="lost"} 0
quotesd_smtp_replies_dropped_total{reason="rejected"} 0
quotesd_smtp_replies_dropped_total{reason="unrecorded"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"quotesd_smtp_queue_oldest_age_seconds", "quotesd_smtp_queue_replies", "quotesd_smtp_replies_dropped_total"); err != nil {
		t.Error(err)
	}
}

// With neither relay nor direct MX every queued reply is held, and the
// gauges say so as soon as delivery starts, with the age of the oldest.
func TestDelivery_GaugesCountHeldRepliesFromTheStart(t *testing.T) {
	clk := newClock(time.Now().Truncate(time.Millisecond)) // as the queue stores times
	q := openQueue(t, t.TempDir(), queue.WithClock(clk.Now))
	record(t, q, reply("old@example.org", 1))
	clk.Add(10 * time.Minute)
	record(t, q, reply("young@example.org", 2))
	m := queue.NewMetrics(prometheus.NewRegistry())
	delivery(t, q, queue.Config{Metrics: m})
	waitGauges(t, m, 0, 0, 2, 600)
}

// Through a relay, replies are queued until sent, deferred while waiting
// for a retry; the gauges follow at each count.
func TestDelivery_GaugesFollowQueuedAndDeferredReplies(t *testing.T) {
	clk := newClock(time.Now().Truncate(time.Millisecond)) // as the queue stores times
	refuse := make(chan struct{})
	release := sync.OnceFunc(func() { close(refuse) })
	sink := smtptest.NewSink(t, smtptest.Options{Reject: func(rcpt string) error {
		<-refuse // held until the gauges have seen the reply queued
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}})
	q := openQueue(t, t.TempDir(), queue.WithClock(clk.Now))
	record(t, q, reply("alice@example.org", 1))
	clk.Add(time.Minute)
	m := queue.NewMetrics(prometheus.NewRegistry())
	delivery(t, q, queue.CountDepthEvery(queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone},
		Metrics: m, MinBackoff: time.Hour, MaxBackoff: time.Hour}, 10*time.Millisecond))
	t.Cleanup(release) // first: a failed test must not leave the sink waiting
	waitGauges(t, m, 1, 0, 0, 60)
	release()
	waitGauges(t, m, 0, 1, 0, 60)
	if got := testutil.ToFloat64(m.Deferred); got != 1 {
		t.Errorf("quotesd_smtp_delivery_deferred_total = %v, want 1", got)
	}
}

// fillQueue writes n queued replies (and n delivered ones, as kept for
// audit) straight into the queue database in dir, as a backlog would.
func fillQueue(tb testing.TB, dir string, n int) {
	tb.Helper()
	q, err := queue.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if err := q.Close(); err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UnixMilli()
	_, err = db.Exec(fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
		INSERT INTO messages (id, rcpt, domain, created, next_attempt, state)
		SELECT i, 'r' || i || '@example.org', 'example.org', %d - i, %d + (i %% 3) * 60000,
			CASE WHEN i %% 2 = 0 THEN 'queued' ELSE 'sent' END FROM seq`, 2*n, now, now))
	if err != nil {
		tb.Fatal(err)
	}
}

// What a count costs with a backlog: it reads the index over the queued
// replies only.
func BenchmarkQueue_Depth(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			fillQueue(b, dir, n)
			q, err := queue.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			now := time.Now()
			if d, err := q.Depth(context.Background(), now); err != nil || d.Due+d.Deferred != n {
				b.Fatalf("Depth = %+v, %v; want %d queued", d, err, n)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := q.Depth(context.Background(), now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
