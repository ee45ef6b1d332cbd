package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkCards_CachedTodayVsAPIToday serves /api/v1/today, /today.png
// and /today.svg in turn, in one loop, so the three share whatever the
// machine is doing, and reports each one's CPU time per request and the
// cards' requests per second as a ratio of the API's (the goal:
// at least 0.8). The bodies are written to a writer that keeps nothing,
// as the handler-only benchmarks do: a PNG card is some tens of KiB,
// which the socket, not the handler, pays for (bench/web/run.sh measures
// that, over loopback with wrk).
func BenchmarkCards_CachedTodayVsAPIToday(b *testing.B) {
	h := benchHandler(b)
	targets := []string{"/api/v1/today", "/today.png", "/today.svg"}
	reqs := make([]*http.Request, len(targets))
	for i, t := range targets {
		reqs[i] = httptest.NewRequest(http.MethodGet, t, nil)
		reqs[i].RemoteAddr = "192.0.2.1:1234"
		w := &nopWriter{h: make(http.Header)}
		h.ServeHTTP(w, reqs[i]) // the cards rendered once, before the clock runs
		if w.code != http.StatusOK {
			b.Fatalf("%s: status %d", t, w.code)
		}
	}
	var spent [3]time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for i, r := range reqs {
			start := cpuTime()
			w := &nopWriter{h: make(http.Header)}
			h.ServeHTTP(w, r)
			spent[i] += cpuTime() - start
			if w.code != http.StatusOK {
				b.Fatalf("%s: status %d", targets[i], w.code)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(spent[0])/n, "api-cpu-ns/req")
	b.ReportMetric(float64(spent[1])/n, "png-cpu-ns/req")
	b.ReportMetric(float64(spent[2])/n, "svg-cpu-ns/req")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "png/api-rps")
	b.ReportMetric(float64(spent[0])/float64(spent[2]), "svg/api-rps")
}

// BenchmarkCards_TodayPNG and BenchmarkCards_TodaySVG are the cached
// cards alone, from every core at once, as BenchmarkAPIToday serves the
// API (compare them in one run: go test -bench 'APIToday$|Cards_Today').
func BenchmarkCards_TodayPNG(b *testing.B) { benchGet(b, "/today.png", "") }
func BenchmarkCards_TodaySVG(b *testing.B) { benchGet(b, "/today.svg", "") }
