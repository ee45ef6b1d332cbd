package queue_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// gauge returns the value of the gauge or counter name on reg: the sum of
// its series when it has labels (each known one exists from the start).
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
			return sum
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
	d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, Concurrency: 4, MaxAge: 48 * time.Hour,
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

// A restart on a disk that is nearly full must not send again, once per
// restart, a reply whose delivery could not be recorded: the start-up
// write can succeed while the larger write of the delivery fails, run
// after run. Here the disk fills while the relay takes each reply, so no
// delivery is ever recorded, and has room again for each start. The reply
// goes out at most twice in all (the delivery, and the one more a restart
// may send when it cannot know whether the last run's went out), however
// many restarts follow; then it is given up.
func TestDelivery_RestartsOnAFillingDiskSendAReplyAtMostOnceMore(t *testing.T) {
	dir := smtptest.SmallFS(t, 1<<20)
	q := openQueue(t, dir)
	record(t, q, reply("alice@example.org", 1))
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	// Each RCPT waits until the test has filled the disk.
	arrived := make(chan chan struct{}, 1)
	sink := smtptest.NewSink(t, smtptest.Options{Reject: func(rcpt string) error {
		release := make(chan struct{})
		select {
		case arrived <- release:
			<-release
		default:
		}
		return nil
	}})
	const runs = 5
	for run := 1; run <= runs; run++ {
		q := openQueue(t, dir)
		d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, Concurrency: 4, MaxAge: 48 * time.Hour,
			MinBackoff: time.Hour, MaxBackoff: time.Hour, Timeout: 5 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Serve(ctx) }()
		filler := ""
		deadline := time.Now().Add(10 * time.Second)
	wait:
		for {
			select {
			case release := <-arrived:
				filler = smtptest.FillFS(t, dir)
				close(release)
				for d.Ready() == nil && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if d.Ready() == nil {
					t.Fatalf("run %d: Ready() = nil after the delivery failed to be recorded, want the reason delivery is paused", run)
				}
				break wait
			case <-time.After(10 * time.Millisecond):
				if queued, _, _ := counts(t, q); queued == 0 {
					break wait // given up: nothing to send
				}
				if time.Now().After(deadline) {
					t.Fatalf("run %d: the reply is still queued and was not sent within 10 s", run)
				}
			}
		}
		cancel()
		if err := <-done; err != nil {
			// Closing the queue on a full disk may fail to fold its
			// write-ahead log into the database; what was committed stays.
			t.Logf("run %d: Delivery.Serve: %v", run, err)
		}
		if filler != "" {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(sink.Messages()); n != 2 {
		t.Errorf("over %d runs, each ending on a full disk with the delivery unrecorded, the relay got %d copies of the reply, want 2 (once, and once more)", runs, n)
	}
	q = openQueue(t, dir)
	defer q.Close()
	if queued, sent, failed := counts(t, q); queued != 0 || sent != 0 || failed != 1 {
		t.Errorf("queue after %d runs: queued %d sent %d failed %d, want the reply given up (0 0 1)", runs, queued, sent, failed)
	}
}

// A reply goes out only after the queue has committed that it is being
// sent: when that write fails, the reply is not sent, delivery pauses,
// and the reply is sent, once, when the queue can write again. A small
// write that fails while others succeed cannot be had from a full disk on
// demand; a trigger in the queue's database refuses the mark instead.
func TestDelivery_ReplyIsNotSentWhenItsSendingMarkCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir)
	record(t, q, reply("alice@example.org", 1))
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse_mark BEFORE UPDATE OF sending_since ON messages
		WHEN NEW.sending_since IS NOT NULL BEGIN SELECT RAISE(ABORT, 'database or disk is full (test)'); END`); err != nil {
		t.Fatal(err)
	}
	sink := smtptest.NewSink(t, smtptest.Options{})
	reg := prometheus.NewRegistry()
	d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, Concurrency: 4, MaxAge: 48 * time.Hour,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second, Metrics: queue.NewMetrics(reg)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Delivery.Serve: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for gauge(t, reg, "quotesd_smtp_queue_store_failures_total") < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := gauge(t, reg, "quotesd_smtp_queue_store_failures_total"); got < 3 {
		t.Fatalf("quotesd_smtp_queue_store_failures_total = %v, want 3 or more failed marks", got)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("the relay got %d messages while the sending mark could not be written, want none", n)
	}
	if _, err := db.Exec(`DROP TRIGGER refuse_mark`); err != nil {
		t.Fatal(err)
	}
	sink.Wait(t, 1, 10*time.Second)
	waitCounts(t, q, 0, 1, 0)
	time.Sleep(200 * time.Millisecond) // room for a copy to show up
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("once the mark could be written the relay got %d messages, want 1", n)
	}
}

// A batch that stops at shutdown clears the sending marks of the replies
// it did not send, so that the next run does not count them as replies
// that may have gone out (which would spend their one extra attempt).
func TestDelivery_ShutdownMidBatchLeavesNoMarkOnRepliesNotSent(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir)
	for i, rcpt := range []string{"alice@example.org", "bob@example.org", "carol@example.org"} {
		record(t, q, reply(rcpt, i+1))
	}
	first, stopped := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sink := smtptest.NewSink(t, smtptest.Options{Reject: func(rcpt string) error {
		once.Do(func() { close(first); <-stopped })
		return nil
	}})
	d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, Concurrency: 4, MaxAge: 48 * time.Hour,
		MinBackoff: time.Hour, MaxBackoff: time.Hour, Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	<-first
	cancel()
	close(stopped)
	if err := <-done; err != nil {
		t.Fatalf("Delivery.Serve: %v", err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var queued, marked int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(sending_since) FROM messages WHERE state = 'queued'`).Scan(&queued, &marked); err != nil {
		t.Fatal(err)
	}
	if queued != 2 || marked != 0 {
		t.Errorf("after a shutdown that stopped the batch after alice: %d queued, %d of them marked as being sent; want 2 and 0", queued, marked)
	}
}

// The marks a stopped run left are settled before anything is sent, also
// when the first try to settle fails and delivery resumes later: a reply
// left being sent is sent once more, one that had its extra attempt
// already is given up, and neither is sent as if nothing had happened.
func TestDelivery_MarksLeftByTheLastRunAreSettledBeforeAnySendEvenAfterAFailedStart(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir)
	record(t, q, reply("alice@example.org", 1))
	record(t, q, reply("bob@example.org", 2))
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		// What a run that stopped while sending both leaves; bob's was
		// already the one extra attempt.
		`UPDATE messages SET sending_since = 1`,
		`UPDATE messages SET lost_outcomes = 1 WHERE rcpt = 'bob@example.org'`,
		// The start's write fails (as on a full disk).
		`CREATE TRIGGER refuse_settle BEFORE UPDATE OF lost_outcomes ON messages
			BEGIN SELECT RAISE(ABORT, 'database or disk is full (test)'); END`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	q = openQueue(t, dir)
	sink := smtptest.NewSink(t, smtptest.Options{})
	reg := prometheus.NewRegistry()
	d := queue.NewDelivery(q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, Concurrency: 4, MaxAge: 48 * time.Hour,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second, Metrics: queue.NewMetrics(reg)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Delivery.Serve: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for gauge(t, reg, "quotesd_smtp_queue_store_failures_total") < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Ready(); err == nil {
		t.Fatal("Ready() = nil while the start's write fails, want the reason delivery is paused")
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("the relay got %d messages before the last run's marks were settled, want none", n)
	}
	if _, err := db.Exec(`DROP TRIGGER refuse_settle`); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, q, 0, 1, 1)
	time.Sleep(200 * time.Millisecond) // room for a copy to show up
	ms := sink.Messages()
	if len(ms) != 1 || len(ms[0].To) != 1 || ms[0].To[0] != "alice@example.org" {
		t.Errorf("the relay got %v, want alice's reply once (bob's had its one extra attempt)", perRcpt(ms))
	}
	var lost int
	if err := db.QueryRow(`SELECT lost_outcomes FROM messages WHERE rcpt = 'alice@example.org'`).Scan(&lost); err != nil || lost != 1 {
		t.Errorf("alice's lost outcomes = %d (%v), want 1: the attempt of the stopped run counted", lost, err)
	}
	if got := gauge(t, reg, "quotesd_smtp_replies_dropped_total"); got != 1 {
		t.Errorf("quotesd_smtp_replies_dropped_total = %v, want 1 (bob's, unrecorded)", got)
	}
}

// perRcpt lists the recipients of ms, for messages about what a sink got.
func perRcpt(ms []smtptest.Message) [][]string {
	out := make([][]string, len(ms))
	for i, m := range ms {
		out[i] = m.To
	}
	return out
}
