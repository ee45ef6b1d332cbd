package queue_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"github.com/quotesd/quotesd/logs/logstest"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// clock is an adjustable time source for tests of limits and ages.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) {
	c.ns.Add(int64(d))
}

func reply(rcpt string, n int) queue.Entry {
	return queue.Entry{IP: "192.0.2.1", Sender: rcpt, Rcpt: rcpt,
		Data: fmt.Appendf(nil, "Subject: reply %d\r\nX-Seq: %d\r\n\r\nbody %d\r\n", n, n, n)}
}

func record(t *testing.T, q *queue.Queue, e queue.Entry) string {
	t.Helper()
	skip, err := q.Record(context.Background(), e)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return skip
}

func counts(t *testing.T, q *queue.Queue) (queued, sent, failed int) {
	t.Helper()
	queued, sent, failed, err := q.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return queued, sent, failed
}

func TestQueue_RecordSurvivesReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		dir := where
		q := openQueue(t, dir)
		if skip := record(t, q, reply("a@example.org", 1)); skip != "" {
			t.Fatalf("Record skipped: %q", skip)
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		q = openQueue(t, dir)
		defer q.Close()
		if queued, _, _ := counts(t, q); queued != 1 {
			t.Errorf("queued after reopen = %d, want 1", queued)
		}
	})
}

func TestQueue_RecordAfterCloseFails(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where)
		q.Close()
		if _, err := q.Record(context.Background(), reply("a@example.org", 1)); err != queue.ErrClosed {
			t.Errorf("Record after Close: err = %v, want ErrClosed", err)
		}
	})
}

// The SMTP server holds the queue while it serves: Close (at the end of
// delivery's context) waits for it, and meanwhile records are taken, for
// the sessions the server lets finish.
func TestQueue_CloseWaitsForHoldersAndTakesRecordsMeanwhile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		dir := where
		q := openQueue(t, dir)
		release, err := q.Hold()
		if err != nil {
			t.Fatalf("Hold: %v", err)
		}
		closed := make(chan error, 1)
		go func() { closed <- q.Close() }()
		if skip := record(t, q, reply("late@example.org", 1)); skip != "" {
			t.Errorf("Record while held and closing: skipped (%s), want queued", skip)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) while the queue was held", err)
		default:
		}
		release()
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := q.Record(context.Background(), reply("later@example.org", 2)); err != queue.ErrClosed {
			t.Errorf("Record after Close: err = %v, want ErrClosed", err)
		}
		if _, err := q.Hold(); err != queue.ErrClosed {
			t.Errorf("Hold after Close: err = %v, want ErrClosed", err)
		}
		q = openQueue(t, dir)
		if queued, _, _ := counts(t, q); queued != 1 {
			t.Errorf("after reopening: %d queued, want 1 (the record taken while held)", queued)
		}
	})
}

func TestQueue_ReplyLimitPerRecipientPerDay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		dir := where
		clk := newClock(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC))
		opts := []queue.Option{queue.WithClock(clk.Now), queue.WithLimits(queue.Limits{PerRecipient: 2})}
		q := openQueue(t, dir, opts...)
		for i := 1; i <= 2; i++ {
			if skip := record(t, q, reply("A@example.org", i)); skip != "" {
				t.Fatalf("reply %d skipped: %q", i, skip)
			}
		}
		// The count is per address, whatever its case, and survives a restart.
		q.Close()
		q = openQueue(t, dir, opts...)
		defer q.Close()
		if skip := record(t, q, reply("a@EXAMPLE.org", 3)); skip != queue.SkipRecipientLimit {
			t.Errorf("third reply of the day: skip = %q, want %q", skip, queue.SkipRecipientLimit)
		}
		if skip := record(t, q, reply("b@example.org", 4)); skip != "" {
			t.Errorf("another recipient: skip = %q, want none", skip)
		}
		clk.Add(2 * time.Hour) // the next UTC day
		if skip := record(t, q, reply("a@example.org", 5)); skip != "" {
			t.Errorf("next day: skip = %q, want none", skip)
		}
		if queued, _, _ := counts(t, q); queued != 4 {
			t.Errorf("queued = %d, want 4", queued)
		}
	})
}

func TestQueue_ReplyLimitPerRecipientCountsSubaddressesAsTheirMailbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		// victim+1@, victim+2@... all land in victim@'s mailbox: a forged
		// sender varying the subaddress must not get past the daily cap.
		q := openQueue(t, where, queue.WithLimits(queue.Limits{PerRecipient: 2}))
		defer q.Close()
		for i, rcpt := range []string{"victim@example.org", "Victim+1@example.org"} {
			if skip := record(t, q, reply(rcpt, i+1)); skip != "" {
				t.Fatalf("reply %d to %s skipped: %q", i+1, rcpt, skip)
			}
		}
		for i, rcpt := range []string{"victim+2@example.org", "VICTIM+x+y@example.org", "victim@example.org"} {
			if skip := record(t, q, reply(rcpt, i+3)); skip != queue.SkipRecipientLimit {
				t.Errorf("reply to %s after 2 to its mailbox: skip = %q, want %q", rcpt, skip, queue.SkipRecipientLimit)
			}
		}
		if skip := record(t, q, reply("victim2@example.org", 6)); skip != "" {
			t.Errorf("another mailbox: skip = %q, want none", skip)
		}
	})
}

func TestQueue_ReplyLimitPerIPPerDay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where, queue.WithLimits(queue.Limits{PerIP: 3}))
		defer q.Close()
		for i := 1; i <= 3; i++ {
			if skip := record(t, q, reply(fmt.Sprintf("r%d@example.org", i), i)); skip != "" {
				t.Fatalf("reply %d skipped: %q", i, skip)
			}
		}
		if skip := record(t, q, reply("r4@example.org", 4)); skip != queue.SkipIPLimit {
			t.Errorf("fourth reply from one IP: skip = %q, want %q", skip, queue.SkipIPLimit)
		}
		other := reply("r5@example.org", 5)
		other.IP = "2001:db8::1"
		if skip := record(t, q, other); skip != "" {
			t.Errorf("another IP: skip = %q, want none", skip)
		}
	})
}

// A sender with an IPv6 /64 has 2^64 addresses: each must not bring a
// fresh daily cap.
func TestQueue_ReplyLimitPerIPCountsAnIPv6Slash64AsOneClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where, queue.WithLimits(queue.Limits{PerIP: 2}))
		defer q.Close()
		from := func(ip string, n int) queue.Entry {
			e := reply(fmt.Sprintf("r%d@example.org", n), n)
			e.IP = ip
			return e
		}
		for i := 1; i <= 2; i++ {
			if skip := record(t, q, from("2001:db8:1:2::1", i)); skip != "" {
				t.Fatalf("reply %d from 2001:db8:1:2::1 skipped: %q", i, skip)
			}
		}
		for i, ip := range []string{"2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:dead:beef::1"} {
			if skip := record(t, q, from(ip, 3+i)); skip != queue.SkipIPLimit {
				t.Errorf("reply from %s, in the /64 that had its 2: skip = %q, want %q", ip, skip, queue.SkipIPLimit)
			}
		}
		if skip := record(t, q, from("2001:db8:1:3::1", 9)); skip != "" {
			t.Errorf("reply from another /64: skip = %q, want none", skip)
		}
		// IPv4 clients are counted per address, mapped or not.
		record(t, q, from("192.0.2.1", 10))
		record(t, q, from("::ffff:192.0.2.1", 11))
		if skip := record(t, q, from("192.0.2.1", 12)); skip != queue.SkipIPLimit {
			t.Errorf("third reply from 192.0.2.1 (once as ::ffff:192.0.2.1): skip = %q, want %q", skip, queue.SkipIPLimit)
		}
	})
}

func TestQueue_PolicySkipIsRecordedNotQueued(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where)
		defer q.Close()
		skip := record(t, q, queue.Entry{IP: "192.0.2.1", Sender: "", Skip: "null_sender"})
		if skip != "null_sender" {
			t.Errorf("skip = %q, want null_sender", skip)
		}
		if queued, _, _ := counts(t, q); queued != 0 {
			t.Errorf("queued = %d, want 0", queued)
		}
	})
}

func TestQueue_ConcurrentRecordsAllCommitted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where)
		defer q.Close()
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := q.Record(context.Background(), reply(fmt.Sprintf("r%d@example.org", i), i)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if queued, _, _ := counts(t, q); queued != 200 {
			t.Errorf("queued = %d, want 200", queued)
		}
	})
}

// BenchmarkRecord_Parallel measures durable enqueueing with many sessions
// at once: the group-commit writer shares each fsync among them.
func BenchmarkRecord_Parallel(b *testing.B) {
	q, err := queue.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := q.Record(context.Background(), reply(fmt.Sprintf("r%d@example.org", i), int(i))); err != nil {
				b.Error(err)
			}
		}
	})
}

// NewDelivery takes no zero for a default: a bound of 0 is a mistake of
// the caller (smtp.Config.Validate refuses it, naming the flag).
func TestNewDelivery_PanicsOnABoundOfZero(t *testing.T) {
	q := openQueue(t, t.TempDir())
	t.Cleanup(func() { q.Close() })
	valid := queue.Config{Concurrency: 4, MaxAge: time.Hour, MinBackoff: time.Minute, MaxBackoff: time.Hour, Timeout: time.Minute}
	queue.NewDelivery(q, valid)
	for _, tc := range []struct {
		field  string
		change func(*queue.Config)
	}{
		{"Concurrency", func(c *queue.Config) { c.Concurrency = 0 }},
		{"MaxAge", func(c *queue.Config) { c.MaxAge = 0 }},
		{"MinBackoff", func(c *queue.Config) { c.MinBackoff = 0 }},
		{"Timeout", func(c *queue.Config) { c.Timeout = -time.Second }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.field) {
					t.Errorf("NewDelivery recovered %v, want a panic naming %s", r, tc.field)
				}
			}()
			queue.NewDelivery(q, cfg)
		})
	}
}

// delivery runs a Delivery for q until the test ends. The bounds a test
// leaves at 0 get values for tests: short waits between attempts.
func delivery(t *testing.T, q *queue.Queue, cfg queue.Config) {
	t.Helper()
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 48 * time.Hour
	}
	d := queue.NewDelivery(q, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Delivery.Serve: %v", err)
		}
	})
}

// wantArrivalOrder checks that ms are the n replies numbered 1 to n (their
// X-Seq), each once, in the order they were queued.
func wantArrivalOrder(t *testing.T, ms []smtptest.Message, n int) {
	t.Helper()
	if len(ms) != n {
		t.Fatalf("delivered %d messages, want %d", len(ms), n)
	}
	for i, m := range ms {
		if got, want := seq(m), fmt.Sprint(i+1); got != want {
			t.Errorf("message %d has X-Seq %s, want %s (arrival order, no duplicates)", i, got, want)
		}
	}
}

func seq(m smtptest.Message) string {
	for _, line := range splitLines(string(m.Data)) {
		if len(line) > 7 && line[:7] == "X-Seq: " {
			return line[7:]
		}
	}
	return ""
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		line := s[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		out = append(out, line)
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func TestDelivery_RelayDeliversWithNullSender(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		sink := smtptest.NewSink(t, smtptest.Options{})
		q := openQueue(t, where)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
		record(t, q, reply("alice@example.org", 1))
		m := sink.Wait(t, 1, 10*time.Second)[0]
		if m.From != "" || len(m.To) != 1 || m.To[0] != "alice@example.org" {
			t.Errorf("envelope = from %q to %v, want from <> to [alice@example.org]", m.From, m.To)
		}
	})
}

func TestDelivery_RelayDownThenUp_AllDeliveredInArrivalOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		addr := smtptest.FreeAddr(t)
		q := openQueue(t, where)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: addr, TLS: queue.TLSNone}})
		const n = 20
		for i := 1; i <= n; i++ {
			record(t, q, reply(fmt.Sprintf("r%d@example.org", i), i))
			time.Sleep(5 * time.Millisecond) // arrivals spread over retries
		}
		time.Sleep(150 * time.Millisecond) // a few failed attempts
		if queued, sent, _ := counts(t, q); queued != n || sent != 0 {
			t.Fatalf("while the relay is down: queued %d sent %d, want %d and 0", queued, sent, n)
		}
		sink := smtptest.NewSink(t, smtptest.Options{Addr: addr})
		sink.Wait(t, n, 10*time.Second)
		time.Sleep(200 * time.Millisecond) // room for duplicates to show up
		wantArrivalOrder(t, sink.Messages(), n)
		if queued, sent, _ := counts(t, q); queued != 0 || sent != n {
			t.Errorf("after delivery: queued %d sent %d, want 0 and %d", queued, sent, n)
		}
	})
}

func TestDelivery_QueuedRepliesDeliveredOnceAfterRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		dir := where
		addr := smtptest.FreeAddr(t)
		q := openQueue(t, dir)
		for i := 1; i <= 5; i++ {
			record(t, q, reply(fmt.Sprintf("r%d@example.org", i), i))
		}
		q.Close() // as if the process died with replies queued

		sink := smtptest.NewSink(t, smtptest.Options{Addr: addr})
		q = openQueue(t, dir)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: addr, TLS: queue.TLSNone}})
		sink.Wait(t, 5, 10*time.Second)
		time.Sleep(200 * time.Millisecond)
		if got := len(sink.Messages()); got != 5 {
			t.Errorf("delivered %d, want 5", got)
		}
	})
}

func TestQueue_RepliesQueuedAfterReopenComeAfterThoseBefore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		dir := where
		q := openQueue(t, dir)
		for i := 1; i <= 3; i++ {
			record(t, q, reply(fmt.Sprintf("r%d@example.org", i), i))
		}
		q.Close()
		q = openQueue(t, dir)
		for i := 4; i <= 5; i++ {
			record(t, q, reply(fmt.Sprintf("r%d@example.org", i), i))
		}
		sink := smtptest.NewSink(t, smtptest.Options{})
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
		wantArrivalOrder(t, sink.Wait(t, 5, 10*time.Second), 5)
	})
}

// More replies than one connection carries: their sent markers go to the
// database in groups, spanning several connections; each reply is still
// delivered once, in arrival order, and recorded as sent.
func TestDelivery_ManyRepliesDeliveredOnceInOrderAndMarkedSent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		dir := where
		q := openQueue(t, dir)
		const n = 250
		for i := 1; i <= n; i++ {
			record(t, q, reply(fmt.Sprintf("r%d@example.org", i), i))
		}
		sink := smtptest.NewSink(t, smtptest.Options{})
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
		sink.Wait(t, n, 20*time.Second)
		deadline := time.Now().Add(10 * time.Second)
		for {
			queued, sent, failed := counts(t, q)
			if sent == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("queued %d sent %d failed %d, want 0 %d 0", queued, sent, failed, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		wantArrivalOrder(t, sink.Messages(), n)
	})
}

func TestDelivery_SharedTextIsStoredOnceAndDeliveredAfterEachHead(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir)
	shared := []byte("Content-Type: text/plain\r\n\r\nthe same body for all\r\n")
	for i := 1; i <= 3; i++ {
		e := queue.Entry{IP: "192.0.2.1", Sender: "a@example.org", Rcpt: fmt.Sprintf("r%d@example.org", i),
			Data: fmt.Appendf(nil, "Subject: reply %d\r\nX-Seq: %d\r\n", i, i), Shared: shared}
		record(t, q, e)
	}
	q.Close()
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var texts int
	if err := db.QueryRow(`SELECT COUNT(*) FROM texts`).Scan(&texts); err != nil || texts != 1 {
		t.Errorf("texts stored: %d (%v), want 1", texts, err)
	}
	db.Close()

	q = openQueue(t, dir)
	sink := smtptest.NewSink(t, smtptest.Options{})
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	ms := sink.Wait(t, 3, 10*time.Second)
	for i, m := range ms {
		want := fmt.Sprintf("Subject: reply %d\r\nX-Seq: %d\r\n%s", i+1, i+1, shared)
		if string(m.Data) != want {
			t.Errorf("message %d = %q, want %q", i, m.Data, want)
		}
	}
}

// A queue written by the first schema (one text per reply) is upgraded in
// place, and what it held is delivered as it was.
// schemaV1 is the queue's schema version 1, as released.
var schemaV1 = []string{
	`CREATE TABLE messages (id INTEGER PRIMARY KEY, rcpt TEXT NOT NULL, domain TEXT NOT NULL,
			created INTEGER NOT NULL, next_attempt INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
			done_at INTEGER, last_error TEXT NOT NULL DEFAULT '')`,
	`CREATE INDEX messages_due ON messages (state, next_attempt, id)`,
	`CREATE TABLE bodies (id INTEGER PRIMARY KEY REFERENCES messages (id), data BLOB NOT NULL)`,
	`CREATE TABLE reply_counts (key TEXT NOT NULL, day TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, day)) WITHOUT ROWID`,
	`CREATE TABLE skipped (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, ip TEXT NOT NULL, sender TEXT NOT NULL, reason TEXT NOT NULL)`,
}

// schemaV2 is the queue's schema version 2, as released.
var schemaV2 = slices.Concat(schemaV1, []string{
	`CREATE TABLE texts (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL)`,
	`ALTER TABLE bodies ADD COLUMN text_id INTEGER REFERENCES texts (id)`,
})

// writeOldQueue makes the queue database in dir as an older quotesd left
// it, by running stmts.
func writeOldQueue(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func TestQueue_UpgradesVersion1AndDeliversItsReplies(t *testing.T) {
	dir := t.TempDir()
	// Schema version 1, as released, holding one queued reply.
	writeOldQueue(t, dir, slices.Concat(schemaV1, []string{
		`PRAGMA user_version = 1`,
		`INSERT INTO messages (id, rcpt, domain, created, next_attempt) VALUES (1, 'old@example.org', 'example.org', 0, 0)`,
		`INSERT INTO bodies (id, data) VALUES (1, CAST('Subject: old' || char(13, 10) || 'X-Seq: 1' || char(13, 10, 13, 10) || 'old body' || char(13, 10) AS BLOB))`,
	})...)

	q := openQueue(t, dir, queue.WithClock(newClock(time.UnixMilli(1000)).Now))
	sink := smtptest.NewSink(t, smtptest.Options{})
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	m := sink.Wait(t, 1, 10*time.Second)[0]
	if want := "Subject: old\r\nX-Seq: 1\r\n\r\nold body\r\n"; string(m.Data) != want {
		t.Errorf("delivered %q, want %q", m.Data, want)
	}
}

// The counts per IP address of a queue made before counts were per client
// are added up per client on upgrade: the addresses of a /64 that spent
// their caps today do not bring the /64 a fresh one.
func TestQueue_UpgradeAddsUpTodaysCountsOfOneIPv6Slash64(t *testing.T) {
	dir := t.TempDir()
	writeOldQueue(t, dir, slices.Concat(schemaV2, []string{
		`PRAGMA user_version = 2`,
		`INSERT INTO reply_counts (key, day, n) VALUES
			('ip:2001:db8:1:2::1', '2026-05-17', 2),
			('ip:2001:db8:1:2::ff', '2026-05-17', 1),
			('ip:2001:db8:1:2::1', '2026-05-16', 4),
			('ip:2001:db8:1:3::1', '2026-05-17', 3),
			('ip:192.0.2.1', '2026-05-17', 3),
			('rcpt:a@example.org', '2026-05-17', 1)`,
	})...)
	now := newClock(time.Date(2026, 5, 17, 12, 0, 0, 0, time.UTC))
	q := openQueue(t, dir, queue.WithClock(now.Now), queue.WithLimits(queue.Limits{PerIP: 4}))
	defer q.Close()
	from := func(ip string, n int) queue.Entry {
		e := reply(fmt.Sprintf("r%d@example.org", n), n)
		e.IP = ip
		return e
	}
	// 2001:db8:1:2::/64 had 3 today (2 + 1): one more, then the cap.
	if skip := record(t, q, from("2001:db8:1:2::abc", 1)); skip != "" {
		t.Errorf("fourth reply of the day for 2001:db8:1:2::/64: skip = %q, want none", skip)
	}
	if skip := record(t, q, from("2001:db8:1:2::1", 2)); skip != queue.SkipIPLimit {
		t.Errorf("fifth reply of the day for 2001:db8:1:2::/64: skip = %q, want %q", skip, queue.SkipIPLimit)
	}
	// Other clients kept their own counts: 3 each today.
	for i, ip := range []string{"2001:db8:1:3::9", "192.0.2.1"} {
		if skip := record(t, q, from(ip, 3+2*i)); skip != "" {
			t.Errorf("fourth reply of the day from %s: skip = %q, want none", ip, skip)
		}
		if skip := record(t, q, from(ip, 4+2*i)); skip != queue.SkipIPLimit {
			t.Errorf("fifth reply of the day from %s: skip = %q, want %q", ip, skip, queue.SkipIPLimit)
		}
	}
}

// A queue written by the second schema (no sending marks) is upgraded in
// place: its queued replies carry no mark and no lost outcome, so each is
// delivered, once, and the marks work from then on.
func TestQueue_UpgradesVersion2AndDeliversItsRepliesOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, queue.FileName)
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	// Schema version 2, as released.
	for _, stmt := range []string{
		`CREATE TABLE messages (id INTEGER PRIMARY KEY, rcpt TEXT NOT NULL, domain TEXT NOT NULL,
			created INTEGER NOT NULL, next_attempt INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
			done_at INTEGER, last_error TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX messages_due ON messages (state, next_attempt, id)`,
		`CREATE TABLE bodies (id INTEGER PRIMARY KEY REFERENCES messages (id), data BLOB NOT NULL)`,
		`CREATE TABLE reply_counts (key TEXT NOT NULL, day TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, day)) WITHOUT ROWID`,
		`CREATE TABLE skipped (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, ip TEXT NOT NULL, sender TEXT NOT NULL, reason TEXT NOT NULL)`,
		`CREATE TABLE texts (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL)`,
		`ALTER TABLE bodies ADD COLUMN text_id INTEGER REFERENCES texts (id)`,
		`PRAGMA user_version = 2`,
		`INSERT INTO messages (id, rcpt, domain, created, next_attempt, attempts, last_error)
			VALUES (1, 'old@example.org', 'example.org', 0, 0, 1, '451 try later')`,
		`INSERT INTO messages (id, rcpt, domain, created, next_attempt) VALUES (2, 'new@example.org', 'example.org', 0, 0)`,
		`INSERT INTO texts (id, hash, data) VALUES (1, x'00', x'0d0a73686172656420626f64790d0a')`, // "\r\nshared body\r\n"
		`INSERT INTO bodies (id, data, text_id) VALUES (1, CAST('Subject: old' AS BLOB), 1), (2, CAST('Subject: new' AS BLOB), 1)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	q := openQueue(t, dir, queue.WithClock(newClock(time.UnixMilli(1000)).Now))
	sink := smtptest.NewSink(t, smtptest.Options{})
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	sink.Wait(t, 2, 10*time.Second)
	waitCounts(t, q, 0, 2, 0)
	time.Sleep(200 * time.Millisecond) // room for a copy to show up
	ms := sink.Messages()
	if len(ms) != 2 {
		t.Fatalf("the relay got %d messages, want the 2 queued, once each", len(ms))
	}
	for i, want := range []string{"Subject: old\r\nshared body\r\n", "Subject: new\r\nshared body\r\n"} {
		if string(ms[i].Data) != want {
			t.Errorf("message %d = %q, want %q", i, ms[i].Data, want)
		}
	}
	check, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var version, marked, lost int
	if err := check.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := check.QueryRow(`SELECT COUNT(sending_since), SUM(lost_outcomes) FROM messages`).Scan(&marked, &lost); err != nil {
		t.Fatal(err)
	}
	if version != queue.SchemaVersion || marked != 0 || lost != 0 {
		t.Errorf("after the upgrade and delivery: schema version %d, %d replies marked as being sent, %d lost outcomes; want %d, 0, 0", version, marked, lost, queue.SchemaVersion)
	}
}

func TestDelivery_PermanentRejectionDropsReply(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		sink := smtptest.NewSink(t, smtptest.Options{Reject: func(rcpt string) error {
			if rcpt == "gone@example.org" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}})
		q := openQueue(t, where)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
		record(t, q, reply("gone@example.org", 1))
		record(t, q, reply("here@example.org", 2))
		ms := sink.Wait(t, 1, 10*time.Second)
		waitCounts(t, q, 0, 1, 1)
		if ms[0].To[0] != "here@example.org" {
			t.Errorf("delivered to %v, want here@example.org", ms[0].To)
		}
	})
}

func TestDelivery_TemporaryRejectionRetries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		var tries atomic.Int32
		sink := smtptest.NewSink(t, smtptest.Options{Reject: func(string) error {
			if tries.Add(1) <= 2 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			}
			return nil
		}})
		q := openQueue(t, where)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
		record(t, q, reply("alice@example.org", 1))
		sink.Wait(t, 1, 10*time.Second)
		if n := tries.Load(); n != 3 {
			t.Errorf("RCPT tried %d times, want 3", n)
		}
		waitCounts(t, q, 0, 1, 0)
	})
}

// logBuffer collects log output from several goroutines.
type logBuffer = logstest.Buffer

func TestDelivery_TemporaryRejectionOfOneReplyIsLogged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		var tries atomic.Int32
		sink := smtptest.NewSink(t, smtptest.Options{Reject: func(string) error {
			if tries.Add(1) == 1 {
				return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
			}
			return nil
		}})
		var logs logBuffer
		q := openQueue(t, where)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone},
			Log: slog.New(slog.NewTextHandler(&logs, nil))})
		record(t, q, reply("alice@example.org", 1))
		sink.Wait(t, 1, 10*time.Second)
		got := logs.String()
		for _, want := range []string{`msg="smtp reply deferred"`, "rcpt=alice@example.org", "mailbox full", "retry_in="} {
			if !strings.Contains(got, want) {
				t.Errorf("log lacks %q:\n%s", want, got)
			}
		}
	})
}

func TestDelivery_DropsReplyPastMaxAge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		clk := newClock(time.Now())
		addr := smtptest.FreeAddr(t)
		q := openQueue(t, where, queue.WithClock(clk.Now))
		record(t, q, reply("alice@example.org", 1))
		clk.Add(49 * time.Hour)
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: addr, TLS: queue.TLSNone}, MaxAge: 48 * time.Hour})
		waitCounts(t, q, 0, 0, 1)
	})
}

func TestDelivery_RelayStartTLSWithAuthPlain(t *testing.T) {
	srvTLS, roots := smtptest.SelfSignedTLS(t)
	sink := smtptest.NewSink(t, smtptest.Options{TLS: srvTLS, Username: "quotes", Password: "s3cret"})
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSStartTLS,
		Username: "quotes", Password: "s3cret", TLSConfig: &tls.Config{RootCAs: roots}}})
	record(t, q, reply("alice@example.org", 1))
	m := sink.Wait(t, 1, 10*time.Second)[0]
	if !m.TLS || m.User != "quotes" {
		t.Errorf("delivered with TLS=%v user=%q, want TLS and user quotes", m.TLS, m.User)
	}
}

// wantGreetings checks that every HELO or EHLO the sink saw gave name.
func wantGreetings(t *testing.T, sink *smtptest.Sink, name string) {
	t.Helper()
	got := sink.Greetings()
	if len(got) == 0 {
		t.Fatal("the sink saw no greeting")
	}
	for _, g := range got {
		if g != name {
			t.Errorf("greetings %q, want every one to be %q (before STARTTLS too)", got, name)
			return
		}
	}
}

func TestDelivery_GreetsWithHeloNameBeforeAndAfterSTARTTLS(t *testing.T) {
	srvTLS, roots := smtptest.SelfSignedTLS(t)
	relay := smtptest.NewSink(t, smtptest.Options{TLS: srvTLS})
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{HeloName: "mx.quotes.test", Relay: &queue.Relay{Addr: relay.Addr, TLS: queue.TLSStartTLS,
		TLSConfig: &tls.Config{RootCAs: roots}}})
	record(t, q, reply("alice@example.org", 1))
	relay.Wait(t, 1, 10*time.Second)
	wantGreetings(t, relay, "mx.quotes.test")

	mx := smtptest.NewSink(t, smtptest.Options{TLS: srvTLS})
	_, port, _ := net.SplitHostPort(mx.Addr)
	res := &fakeResolver{mx: map[string][]*net.MX{"example.org": {{Host: "mx.example.org.", Pref: 10}}},
		hosts: map[string][]string{"mx.example.org": {"127.0.0.1"}}}
	q = openQueue(t, t.TempDir())
	delivery(t, q, queue.AllowLoopbackMX(queue.Config{HeloName: "mx.quotes.test", DirectMX: true, Resolver: res, MXPort: port}))
	record(t, q, reply("alice@example.org", 1))
	if m := mx.Wait(t, 1, 10*time.Second)[0]; !m.TLS {
		t.Error("delivered without TLS although the MX offers STARTTLS")
	}
	wantGreetings(t, mx, "mx.quotes.test")
}

func TestDelivery_RelayImplicitTLS(t *testing.T) {
	srvTLS, roots := smtptest.SelfSignedTLS(t)
	sink := smtptest.NewSink(t, smtptest.Options{TLS: srvTLS, Implicit: true})
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSImplicit, TLSConfig: &tls.Config{RootCAs: roots}}})
	record(t, q, reply("alice@example.org", 1))
	if m := sink.Wait(t, 1, 10*time.Second)[0]; !m.TLS {
		t.Error("delivered without TLS")
	}
}

func TestDelivery_RelayWrongPasswordKeepsReplyQueued(t *testing.T) {
	sink := smtptest.NewSink(t, smtptest.Options{Username: "quotes", Password: "right"})
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone, Username: "quotes", Password: "wrong"}})
	record(t, q, reply("alice@example.org", 1))
	time.Sleep(300 * time.Millisecond)
	if queued, sent, failed := counts(t, q); queued != 1 || sent != 0 || failed != 0 {
		t.Errorf("queued %d sent %d failed %d, want the reply still queued", queued, sent, failed)
	}
}

// fakeResolver answers MX and address queries from maps; it never asks DNS.
type fakeResolver struct {
	mx    map[string][]*net.MX
	hosts map[string][]string
}

func (r *fakeResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if mx, ok := r.mx[name]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := r.hosts[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestDelivery_DirectToMXThroughInjectedResolver(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		sink := smtptest.NewSink(t, smtptest.Options{})
		_, port, _ := net.SplitHostPort(sink.Addr)
		res := &fakeResolver{
			mx: map[string][]*net.MX{"example.org": {
				{Host: "mx2.example.org.", Pref: 20},
				{Host: "mx1.example.org.", Pref: 10},
			}},
			// The best MX has no address; the second one is the sink.
			hosts: map[string][]string{"mx2.example.org": {"127.0.0.1"}},
		}
		q := openQueue(t, where)
		delivery(t, q, queue.AllowLoopbackMX(queue.Config{DirectMX: true, Resolver: res, MXPort: port}))
		record(t, q, reply("alice@example.org", 1))
		m := sink.Wait(t, 1, 10*time.Second)[0]
		if m.To[0] != "alice@example.org" {
			t.Errorf("delivered to %v", m.To)
		}
	})
}

func TestDelivery_DirectFallsBackToAddressRecordWithoutMX(t *testing.T) {
	sink := smtptest.NewSink(t, smtptest.Options{})
	_, port, _ := net.SplitHostPort(sink.Addr)
	res := &fakeResolver{hosts: map[string][]string{"example.net": {"127.0.0.1"}}}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.AllowLoopbackMX(queue.Config{DirectMX: true, Resolver: res, MXPort: port}))
	record(t, q, reply("bob@example.net", 1))
	sink.Wait(t, 1, 10*time.Second)
}

func TestDelivery_DirectUsesOpportunisticSTARTTLS(t *testing.T) {
	srvTLS, _ := smtptest.SelfSignedTLS(t) // not trusted: opportunistic TLS does not verify
	sink := smtptest.NewSink(t, smtptest.Options{TLS: srvTLS})
	_, port, _ := net.SplitHostPort(sink.Addr)
	res := &fakeResolver{mx: map[string][]*net.MX{"example.org": {{Host: "mx.example.org.", Pref: 10}}},
		hosts: map[string][]string{"mx.example.org": {"127.0.0.1"}}}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.AllowLoopbackMX(queue.Config{DirectMX: true, Resolver: res, MXPort: port}))
	record(t, q, reply("alice@example.org", 1))
	if m := sink.Wait(t, 1, 10*time.Second)[0]; !m.TLS {
		t.Error("delivered without TLS although the MX offers STARTTLS")
	}
}

func TestDelivery_DomainWithoutMXOrAddressDropsReply(t *testing.T) {
	// A forged sender at a domain that does not exist: nothing will ever
	// take the reply, so it is dropped at once, not retried for days.
	res := &fakeResolver{}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{DirectMX: true, Resolver: res, MXPort: "1"})
	record(t, q, reply("alice@nonexistent.example", 1))
	waitCounts(t, q, 0, 0, 1)
}

// flakyResolver fails every lookup as a DNS server that does not answer.
type flakyResolver struct{}

func (flakyResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
}

func (flakyResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
}

func TestDelivery_DNSFailureKeepsReplyQueued(t *testing.T) {
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{DirectMX: true, Resolver: flakyResolver{}, MXPort: "1"})
	record(t, q, reply("alice@example.org", 1))
	time.Sleep(300 * time.Millisecond)
	if queued, sent, failed := counts(t, q); queued != 1 || sent != 0 || failed != 0 {
		t.Errorf("queued %d sent %d failed %d, want the reply still queued", queued, sent, failed)
	}
}

func TestDelivery_NullMXDropsReply(t *testing.T) {
	res := &fakeResolver{mx: map[string][]*net.MX{"example.com": {{Host: ".", Pref: 0}}}}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{DirectMX: true, Resolver: res, MXPort: "1"})
	record(t, q, reply("alice@example.com", 1))
	waitCounts(t, q, 0, 0, 1)
}

// waitCounts waits for the queue to reach the given state counts.
func waitCounts(t *testing.T, q *queue.Queue, queued, sent, failed int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, b, c := counts(t, q)
		if a == queued && b == sent && c == failed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue: queued %d sent %d failed %d, want %d %d %d", a, b, c, queued, sent, failed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestQueue_RefusesDatabaseFromNewerVersion(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir)
	q.Close()
	db, err := sql.Open("sqlite3", filepath.Join(dir, queue.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := queue.Open(dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a schema from the future: err = %v, want one saying it is newer", err)
	}
}

func TestQueue_OpenRequiresStateDir(t *testing.T) {
	if _, err := queue.Open(""); err == nil || !strings.Contains(err.Error(), "--state-dir") {
		t.Errorf("Open(\"\"): err = %v, want one naming --state-dir", err)
	}
}

func TestQueue_RecordCompletesWhileAnotherSessionStillReceives(t *testing.T) {
	q := openQueue(t, t.TempDir())
	defer q.Close()
	q.Receiving(1) // a session that never gets to Record (a client gone quiet)
	defer q.Receiving(-1)
	done := make(chan error, 1)
	go func() {
		_, err := q.Record(context.Background(), reply("a@example.org", 1))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Record is held back by a session that never records")
	}
}

func TestDelivery_FallsBackToNextMXWhenBestRefuses(t *testing.T) {
	sink := smtptest.NewSink(t, smtptest.Options{})
	_, port, _ := net.SplitHostPort(sink.Addr)
	res := &fakeResolver{
		mx: map[string][]*net.MX{"example.org": {{Host: "mx1.example.org.", Pref: 10}, {Host: "mx2.example.org.", Pref: 20}}},
		// 127.0.0.2 is never dialled: the dialler below refuses it, as a
		// host that is down would.
		hosts: map[string][]string{"mx1.example.org": {"127.0.0.2"}, "mx2.example.org": {"127.0.0.1"}},
	}
	var refused atomic.Int32
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			refused.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("connection refused")}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.AllowLoopbackMX(queue.Config{DirectMX: true, Resolver: res, MXPort: port, Dial: dial}))
	record(t, q, reply("alice@example.org", 1))
	sink.Wait(t, 1, 10*time.Second)
	if refused.Load() == 0 {
		t.Error("the preferred MX was never tried")
	}
}

// spyResolver fails the test if direct delivery asks it anything.
type spyResolver struct{ t *testing.T }

func (r spyResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	r.t.Errorf("held delivery looked up the MX of %s", name)
	return nil, errors.New("no lookups in hold mode")
}

func (r spyResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	r.t.Errorf("held delivery looked up %s", host)
	return nil, errors.New("no lookups in hold mode")
}

func TestDelivery_WithoutRelayOrDirectMXHoldsRepliesAndContactsNoOne(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		clk := newClock(time.Now())
		dir := where
		q := openQueue(t, dir, queue.WithClock(clk.Now))
		record(t, q, reply("old@example.org", 1))
		clk.Add(49 * time.Hour)
		record(t, q, reply("young@example.org", 2))
		var dialled atomic.Int32
		dial := func(context.Context, string, string) (net.Conn, error) {
			dialled.Add(1)
			return nil, errors.New("no connections in hold mode")
		}
		d := queue.NewDelivery(q, queue.Config{Resolver: spyResolver{t}, Dial: dial,
			Concurrency: 4, MaxAge: 48 * time.Hour, MinBackoff: time.Minute, Timeout: 5 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Serve(ctx) }()
		// The reply past its age is dropped; the young one stays queued.
		waitCounts(t, q, 1, 0, 1)
		record(t, q, reply("new@example.org", 3))
		waitCounts(t, q, 2, 0, 1)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Delivery.Serve: %v", err)
		}
		if n := dialled.Load(); n != 0 {
			t.Errorf("held delivery dialled %d times, want none", n)
		}

		// Held replies are delivered once a relay is configured.
		sink := smtptest.NewSink(t, smtptest.Options{})
		q = openQueue(t, dir, queue.WithClock(clk.Now))
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}, MaxAge: 48 * time.Hour})
		ms := sink.Wait(t, 2, 10*time.Second)
		if got := []string{seq(ms[0]), seq(ms[1])}; got[0] != "2" || got[1] != "3" {
			t.Errorf("delivered %v, want the held replies 2 then 3", got)
		}
	})
}

func TestQueue_SetLimitsAppliesToLaterRecords(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where, queue.WithLimits(queue.Limits{PerRecipient: 1}))
		defer q.Close()
		if skip := record(t, q, reply("alice@example.org", 1)); skip != "" {
			t.Fatalf("first reply skipped: %s", skip)
		}
		if skip := record(t, q, reply("alice@example.org", 2)); skip != queue.SkipRecipientLimit {
			t.Fatalf("second reply under a cap of 1: skip %q, want %q", skip, queue.SkipRecipientLimit)
		}
		q.SetLimits(queue.Limits{PerRecipient: 2})
		if skip := record(t, q, reply("alice@example.org", 3)); skip != "" {
			t.Fatalf("after raising the cap to 2: skipped %s", skip)
		}
		if skip := record(t, q, reply("alice@example.org", 4)); skip != queue.SkipRecipientLimit {
			t.Fatalf("third reply under a cap of 2: skip %q, want %q", skip, queue.SkipRecipientLimit)
		}
	})
}

// A queue written by a newer quotesd is refused before anything writes to
// it: the file's bytes stay as they were.
func TestOpen_NewerQueueIsRefusedUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, queue.FileName)
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE future (x); PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(dir)
	if err == nil {
		q.Close()
		t.Fatal("Open of a queue of schema version 999 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open = %v, want it to say the queue is newer", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("refusing the newer queue changed its file")
	}
}

// Sessions recording at once share the writer's transactions: the replies
// of one batch to one mailbox, or from one client, are counted together,
// and the caps still hold to the reply.
func TestQueue_ConcurrentRecordsKeepTheDailyCaps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, where string) {
		q := openQueue(t, where, queue.WithLimits(queue.Limits{PerRecipient: 5, PerIP: 12}))
		defer q.Close()
		var mu sync.Mutex
		skips := map[string]int{}
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Three mailboxes, from one client.
				skip, err := q.Record(context.Background(), reply(fmt.Sprintf("m%d+%d@example.org", i%3, i), i))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				skips[skip]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if skips[""] != 12 || skips[queue.SkipRecipientLimit]+skips[queue.SkipIPLimit] != 48 {
			t.Errorf("60 replies at once to 3 mailboxes (cap 5 each) from one client (cap 12): %v; want 12 queued", skips)
		}
		if queued, _, _ := counts(t, q); queued != 12 {
			t.Errorf("queued %d, want 12", queued)
		}
	})
}
