package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/limits/postgres"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// benchHandler is the handler as bench/web/run.sh measures it: access log
// on (to io.Discard, but formatted), metrics on, no rate limit (wrk is one
// client). These benchmarks find where the time goes; the figures that
// count are wrk's, against a bare handler (BENCHMARKS.md).
func benchHandler(b *testing.B) http.Handler { return benchHandlerLimited(b, 0) }

// benchHandlerLimited is benchHandler with a per-IP rate limit of rate
// requests a minute (0: none), as served by default.
func benchHandlerLimited(b *testing.B, rate int) http.Handler {
	return benchHandlerWith(b, rate, nil)
}

// benchHandlerShared is benchHandlerLimited with the limit shared through
// a throwaway PostgreSQL database (--web-rate-shared), its sync running
// every 250 ms as in quotesd serve.
func benchHandlerShared(b *testing.B, rate int) http.Handler {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	l := postgres.New(postgres.Config{Pool: pool})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		if l.Degraded() {
			b.Error("the shared limiter could not sync with the database")
		}
	})
	return benchHandlerWith(b, rate, l)
}

func benchHandlerWith(b *testing.B, rate int, l web.Limiter) http.Handler {
	b.Helper()
	h, err := web.New(web.Config{
		Library:   quotertest.NewLibrary(b),
		Calendar:  &quoter.Calendar{},
		Log:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics:   prometheus.NewRegistry(),
		RateLimit: rate,
		Limiter:   l,
	})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchGet(b *testing.B, target, accept string, headers ...string) {
	benchGetFrom(b, benchHandler(b), target, accept, headers...)
}

func benchGetFrom(b *testing.B, h http.Handler, target, accept string, headers ...string) {
	b.ReportAllocs()
	b.ResetTimer() // the handler is made: a database created is no request
	defer measureCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.RemoteAddr = "192.0.2.1:1234"
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

func BenchmarkAPIToday(b *testing.B)  { benchGet(b, "/api/v1/today", "") }
func BenchmarkPageToday(b *testing.B) { benchGet(b, "/", browserAccept) }
func BenchmarkTextToday(b *testing.B) { benchGet(b, "/", "*/*") }

// BenchmarkPageToday_Compressed is the page of the day as browsers ask
// for it: compressed (zstd, which they prefer here), on every request.
func BenchmarkPageToday_Compressed(b *testing.B) {
	benchGet(b, "/", browserAccept, "Accept-Encoding", "gzip, deflate, br, zstd")
}

func BenchmarkPageToday_Gzip(b *testing.B) {
	benchGet(b, "/", browserAccept, "Accept-Encoding", "gzip")
}

// nopWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler rather than httptest's recorder.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkAPITodayHandlerOnly(b *testing.B) { benchHandlerOnly(b, benchHandler(b)) }

// BenchmarkAPITodayHandlerOnly_RateLimited is the handler as served by
// default, with the per-client rate limit on (at a limit the loop never
// reaches): the client and a token from its bucket on every request.
func BenchmarkAPITodayHandlerOnly_RateLimited(b *testing.B) {
	benchHandlerOnly(b, benchHandlerLimited(b, 1<<30))
}

// BenchmarkAPITodayHandlerOnly_RateShared is the same with the limit
// shared through PostgreSQL (--web-rate-shared): the target is at
// least 0.9x the rate of BenchmarkAPITodayHandlerOnly_RateLimited. No
// request waits for the database; the syncs run beside the loop.
func BenchmarkAPITodayHandlerOnly_RateShared(b *testing.B) {
	benchHandlerOnly(b, benchHandlerShared(b, 1<<30))
}

// BenchmarkAPIToday_RateLimited and BenchmarkAPIToday_RateShared are
// BenchmarkAPIToday with the per-replica and the shared limit: requests
// from every core at once, on one limiter's lock.
func BenchmarkAPIToday_RateLimited(b *testing.B) {
	benchGetFrom(b, benchHandlerLimited(b, 1<<30), "/api/v1/today", "")
}

func BenchmarkAPIToday_RateShared(b *testing.B) {
	benchGetFrom(b, benchHandlerShared(b, 1<<30), "/api/v1/today", "")
}

// BenchmarkAPITodayHandlerOnly_AcceptEncoding is the JSON of the day
// asked for as browsers and curl --compressed ask: with an Accept-Encoding
// offering gzip and brotli. The body is under the compression threshold,
// so it must cost about what the plain request costs.
func BenchmarkAPITodayHandlerOnly_AcceptEncoding(b *testing.B) {
	benchHandlerOnlyHeader(b, benchHandler(b), "Accept-Encoding", "gzip, deflate, br, zstd")
}

func benchHandlerOnly(b *testing.B, h http.Handler) { benchHandlerOnlyHeader(b, h, "", "") }

func benchHandlerOnlyHeader(b *testing.B, h http.Handler, key, value string) {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/today", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	if key != "" {
		r.Header.Set(key, value)
	}
	b.ReportAllocs()
	defer measureCPU(b)()
	for b.Loop() {
		w := &nopWriter{h: make(http.Header)}
		h.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU reports, next to ns/op (wall clock), cpu-ns/op: the CPU time
// this process used per request, the shared limiter's syncs included. On
// a shared machine the wall clock also counts the time spent waiting for
// a core, so ratios read more reliably from the CPU time. Call as defer
// measureCPU(b)().
func measureCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}
