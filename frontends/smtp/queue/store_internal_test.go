package queue

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// onEachBackend runs test on a new queue of each backend, as a subtest
// named after it.
func onEachBackend(t *testing.T, test func(t *testing.T, q *Queue)) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) (*Queue, error)
	}{
		{"SQLite", func(t *testing.T) (*Queue, error) { return Open(t.TempDir()) }},
		{"PostgreSQL", func(t *testing.T) (*Queue, error) {
			return OpenPostgres(context.Background(), pgtest.NewDatabase(t))
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			q, err := b.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			test(t, q)
		})
	}
}

func TestPrune_DropsSharedTextsNoQueuedReplyUses(t *testing.T) {
	onEachBackend(t, testPruneDropsSharedTexts)
}

func testPruneDropsSharedTexts(t *testing.T, q *Queue) {
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

func TestDueAfter_ListsTheNextDueInArrivalOrder(t *testing.T) {
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	for _, rcpt := range []string{"a@one.example", "b@two.example", "c@one.example", "d@one.example", "e@one.example", "f@one.example"} {
		if _, err := q.Record(ctx, Entry{IP: "192.0.2.1", Sender: rcpt, Rcpt: rcpt, Data: []byte("Subject: x\r\n\r\nhi\r\n")}); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := q.due(ctx, q.now(), 10, nil)
	if err != nil || len(ms) != 6 {
		t.Fatalf("due: %v %v, want 6 messages", ms, err)
	}
	// c is sent, d waits for a retry: neither is due.
	if err := q.markSent([]int64{ms[2].ID}).wait(); err != nil {
		t.Fatal(err)
	}
	if err := q.reschedule(ctx, []int64{ms[3].ID}, q.now().Add(time.Hour), "451 later"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		domain string
		limit  int
		want   []string
	}{
		{"AllDomains", "", 10, []string{"b@two.example", "e@one.example", "f@one.example"}},
		{"OneDomain", "one.example", 10, []string{"e@one.example", "f@one.example"}},
		{"Limit", "", 2, []string{"b@two.example", "e@one.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := q.dueAfter(ctx, q.now(), tc.limit, tc.domain, ms[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var rcpts []string
			for _, m := range got {
				rcpts = append(rcpts, m.Rcpt)
			}
			if !slices.Equal(rcpts, tc.want) {
				t.Errorf("dueAfter(%q, after a) = %q, want %q", tc.domain, rcpts, tc.want)
			}
		})
	}
}

// The cost of dueAfter must not grow with the backlog: it walks the table
// from the last message sent rather than sorting every queued one.
func TestDueAfter_WalksFromTheLastSentNotTheWholeQueue(t *testing.T) {
	q, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, byDomain := range []bool{false, true} {
		args := []any{1, 2, 3}
		if byDomain {
			args = append(args, "one.example")
		}
		rows, err := q.db.Query(`EXPLAIN QUERY PLAN `+dueAfterQuery(byDomain), args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.Contains(plan[0], "INTEGER PRIMARY KEY") {
			t.Errorf("query plan (by domain: %v) %q, want one search of the primary key (no index scan, no sort)", byDomain, plan)
		}
	}
}
