package ops_test

import (
	"context"
	"errors"
	"github.com/quotesd/quotesd/logs/logstest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/ops"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/reactor"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer = logstest.Buffer

// testEnv is an operations handler over a real (temporary SQLite) library.
type testEnv struct {
	t       *testing.T
	handler *ops.Handler
	reg     *prometheus.Registry
	logs    *syncBuffer
}

func newEnv(t *testing.T, lib quoter.Quoter, edit ...func(*ops.Config)) *testEnv {
	t.Helper()
	if lib == nil {
		lib = quotertest.NewLibrary(t, quotertest.Sample()...)
	}
	e := &testEnv{t: t, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	cfg := ops.Config{Metrics: e.reg, Library: lib, Log: slog.New(slog.NewJSONHandler(e.logs, nil))}
	for _, f := range edit {
		f(&cfg)
	}
	h, err := ops.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	return e
}

// get does GET target on the handler and returns the status and body.
func (e *testEnv) get(target string) (int, string) {
	e.t.Helper()
	return e.do(http.MethodGet, target)
}

func (e *testEnv) do(method, target string) (int, string) {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w.Code, w.Body.String()
}

func wantStatus(t *testing.T, target string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: status %d, want %d", target, got, want)
	}
}

func TestLivez_AnswersOKUncached(t *testing.T) {
	e := newEnv(t, nil)
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if w.Code != http.StatusOK || w.Body.String() != "ok\n" {
		t.Errorf("/livez = %d %q, want 200 ok", w.Code, w.Body.String())
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("/livez Cache-Control = %q, want no-store", got)
	}
}

func TestReadyz_ChecksTheLibrary(t *testing.T) {
	lib := quotertest.NewLibrary(t, quotertest.Sample()...)
	e := newEnv(t, lib)
	code, _ := e.get("/readyz")
	wantStatus(t, "/readyz", code, http.StatusOK)
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := e.get("/readyz")
	wantStatus(t, "/readyz with the library closed", code, http.StatusServiceUnavailable)
	if body != "library unavailable\n" {
		t.Errorf("/readyz body = %q, want it to name the library and nothing more", body)
	}
	if !strings.Contains(e.logs.String(), "readiness check failed") {
		t.Error("the library's failure is not in the log")
	}
	code, _ = e.get("/livez")
	wantStatus(t, "/livez with the library closed", code, http.StatusOK)
}

// An empty library has no quote 1: that is an answer, so ready.
func TestReadyz_EmptyLibraryIsReady(t *testing.T) {
	e := newEnv(t, quotertest.NewLibrary(t))
	code, _ := e.get("/readyz")
	wantStatus(t, "/readyz on an empty library", code, http.StatusOK)
}

func TestReadyz_ChecksTheFrontendsReadiness(t *testing.T) {
	var notReady atomic.Bool
	e := newEnv(t, nil, func(c *ops.Config) {
		c.Ready = func() error {
			if notReady.Load() {
				return errors.New("mail queue: cannot write its database")
			}
			return nil
		}
	})
	code, _ := e.get("/readyz")
	wantStatus(t, "/readyz", code, http.StatusOK)
	notReady.Store(true)
	code, body := e.get("/readyz")
	wantStatus(t, "/readyz with the mail queue failing", code, http.StatusServiceUnavailable)
	if body != "mail queue: cannot write its database\n" {
		t.Errorf("/readyz body = %q, want the check's error", body)
	}
	code, _ = e.get("/livez")
	wantStatus(t, "/livez with the mail queue failing", code, http.StatusOK)
	notReady.Store(false)
	code, _ = e.get("/readyz")
	wantStatus(t, "/readyz once the queue recovered", code, http.StatusOK)
}

// One registry for the process: whatever a frontend registers shows.
func TestMetrics_ServesTheProcessRegistry(t *testing.T) {
	e := newEnv(t, nil)
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "quotesd_qotd_replies_total", Help: "Replies."})
	e.reg.MustRegister(c)
	c.Add(3)
	code, body := e.get("/metrics")
	wantStatus(t, "/metrics", code, http.StatusOK)
	if !strings.Contains(body, "quotesd_qotd_replies_total 3") {
		t.Errorf("/metrics lacks a frontend's counter:\n%s", body)
	}
	code, _ = e.do(http.MethodPost, "/metrics")
	wantStatus(t, "POST /metrics", code, http.StatusMethodNotAllowed)
}

// Prometheus scrapes /metrics, not /readyz: quotesd_ops_ready says at
// each scrape what /readyz would answer, for alerts.
func TestMetrics_ReadyGaugeFollowsTheReadinessCheck(t *testing.T) {
	lib := quotertest.NewLibrary(t, quotertest.Sample()...)
	var notReady atomic.Bool
	e := newEnv(t, lib, func(c *ops.Config) {
		c.Ready = func() error {
			if notReady.Load() {
				return errors.New("mail queue: cannot write its database")
			}
			return nil
		}
	})
	wantReady := func(when, want string) {
		t.Helper()
		_, body := e.get("/metrics")
		if !strings.Contains(body, "\nquotesd_ops_ready "+want+"\n") {
			t.Errorf("%s: /metrics lacks quotesd_ops_ready %s:\n%s", when, want, body)
		}
	}
	wantReady("ready", "1")
	notReady.Store(true)
	wantReady("with the mail queue failing", "0")
	notReady.Store(false)
	wantReady("once the queue recovered", "1")
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	wantReady("with the library closed", "0")
}

// failingCollector is a collector whose Collect fails with an error whose
// text must stay in the log.
type failingCollector struct{ desc *prometheus.Desc }

func (c failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(c.desc, errors.New("secret detail at /var/lib/quotesd"))
}

// A collector that fails does not make /metrics answer 500 with its error
// text: the other metrics are served, the error goes to the log.
func TestMetrics_FailingCollectorShowsNoErrorText(t *testing.T) {
	e := newEnv(t, nil)
	e.reg.MustRegister(failingCollector{prometheus.NewDesc("test_failing", "Fails.", nil, nil)})
	ok := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_ok", Help: "Works."})
	e.reg.MustRegister(ok)
	code, body := e.get("/metrics")
	wantStatus(t, "/metrics", code, http.StatusOK)
	if strings.Contains(body, "secret detail") {
		t.Errorf("/metrics shows the collector's error text:\n%s", body)
	}
	if !strings.Contains(body, "test_ok 0") {
		t.Errorf("/metrics lacks the other metrics:\n%s", body)
	}
	if !strings.Contains(e.logs.String(), "secret detail") {
		t.Errorf("the collector's error is not in the log")
	}
}

var pprofTargets = []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1", "/debug/pprof/symbol"}

func TestPprof_AnswersOnlyWhileTurnedOn(t *testing.T) {
	e := newEnv(t, nil)
	for _, target := range pprofTargets {
		code, _ := e.get(target)
		wantStatus(t, target+" by default", code, http.StatusNotFound)
	}
	e.handler.SetPprof(true)
	for _, target := range pprofTargets {
		code, _ := e.get(target)
		wantStatus(t, target+" turned on", code, http.StatusOK)
	}
	e.handler.SetPprof(false)
	for _, target := range pprofTargets {
		code, _ := e.get(target)
		wantStatus(t, target+" turned off again", code, http.StatusNotFound)
	}
}

func TestPprof_OnFromTheStartWithConfigPprof(t *testing.T) {
	e := newEnv(t, nil, func(c *ops.Config) { c.Pprof = true })
	code, body := e.get("/debug/pprof/")
	wantStatus(t, "/debug/pprof/", code, http.StatusOK)
	if !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ does not list the profiles:\n%.300s", body)
	}
}

func TestHandler_ServesNothingElse(t *testing.T) {
	e := newEnv(t, nil, func(c *ops.Config) { c.Pprof = true })
	for _, target := range []string{"/", "/api/v1/today", "/quotes/1", "/debug/vars", "/metricsx", "/livez/x"} {
		code, _ := e.get(target)
		wantStatus(t, target, code, http.StatusNotFound)
	}
}

func TestNewHandler_RequiresALibrary(t *testing.T) {
	if _, err := ops.NewHandler(ops.Config{}); err == nil || !strings.Contains(err.Error(), "Library") {
		t.Errorf("NewHandler without a library: %v, want an error naming Config.Library", err)
	}
}

func TestServer_ServesOnItsListenerUntilItsContextEnds(t *testing.T) {
	e := newEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := ops.NewServer(ln, e.handler, nil)
	if srv.String() != "ops" {
		t.Errorf("the service's name is %q, want ops", srv.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	resp, err := http.Get("http://" + srv.Addr().String() + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /livez over TCP = %d %q, want 200 ok", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v after its context ended, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts after Serve returned")
	}
}

// A listener that fails cannot serve again: Serve says so with a
// permanent error naming the address, so that quotesd stops instead of
// restarting the server in a loop.
func TestServer_DeadListenerIsAPermanentFailure(t *testing.T) {
	e := newEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = ops.NewServer(ln, e.handler, nil).Serve(context.Background())
	if !reactor.IsPermanent(err) || !strings.Contains(err.Error(), addr) {
		t.Errorf("Serve on a closed listener = %v, want a permanent error naming %s", err, addr)
	}
}
