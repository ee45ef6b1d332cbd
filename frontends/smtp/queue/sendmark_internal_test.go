package queue

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// reopen closes q, as a run that stops does, and opens its directory again.
func reopen(t *testing.T, q *Queue) *Queue {
	t.Helper()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q, err := Open(filepath.Dir(q.Path()))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// marks returns the sending mark and the lost outcomes of reply id.
func marks(t *testing.T, q *Queue, id int64) (sending bool, lost int) {
	t.Helper()
	if err := q.db.QueryRow(`SELECT sending_since IS NOT NULL, lost_outcomes FROM messages WHERE id = ?`, id).Scan(&sending, &lost); err != nil {
		t.Fatal(err)
	}
	return sending, lost
}

// A run that stops after marking a reply as being sent, and before
// recording the outcome, leaves a mark that the next run counts as one
// lost outcome: the reply may be sent once more. Should that run stop the
// same way, the reply is given up, not sent a third time.
func TestSettle_AReplyLeftBeingSentMaySendOnceMoreThenIsGivenUp(t *testing.T) {
	ctx := context.Background()
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Record(ctx, Entry{IP: "192.0.2.1", Sender: "a@example.org", Rcpt: "a@example.org", Data: []byte("Subject: x\r\n\r\nhi\r\n")}); err != nil {
		t.Fatal(err)
	}
	const id = 1
	// Run 1 marks the reply and stops before recording the outcome.
	if s, err := q.settle(ctx); err != nil || len(s.resend)+len(s.givenUp) != 0 {
		t.Fatalf("settle of a new queue = %+v, %v; want nothing", s, err)
	}
	if _, err := q.markSending(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	if sending, _ := marks(t, q, id); !sending {
		t.Fatal("no sending mark after markSending")
	}
	q = reopen(t, q)

	// Run 2 counts the lost outcome, may send once more, and stops the same way.
	s, err := q.settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.resend) != 1 || s.resend[0].ID != id || len(s.givenUp) != 0 {
		t.Fatalf("settle after one lost outcome = %+v, want reply %d to be sent once more", s, id)
	}
	if sending, lost := marks(t, q, id); sending || lost != 1 {
		t.Errorf("after settling: sending mark %v, lost outcomes %d; want none and 1", sending, lost)
	}
	if ms, err := q.due(ctx, q.now(), 10, nil); err != nil || len(ms) != 1 {
		t.Errorf("due after settling one lost outcome = %v, %v; want the reply", ms, err)
	}
	if _, err := q.markSending(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	q = reopen(t, q)

	// Run 3 gives the reply up.
	defer q.Close()
	if s, err = q.settle(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.givenUp) != 1 || s.givenUp[0].ID != id || len(s.resend) != 0 {
		t.Fatalf("settle after a second lost outcome = %+v, want reply %d given up", s, id)
	}
	if queued, sent, failed, err := q.Counts(ctx); err != nil || queued != 0 || sent != 0 || failed != 1 {
		t.Errorf("after giving up: queued %d sent %d failed %d (%v), want 0 0 1", queued, sent, failed, err)
	}
	var bodies int
	if err := q.db.QueryRow(`SELECT COUNT(*) FROM bodies`).Scan(&bodies); err != nil || bodies != 0 {
		t.Errorf("bodies left after giving up: %d (%v), want 0", bodies, err)
	}
	// Settled once, settled for good: nothing left to count.
	if s, err := q.settle(ctx); err != nil || len(s.resend)+len(s.givenUp) != 0 {
		t.Errorf("settling again = %+v, %v; want nothing", s, err)
	}
}

// Every recorded outcome clears the mark in the same statement: only an
// attempt whose outcome was never recorded counts as lost.
func TestSettle_RecordedOutcomesLeaveNothingToCount(t *testing.T) {
	ctx := context.Background()
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"sent@example.org", "failed@example.org", "retry@example.org", "unsent@example.org", "held@example.org"} {
		if _, err := q.Record(ctx, Entry{IP: "192.0.2.1", Sender: rcpt, Rcpt: rcpt, Data: []byte("Subject: x\r\n\r\nhi\r\n")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.markSending(ctx, []int64{1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if err := q.markSent([]int64{1}).wait(); err != nil {
		t.Fatal(err)
	}
	if err := q.markFailed(ctx, 2, "rejected: 550"); err != nil {
		t.Fatal(err)
	}
	if err := q.reschedule(ctx, []int64{3}, q.now().Add(time.Hour), "451 later"); err != nil {
		t.Fatal(err)
	}
	if err := q.unmarkSending(ctx, []int64{4}); err != nil {
		t.Fatal(err)
	}
	// An outcome held in memory while the disk was full, recorded later.
	if err := q.writeResults(ctx, []result{{id: 5, state: "queued", at: q.now(), next: q.now().Add(time.Hour), reason: "451 later"}}); err != nil {
		t.Fatal(err)
	}
	q = reopen(t, q)
	defer q.Close()
	s, err := q.settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.resend)+len(s.givenUp) != 0 {
		t.Errorf("settle after every outcome was recorded = %+v, want nothing to count", s)
	}
	for id := int64(1); id <= 5; id++ {
		if sending, lost := marks(t, q, id); sending || lost != 0 {
			t.Errorf("reply %d: sending mark %v, lost outcomes %d; want none and 0", id, sending, lost)
		}
	}
}
