package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/subscribers"
)

func TestSubscribers_DoubleOptInConfirmUnsubscribeAreIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		ctx := context.Background()
		q := openQueue(t, where)
		defer q.Close()
		s, err := q.Subscribe(ctx, "Alice@Example.org", "poetry")
		if err != nil {
			t.Fatal(err)
		}
		if s.State != subscribers.Pending || s.Address != "alice@example.org" || s.Tag != "poetry" || !subscribers.ValidToken(s.Token) {
			t.Fatalf("after subscribe: %+v, want a pending alice@example.org for poetry with a token", s)
		}
		again, err := q.Subscribe(ctx, "alice@example.org", "")
		if err != nil || again.Token != s.Token || again.State != subscribers.Pending || again.Tag != "" {
			t.Fatalf("subscribing again: %+v %v, want the same token, pending, the new tag", again, err)
		}
		for i := 0; i < 2; i++ {
			c, err := q.Confirm(ctx, s.Token)
			if err != nil || c.State != subscribers.Confirmed {
				t.Fatalf("confirm %d: %+v %v, want confirmed", i+1, c, err)
			}
		}
		if forged, err := q.Subscribe(ctx, "alice@example.org", "jokes"); err != nil || forged.Tag != "" || forged.State != subscribers.Confirmed {
			t.Errorf("a subscribe (anyone can forge one) for a confirmed address: %+v %v, want it unchanged", forged, err)
		}
		list, err := q.Subscribers(ctx, subscribers.Confirmed, 0, 0)
		if err != nil || len(list) != 1 || list[0].Address != "alice@example.org" {
			t.Fatalf("confirmed subscribers: %+v %v, want alice", list, err)
		}
		for i := 0; i < 2; i++ {
			u, err := q.Unsubscribe(ctx, s.Token)
			if err != nil || u.State != subscribers.Unsubscribed {
				t.Fatalf("unsubscribe %d: %+v %v, want unsubscribed", i+1, u, err)
			}
		}
		if c, err := q.Confirm(ctx, s.Token); err != nil || c.State != subscribers.Unsubscribed {
			t.Errorf("an old confirmation link after unsubscribing: %+v %v, want it to stay unsubscribed", c, err)
		}
		if _, err := q.Confirm(ctx, "00000000000000000000000000000000"); quoter.ErrorCode(err) != quoter.ENOTFOUND {
			t.Errorf("unknown token: %v, want ENOTFOUND", err)
		}
		re, err := q.Subscribe(ctx, "alice@example.org", "")
		if err != nil || re.State != subscribers.Pending || re.Token == s.Token {
			t.Errorf("subscribing after unsubscribing: %+v %v, want pending with a new token", re, err)
		}
	})
}

func TestSubscribers_ThreeBouncesUnsubscribe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		ctx := context.Background()
		q := openQueue(t, where)
		defer q.Close()
		s, err := q.AddSubscriber(ctx, "bob@example.org", "")
		if err != nil || s.State != subscribers.Confirmed {
			t.Fatalf("add: %+v %v", s, err)
		}
		for i := 1; i <= 3; i++ {
			b, err := q.Bounce(ctx, s.Token, 3)
			if err != nil || b.Bounces != i {
				t.Fatalf("bounce %d: %+v %v", i, b, err)
			}
			if want := i == 3; (b.State == subscribers.Unsubscribed) != want {
				t.Errorf("after %d bounces: state %s", i, b.State)
			}
		}
	})
}

func TestSubscribers_BouncesMoreThanAWeekApartDoNotAddUp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		ctx := context.Background()
		now := time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)
		q := openQueue(t, where, queue.WithClock(func() time.Time { return now }))
		defer q.Close()
		s, err := q.AddSubscriber(ctx, "carol@example.org", "")
		if err != nil {
			t.Fatal(err)
		}
		bounce := func(after time.Duration, want int, state subscribers.State) {
			t.Helper()
			now = now.Add(after)
			b, err := q.Bounce(ctx, s.Token, 3)
			if err != nil || b.Bounces != want || b.State != state {
				t.Fatalf("a bounce %v after the one before: %d bounces, %s (%v); want %d, %s", after, b.Bounces, b.State, err, want, state)
			}
		}
		// A mailbox that fails once a season: never unsubscribed.
		bounce(0, 1, subscribers.Confirmed)
		bounce(8*24*time.Hour, 1, subscribers.Confirmed)
		bounce(90*24*time.Hour, 1, subscribers.Confirmed)
		// Within a week of each other they add up: two failing weeks, then
		// three daily mails in a row.
		bounce(7*24*time.Hour, 2, subscribers.Confirmed)
		bounce(30*24*time.Hour, 1, subscribers.Confirmed)
		bounce(24*time.Hour, 2, subscribers.Confirmed)
		bounce(24*time.Hour, 3, subscribers.Unsubscribed)
	})
}

func TestRecordOnce_QueuesEachKeyOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		ctx := context.Background()
		q := openQueue(t, where)
		os := []queue.Once{
			{Key: "daily:1:2026-12-07", Day: "2026-12-07", Entry: queue.Entry{Rcpt: "a@example.org", From: "quote+bounce-x@localhost", Data: []byte("Subject: a\r\n\r\na\r\n")}},
			{Key: "daily:2:2026-12-07", Day: "2026-12-07", Entry: queue.Entry{Rcpt: "b@example.org", From: "quote+bounce-y@localhost", Data: []byte("Subject: b\r\n\r\nb\r\n")}},
		}
		got, err := q.RecordOnce(ctx, os)
		if err != nil || !got[0] || !got[1] {
			t.Fatalf("first run: %v %v, want both queued", got, err)
		}
		q.Close()
		q = openQueue(t, where) // a restart
		defer q.Close()
		got, err = q.RecordOnce(ctx, os)
		if err != nil || got[0] || got[1] {
			t.Fatalf("second run: %v %v, want neither queued again", got, err)
		}
		if queued, _, _ := counts(t, q); queued != 2 {
			t.Errorf("%d queued, want 2", queued)
		}
		if err := q.PruneOnce(ctx, "2026-12-08"); err != nil {
			t.Fatal(err)
		}
		if got, _ := q.RecordOnce(ctx, os[:1]); !got[0] {
			t.Errorf("after pruning the day, its key is free again: got %v", got)
		}
	})
}
