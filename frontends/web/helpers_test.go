package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// zone is the configured time zone of the tests: not UTC, so that a
// rollover computed in the wrong zone shows.
var zone = time.FixedZone("UTC+2", 2*60*60)

// now is the tests' fixed instant: 2026-03-14 21:30 in zone, two and a
// half hours before the rollover.
var now = time.Date(2026, 3, 14, 21, 30, 0, 0, zone)

var today = quoter.Date{Year: 2026, Month: time.March, Day: 14}

// testEnv is a web handler over a real (temporary SQLite) library.
type testEnv struct {
	t       *testing.T
	lib     quoter.Library
	handler *web.Handler
	reg     *prometheus.Registry
	logs    *syncBuffer
	clock   *quotertest.Clock
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines returns the JSON log records written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// newEnv returns a handler over a sample library; edit adjusts the config.
func newEnv(t *testing.T, edit ...func(*web.Config)) *testEnv {
	t.Helper()
	return newEnvWith(t, quotertest.NewLibrary(t), edit...)
}

func newEnvWith(t *testing.T, lib quoter.Library, edit ...func(*web.Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, lib: lib, reg: prometheus.NewRegistry(), logs: &syncBuffer{}, clock: quotertest.NewClock(now)}
	cfg := web.Config{
		Library:  lib,
		Calendar: &quoter.Calendar{Location: zone, Now: e.clock.Now},
		Log:      slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:  e.reg,
	}
	for _, f := range edit {
		f(&cfg)
	}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	e.handler = h
	return e
}

// do sends a request through the handler. headers are name, value pairs.
func (e *testEnv) do(method, target string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.10:51000"
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func (e *testEnv) get(target string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(http.MethodGet, target, nil, headers...)
}

// want checks a response's status.
func want(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, status, truncate(w.Body.String()))
	}
}

func wantHeader(t *testing.T, w *httptest.ResponseRecorder, name, value string) {
	t.Helper()
	if got := w.Header().Get(name); got != value {
		t.Errorf("%s = %q, want %q", name, got, value)
	}
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// decode parses a JSON body into a value of type T.
func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body is not the JSON expected: %v\n%s", err, truncate(w.Body.String()))
	}
	return v
}

// apiQuote mirrors the API's quote object.
type apiQuote struct {
	ID        int64    `json:"id"`
	Text      string   `json:"text"`
	Author    string   `json:"author"`
	Source    string   `json:"source"`
	Year      int      `json:"year"`
	Tags      []string `json:"tags"`
	Lang      string   `json:"lang"`
	Length    int      `json:"length"`
	Permalink string   `json:"permalink"`
	Date      string   `json:"date"`

	Collection string `json:"collection"`
}

type apiCollection struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Private bool   `json:"private"`
	Quotes  int    `json:"quotes"`
}

type apiList[T any] struct {
	Count         int  `json:"count"`
	TotalCount    int  `json:"totalCount"`
	Page          int  `json:"page"`
	TotalPages    int  `json:"totalPages"`
	LastItemIndex *int `json:"lastItemIndex"`
	Results       []T  `json:"results"`
}

type apiError struct {
	StatusCode    int    `json:"statusCode"`
	StatusMessage string `json:"statusMessage"`
	Parameter     string `json:"parameter"`
}

// wantAPIError checks a JSON error response.
func wantAPIError(t *testing.T, w *httptest.ResponseRecorder, status int, param string) apiError {
	t.Helper()
	want(t, w, status)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	e := decode[apiError](t, w)
	if e.StatusCode != status || e.StatusMessage == "" {
		t.Errorf("error body = %+v, want statusCode %d and a message", e, status)
	}
	if e.Parameter != param {
		t.Errorf("error parameter = %q, want %q (message %q)", e.Parameter, param, e.StatusMessage)
	}
	if param != "" && !strings.Contains(e.StatusMessage, param) {
		t.Errorf("error message %q does not name the parameter %q", e.StatusMessage, param)
	}
	return e
}

// todays returns the library's quote of day d.
func (e *testEnv) todays(d quoter.Date) *quoter.Quote {
	e.t.Helper()
	q, err := e.lib.Today(context.Background(), d, quoter.Filter{})
	if err != nil {
		e.t.Fatalf("Today(%s): %v", d, err)
	}
	return q
}

// quoteWithText finds the stored quote with the given text.
func (e *testEnv) quoteWithText(text string) *quoter.Quote {
	e.t.Helper()
	qs, _, err := e.lib.List(context.Background(), quoter.Filter{}, quoter.Page{Limit: quoter.MaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, q := range qs {
		if q.Text == text {
			return q
		}
	}
	e.t.Fatalf("no stored quote with text %q", text)
	return nil
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
