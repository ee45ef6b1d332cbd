package smtp_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/quoter"
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
