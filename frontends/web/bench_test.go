package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
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
	b.Helper()
	h, err := web.New(web.Config{
		Library:   quotertest.NewLibrary(b),
		Calendar:  &quoter.Calendar{},
		Log:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics:   prometheus.NewRegistry(),
		RateLimit: rate,
	})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchGet(b *testing.B, target, accept string, headers ...string) {
	h := benchHandler(b)
	b.ReportAllocs()
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
	for b.Loop() {
		w := &nopWriter{h: make(http.Header)}
		h.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}
