package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// die stops q as a replica that is killed does: its leases are neither
// renewed nor given back, its marks stay, its connections go.
func die(t *testing.T, q *Queue) {
	t.Helper()
	b := q.b.(*pgBackend)
	b.stop()
	b.wg.Wait()
	if err := q.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A replica that dies holding claimed replies, some of them marked as being
// sent, leaves them to another once its leases end: each is delivered, the
// marked ones counted as one lost outcome (they may have gone out once
// already: that is the one extra copy the sending marks allow), none twice
// by the survivor.
func TestPostgres_ADeadReplicasClaimedRepliesAreTakenOverAfterItsLease(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	const lease = time.Second
	a, err := OpenPostgres(ctx, url, WithLease(lease))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := 1; i <= n; i++ {
		rcpt := fmt.Sprintf("r%d@example.org", i)
		if _, err := a.Record(ctx, Entry{IP: "192.0.2.1", Sender: rcpt, Rcpt: rcpt,
			Data: fmt.Appendf(nil, "Subject: %d\r\nX-Seq: %d\r\n\r\nhi\r\n", i, i)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := a.b.claim(ctx, a.now(), n, nil, 0, "")
	if err != nil || len(claimed) != n {
		t.Fatalf("replica A claimed %d replies (%v), want %d", len(claimed), err, n)
	}
	marked, err := a.markSending(ctx, ids(claimed[:3]))
	if err != nil || len(marked) != 3 {
		t.Fatalf("replica A marked %v (%v), want the first 3", marked, err)
	}
	claimedAt := time.Now()
	die(t, a)

	b, err := OpenPostgres(ctx, url, WithLease(lease))
	if err != nil {
		t.Fatal(err)
	}
	sink := smtptest.NewSink(t, smtptest.Options{})
	d := NewDelivery(b, Config{Relay: &Relay{Addr: sink.Addr, TLS: TLSNone}, Concurrency: 2, MaxAge: time.Hour,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Serve(sctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Delivery.Serve: %v", err)
		}
	}()
	ms := sink.Wait(t, n, 10*time.Second)
	if took := time.Since(claimedAt); took < lease {
		t.Errorf("replica B sent A's replies %v after A claimed them, before A's lease of %v ended", took, lease)
	}
	time.Sleep(300 * time.Millisecond) // room for duplicates to show up
	seen := map[string]int{}
	for _, m := range sink.Messages() {
		seen[m.To[0]]++
	}
	for i := 1; i <= n; i++ {
		if c := seen[fmt.Sprintf("r%d@example.org", i)]; c != 1 {
			t.Errorf("reply %d delivered %d times by replica B, want once", i, c)
		}
	}
	if len(ms) != n {
		t.Errorf("delivered %d, want %d", len(ms), n)
	}
	var lost, leased int
	if err := b.db.QueryRow(`SELECT COALESCE(SUM(lost_outcomes), 0), COUNT(lease_owner) FROM messages`).Scan(&lost, &leased); err != nil {
		t.Fatal(err)
	}
	if lost != 3 || leased != 0 {
		t.Errorf("after the takeover: %d lost outcomes, %d leases; want 3 (A's marked replies) and 0", lost, leased)
	}
}

// A reply whose mark a dead replica left, after an earlier lost outcome,
// is given up rather than sent a third time: the bound of sendmark.go
// holds across replicas as across restarts.
func TestPostgres_AMarkLeftTwiceGivesTheReplyUp(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	for run := 1; run <= 2; run++ {
		q, err := OpenPostgres(ctx, url, WithLease(time.Millisecond*300))
		if err != nil {
			t.Fatal(err)
		}
		if run == 1 {
			if _, err := q.Record(ctx, Entry{IP: "192.0.2.1", Sender: "a@example.org", Rcpt: "a@example.org", Data: []byte("Subject: x\r\n\r\nhi\r\n")}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(400 * time.Millisecond) // the last run's lease ends
		s, err := q.settle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if run == 2 && (len(s.givenUp) != 0 || len(s.resend) != 1) {
			t.Fatalf("run 2 settled %+v, want the reply to send once more", s)
		}
		ms, err := q.b.claim(ctx, q.now(), 10, nil, 0, "")
		if err != nil || len(ms) != 1 {
			t.Fatalf("run %d claimed %v (%v), want the reply", run, ms, err)
		}
		if _, err := q.markSending(ctx, ids(ms)); err != nil {
			t.Fatal(err)
		}
		die(t, q)
	}
	q, err := OpenPostgres(ctx, url, WithLease(time.Millisecond*300))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	time.Sleep(400 * time.Millisecond)
	s, err := q.settle(ctx)
	if err != nil || len(s.givenUp) != 1 {
		t.Fatalf("run 3 settled %+v (%v), want the reply given up", s, err)
	}
	var state, lastErr string
	if err := q.db.QueryRow(`SELECT state, last_error FROM messages`).Scan(&state, &lastErr); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || !strings.HasPrefix(lastErr, "unrecorded") {
		t.Errorf("reply: state %s, last error %q; want failed, unrecorded", state, lastErr)
	}
}

// A live replica that could not give back replies it claimed (the
// database went away just then) stops renewing their leases: they end on
// time, and the replies are sent, by this replica or another, rather than
// held in its name for as long as it lives.
func TestPostgres_ClaimedRepliesAReplicaFailedToGiveBackAreSentOnceTheirLeaseEnds(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	const lease = time.Second
	a, err := OpenPostgres(ctx, url, WithLease(lease))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	const n = 3
	for i := 1; i <= n; i++ {
		rcpt := fmt.Sprintf("r%d@example.org", i)
		if _, err := a.Record(ctx, Entry{IP: "192.0.2.1", Sender: rcpt, Rcpt: rcpt,
			Data: fmt.Appendf(nil, "Subject: %d\r\n\r\nhi\r\n", i)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := a.b.claim(ctx, a.now(), n, nil, 0, "")
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d replies (%v), want %d", len(claimed), err, n)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel() // the giving back cannot reach the database
	if err := a.b.release(gone, ids(claimed)); err == nil {
		t.Fatal("release with a cancelled context succeeded; the test shows nothing")
	}

	sink := smtptest.NewSink(t, smtptest.Options{})
	d := NewDelivery(a, Config{Relay: &Relay{Addr: sink.Addr, TLS: TLSNone}, Concurrency: 2, MaxAge: time.Hour,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second})
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Serve(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Delivery.Serve: %v", err)
		}
	}()
	if ms := sink.Wait(t, n, 10*lease); len(ms) != n {
		t.Errorf("sent %d of the %d replies whose giving back failed, want all once their leases end", len(ms), n)
	}
}
