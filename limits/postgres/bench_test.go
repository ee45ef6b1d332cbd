package postgres_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/limits/postgres"
)

// BenchmarkTake is a token taken on the request path, by the per-replica
// limiter and by the shared one while its syncs run beside the loop: the
// cost --web-rate-shared adds to each request.
func BenchmarkTake(b *testing.B) {
	c := client("192.0.2.1")
	b.Run("per-replica", func(b *testing.B) {
		benchTake(b, limits.NewLimiter(rate.Limit(1<<30), 1<<30), c)
	})
	b.Run("shared", func(b *testing.B) {
		l := postgres.New(postgres.Config{Pool: newTestDB(b).Pool(b)})
		l.SetRate(rate.Limit(1<<30), 1<<30)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- l.Serve(ctx) }()
		defer func() { cancel(); <-done }()
		benchTake(b, l, c)
	})
}

func benchTake(b *testing.B, l interface {
	Take(limits.Client, time.Time) (time.Duration, bool)
}, c limits.Client) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Take(c, time.Now()); !ok {
			b.Fatal("refused")
		}
	}
}
