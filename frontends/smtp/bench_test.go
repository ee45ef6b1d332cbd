package smtp_test

import (
	"strings"
	"sync/atomic"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
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
