package smtp_test

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// BenchmarkSMTP_AcceptAndQueue measures the accept path end to end over
// loopback: many clients, each sending requests over one connection; every
// 250 means the reply is committed to the queue (group commit), while the
// queue delivers to a go-smtp sink.
func BenchmarkSMTP_AcceptAndQueue(b *testing.B) {
	h := newHarness(b)
	msg := strings.ReplaceAll(request("today"), "\n", "\r\n")
	var failed atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := gosmtp.Dial(h.addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		for pb.Next() {
			if err := c.SendMail("alice@example.org", []string{"quote@quotes.test"}, strings.NewReader(msg)); err != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Errorf("%d messages refused", n)
	}
}

// BenchmarkSMTP_AcceptAndQueue100 is BenchmarkSMTP_AcceptAndQueue with
// 100 sessions at once, on each backend of the durable queue: an SQLite
// file, and a PostgreSQL database on the same machine (a throwaway one from
// QUOTESD_TEST_POSTGRES), which replicas share; without the daily caps,
// and with both (the default settings have them: each reply is counted
// per mailbox and per client in the transaction that queues it).
func BenchmarkSMTP_AcceptAndQueue100(b *testing.B) {
	for _, backend := range []struct {
		name string
		db   func(testing.TB) string
	}{
		{"SQLite", func(testing.TB) string { return "" }},
		{"PostgreSQL", pgtest.NewDatabase},
	} {
		for _, caps := range []struct {
			name   string
			limits queue.Limits
		}{
			{"", queue.Limits{}},
			{"-caps", queue.Limits{PerRecipient: 1e9, PerIP: 1e9}},
		} {
			b.Run(backend.name+caps.name, func(b *testing.B) {
				db := backend.db(b)
				h := newHarness(b, func(s *setup) {
					s.queueDB, s.limits = db, caps.limits
					// One client (loopback) with 100 sessions at once.
					s.cfg.MaxConns, s.cfg.MaxClientConns = 200, 200
				})
				acceptMany(b, h, 100)
			})
		}
	}
}

// acceptMany sends requests to h from sessions clients at once, each over
// one connection, b.N in all.
func acceptMany(b *testing.B, h *harness, sessions int) {
	msg := strings.ReplaceAll(request("today"), "\n", "\r\n")
	var failed atomic.Int64
	b.SetParallelism((sessions + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := gosmtp.Dial(h.addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		for pb.Next() {
			if err := c.SendMail("alice@example.org", []string{"quote@quotes.test"}, strings.NewReader(msg)); err != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Errorf("%d messages refused", n)
	}
}

// BenchmarkComposer_Today measures composing the most common reply,
// today's quote: the body comes from the composer's cache, the header is
// written for each request.
func BenchmarkComposer_Today(b *testing.B) {
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return fixedDay }}
	c := &smtp.Composer{Quoter: quotertest.NewLibrary(b), Calendar: cal, LocalPart: "quote"}
	r := smtp.Request{Sender: "alice@example.org", Domain: "quotes.test", Subject: "today", MessageID: "req-1@example.org"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Compose(context.Background(), r, fixedDay); err != nil {
			b.Fatal(err)
		}
	}
}
