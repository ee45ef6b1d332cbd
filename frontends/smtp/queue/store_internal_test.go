package queue

import (
	"context"
	"testing"
)

func TestPrune_DropsSharedTextsNoQueuedReplyUses(t *testing.T) {
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	record := func(rcpt, shared string) {
		t.Helper()
		e := Entry{IP: "192.0.2.1", Sender: rcpt, Rcpt: rcpt, Data: []byte("Subject: x\r\n"), Shared: []byte(shared)}
		if _, err := q.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	record("a@example.org", "\r\nyesterday's body\r\n")
	record("b@example.org", "\r\ntoday's body\r\n")
	ms, err := q.due(ctx, q.now(), 10, nil)
	if err != nil || len(ms) != 2 {
		t.Fatalf("due: %v %v, want 2 messages", ms, err)
	}
	if err := q.markSent([]int64{ms[0].ID}).wait(); err != nil {
		t.Fatal(err)
	}
	if err := q.prune(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var texts []string
	rows, err := q.db.Query(`SELECT data FROM texts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		texts = append(texts, s)
	}
	rows.Close()
	if len(texts) != 1 || texts[0] != "\r\ntoday's body\r\n" {
		t.Errorf("texts after prune = %q, want only today's body (still queued)", texts)
	}
	// The writer forgot the pruned text: recording it again stores it again.
	record("c@example.org", "\r\nyesterday's body\r\n")
	texts2, err := q.bodies(ctx, []Message{{ID: ms[1].ID + 1}})
	if got := texts2[ms[1].ID+1].bytes(); err != nil || string(got) != "Subject: x\r\n\r\nyesterday's body\r\n" {
		t.Errorf("reply recorded after prune = %q (%v), want its head and the re-stored text", got, err)
	}
}
