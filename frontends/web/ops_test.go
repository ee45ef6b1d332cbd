package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// The operations endpoints live on their own listener (package ops): the
// public port has none of them unless Config.Ops asks for /livez and
// /readyz, and never /metrics.
func TestOps_PublicPortHasNoneByDefault(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/livez", "/readyz", "/metrics"} {
		w := e.get(target)
		want(t, w, http.StatusNotFound)
		wantHeader(t, w, "X-Content-Type-Options", "nosniff")
	}
}

func TestOps_LivezAndReadyzWhenAskedButNeverMetrics(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	var notReady atomic.Bool
	e := newEnvWith(t, lib, func(c *web.Config) {
		c.Ops = true
		c.Ready = func() error {
			if notReady.Load() {
				return errors.New("mail queue: cannot write its database")
			}
			return nil
		}
	})
	w := e.get("/livez")
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Cache-Control", "no-store")
	want(t, e.get("/readyz"), http.StatusOK)
	want(t, e.get("/metrics"), http.StatusNotFound)

	notReady.Store(true)
	w = e.get("/readyz")
	want(t, w, http.StatusServiceUnavailable)
	if got := w.Body.String(); got != "mail queue: cannot write its database\n" {
		t.Errorf("/readyz body = %q, want the check's error", got)
	}
	notReady.Store(false)
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	want(t, e.get("/readyz"), http.StatusServiceUnavailable)
	want(t, e.get("/livez"), http.StatusOK)
}

func TestMetrics_CountsByRoutePattern(t *testing.T) {
	e := newEnv(t)
	e.get("/quotes/1", "Accept", "*/*")
	e.get("/quotes/2", "Accept", "*/*")
	e.get("/quotes/999999", "Accept", "*/*")
	e.get("/no/such/path")
	if got := e.requests("/quotes/{id}", "GET", "200"); got != 2 {
		t.Errorf("requests_total{route=/quotes/{id},code=200} = %v, want 2", got)
	}
	if got := e.requests("/quotes/{id}", "GET", "404"); got != 1 {
		t.Errorf("requests_total{route=/quotes/{id},code=404} = %v, want 1", got)
	}
	body := e.exposition()
	for _, s := range []string{
		`quotesd_web_request_duration_seconds_bucket{method="GET",route="/quotes/{id}"`,
		`quotesd_web_requests_total{code="404",method="GET",route="unmatched"} 1`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("metrics lack %s", s)
		}
	}
	if strings.Contains(body, `route="/quotes/1"`) || strings.Contains(body, "/no/such/path") {
		t.Error("metrics are labelled by raw path")
	}
}

// The first internal error after a restart must show in the rate of 5xx
// answers: each route and method has its code 500 series from the start,
// labelled as requests to it are.
func TestMetrics_EveryRouteHasItsInternalErrorSeriesAtZero(t *testing.T) {
	e := newEnv(t)
	body := e.exposition()
	for _, s := range []string{
		`quotesd_web_requests_total{code="500",method="GET",route="/"} 0`,
		`quotesd_web_requests_total{code="500",method="GET",route="/quotes/{id}"} 0`,
		`quotesd_web_requests_total{code="500",method="GET",route="/static/*"} 0`,
		`quotesd_web_requests_total{code="500",method="GET",route="/api/v1/today"} 0`,
		`quotesd_web_requests_total{code="500",method="DELETE",route="/api/v1/quotes/{id}"} 0`,
		`quotesd_web_requests_total{code="500",method="PUT",route="/api/v1/days/{date}"} 0`,
	} {
		if !strings.Contains(body, s+"\n") {
			t.Errorf("a fresh handler's metrics lack %s", s)
		}
	}
	if n := strings.Count(body, "quotesd_web_requests_total{"); n < 20 {
		t.Errorf("%d series of quotesd_web_requests_total, want one for each route (20 or more)", n)
	}
	if strings.Contains(body, `code="200"`) || strings.Contains(body, "quotesd_web_request_duration_seconds_bucket") {
		t.Errorf("a fresh handler's metrics have other series than code 500:\n%s", body)
	}
	// Requests are labelled with the same route patterns.
	e.get("/quotes/1", "Accept", "*/*")
	e.get("/static/style.css")
	body = e.exposition()
	for _, route := range []string{"/quotes/{id}", "/static/*"} {
		if !strings.Contains(body, `route="`+route+`"} 1`) {
			t.Errorf("no series of route %s counts the request to it:\n%s", route, body)
		}
	}
}

// Any token is a method to net/http; the metrics must not grow a series
// per token a client makes up.
func TestMetrics_CountsUnknownMethodsAsOther(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{"BREW", "WHEN", "X-1"} {
		e.do(m, "/api/v1/today", nil)
	}
	e.do(http.MethodDelete, "/api/v1/today", nil)
	if got := e.requests("unmatched", "other", "405"); got != 3 {
		t.Errorf("requests_total{method=other,code=405} = %v, want 3", got)
	}
	if got := e.requests("unmatched", "DELETE", "405"); got != 1 {
		t.Errorf("requests_total{method=DELETE,code=405} = %v, want 1", got)
	}
	if strings.Contains(e.exposition(), "BREW") {
		t.Error("metrics carry a made-up method as a label")
	}
}

// A reload builds a new handler on the process's registry: its requests
// are counted on in the same series, not lost in collectors no one serves.
func TestMetrics_ANewHandlerOnTheSameRegistryCountsOn(t *testing.T) {
	e := newEnv(t)
	want(t, e.get("/api/v1/today"), http.StatusOK)
	h, err := web.New(web.Config{Library: e.lib, Metrics: e.reg})
	if err != nil {
		t.Fatalf("second handler on the same registry: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/v1/today", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got := e.requests("/api/v1/today", "GET", "200"); got != 2 {
		t.Errorf("requests_total{route=/api/v1/today,code=200} = %v after one request through each handler, want 2", got)
	}
}

func TestAccessLog_OneLinePerRequest(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/today")
	var found []map[string]any
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "request" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d request log lines, want 1", len(found))
	}
	l := found[0]
	if l["method"] != "GET" || l["path"] != "/api/v1/today" || l["status"] != float64(200) ||
		l["bytes"] != float64(w.Body.Len()) || l["client_ip"] != "192.0.2.10" || l["duration"] == nil {
		t.Errorf("access log line = %v", l)
	}
}

func TestAccessLog_CanBeTurnedOff(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.NoAccessLog = true })
	want(t, e.get("/api/v1/today"), http.StatusOK)
	if strings.Contains(e.logs.String(), `"msg":"request"`) {
		t.Errorf("access log written although turned off:\n%s", e.logs.String())
	}
	if e.requests("/api/v1/today", "GET", "200") != 1 {
		t.Error("metrics stopped with the access log")
	}
}

func TestAccessLog_GoesToItsOwnLoggerWhenGiven(t *testing.T) {
	var access bytes.Buffer
	e := newEnv(t, func(c *web.Config) { c.AccessLog = slog.New(slog.NewJSONHandler(&access, nil)) })
	want(t, e.get("/api/v1/today"), http.StatusOK)
	if !strings.Contains(access.String(), `"msg":"request"`) || !strings.Contains(access.String(), `"path":"/api/v1/today"`) {
		t.Errorf("the access logger got %q, want the request's line", access.String())
	}
	if strings.Contains(e.logs.String(), `"msg":"request"`) {
		t.Errorf("the access line also went to the main log:\n%s", e.logs.String())
	}
}

// panicky is a library whose Today panics, as a bug would.
type panicky struct{ quoter.Library }

func (panicky) Today(context.Context, quoter.Date, quoter.Filter) (*quoter.Quote, error) {
	panic("boom")
}

func TestPanics_AreRecoveredAs500(t *testing.T) {
	e := newEnvWith(t, panicky{quotertest.NewLibrary(t)})
	w := e.get("/api/v1/today")
	wantAPIError(t, w, http.StatusInternalServerError, "")
	if strings.Contains(w.Body.String(), "boom") {
		t.Error("panic value leaked to the client")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic not logged with a stack:\n%s", logs)
	}
	want(t, e.get("/api/v1/random"), http.StatusOK) // still serving
}

func TestInternalErrors_HideDetails(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	e := newEnvWith(t, lib)
	_ = lib.Close()
	w := e.get("/api/v1/random")
	e2 := wantAPIError(t, w, http.StatusInternalServerError, "")
	if e2.StatusMessage != "internal error" {
		t.Errorf("message = %q, want the generic one", e2.StatusMessage)
	}
	if !strings.Contains(e.logs.String(), "request failed") {
		t.Error("the internal error was not logged")
	}
}

func TestRateLimit_PerClientIP(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RateLimit = 3; c.RateWindow = time.Hour; c.Ops = true })
	// Without trusted proxies the TCP peer is the client, so a forged
	// X-Forwarded-For changes nothing.
	for _, xff := range []string{"203.0.113.9", "198.51.100.77", "203.0.113.10"} {
		want(t, e.get("/api/v1/today", "X-Forwarded-For", xff), http.StatusOK)
	}
	w := e.get("/api/v1/today", "X-Forwarded-For", "198.51.100.78")
	wantAPIError(t, w, http.StatusTooManyRequests, "")
	if w.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Health checks are never limited.
	want(t, e.get("/livez"), http.StatusOK)
	want(t, e.get("/readyz"), http.StatusOK)
	// Another client has its own budget.
	r := httptest.NewRequest(http.MethodGet, "/api/v1/today", nil)
	r.RemoteAddr = "192.0.2.99:4000"
	other := httptest.NewRecorder()
	e.handler.ServeHTTP(other, r)
	want(t, other, http.StatusOK)
}

func TestRateLimit_TrustsXForwardedForOnlyFromTrustedProxies(t *testing.T) {
	e := newEnv(t, func(c *web.Config) {
		c.RateLimit = 2
		c.RateWindow = time.Hour
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	// Through the trusted proxy (192.0.2.10), clients are told apart by XFF.
	for _, client := range []string{"203.0.113.1", "203.0.113.2"} {
		for range 2 {
			want(t, e.get("/api/v1/today", "X-Forwarded-For", client), http.StatusOK)
		}
	}
	want(t, e.get("/api/v1/today", "X-Forwarded-For", "203.0.113.1"), http.StatusTooManyRequests)
	// A client spoofing its chain still ends at its real address.
	want(t, e.get("/api/v1/today", "X-Forwarded-For", "203.0.113.1, 203.0.113.3"), http.StatusOK)
	// The access log carries the client, not the proxy.
	if !strings.Contains(e.logs.String(), `"client_ip":"203.0.113.2"`) {
		t.Error("access log does not show the client IP from X-Forwarded-For")
	}
}

// getFrom sends GET target through h as if from the TCP peer remote.
func getFrom(h http.Handler, target, remote string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRateLimit_RetryAfterSaysWhenTheNextRequestIsAllowed(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RateLimit = 3; c.RateWindow = time.Hour })
	for range 3 {
		want(t, e.get("/api/v1/today"), http.StatusOK)
	}
	w := e.get("/api/v1/today")
	wantAPIError(t, w, http.StatusTooManyRequests, "")
	// 3 an hour: the next request is due 20 minutes after the first.
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || secs < 1190 || secs > 1200 {
		t.Errorf("Retry-After = %q, want the seconds until the next token, 1200 or just under", w.Header().Get("Retry-After"))
	}
	// A wait under a second is rounded up: "0" would invite a retry too soon.
	e = newEnv(t, func(c *web.Config) { c.RateLimit = 1; c.RateWindow = 900 * time.Millisecond })
	want(t, e.get("/api/v1/today"), http.StatusOK)
	w = e.get("/api/v1/today")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Errorf("over one per 900 ms: %d with Retry-After %q, want 429 with 1", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestRateLimit_AnIPv6ClientIsItsSlash64(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RateLimit = 2; c.RateWindow = time.Hour })
	for range 2 {
		want(t, getFrom(e.handler, "/api/v1/today", "[2001:db8:1:2::1]:4000"), http.StatusOK)
	}
	for _, remote := range []string{"[2001:db8:1:2::2]:4000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:4001", "[2001:db8:1:2::1]:4002"} {
		want(t, getFrom(e.handler, "/api/v1/today", remote), http.StatusTooManyRequests)
	}
	want(t, getFrom(e.handler, "/api/v1/today", "[2001:db8:1:3::1]:4000"), http.StatusOK)
	// An IPv4-mapped peer is the IPv4 client.
	want(t, getFrom(e.handler, "/api/v1/today", "192.0.2.50:4000"), http.StatusOK)
	want(t, getFrom(e.handler, "/api/v1/today", "[::ffff:192.0.2.50]:4000"), http.StatusOK)
	want(t, getFrom(e.handler, "/api/v1/today", "192.0.2.50:4001"), http.StatusTooManyRequests)
}

func TestRateLimit_AnIPv6ClientBehindATrustedProxyIsItsSlash64(t *testing.T) {
	e := newEnv(t, func(c *web.Config) {
		c.RateLimit = 1
		c.RateWindow = time.Hour
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	want(t, e.get("/api/v1/today", "X-Forwarded-For", "2001:db8:1:2::1"), http.StatusOK)
	want(t, e.get("/api/v1/today", "X-Forwarded-For", "2001:db8:1:2::abcd"), http.StatusTooManyRequests)
	want(t, e.get("/api/v1/today", "X-Forwarded-For", "2001:db8:1:3::1"), http.StatusOK)
}

// A reload builds a new Handler; given the same Limiter, it keeps what
// each client has spent, whether the rate changed or not.
func TestRateLimit_AReloadedHandlerKeepsEachClientsSpentBudget(t *testing.T) {
	limiter := limits.NewLimiter(0, 1)
	lib := quotertest.NewLibrary(t)
	reg := prometheus.NewRegistry()
	handler := func(perHour int) http.Handler {
		t.Helper()
		h, err := web.New(web.Config{Library: lib, Metrics: reg, Log: slog.New(slog.DiscardHandler),
			RateLimit: perHour, RateWindow: time.Hour, Limiter: limiter})
		if err != nil {
			t.Fatalf("web.New: %v", err)
		}
		return h
	}
	h := handler(2)
	for range 2 {
		want(t, getFrom(h, "/api/v1/today", "192.0.2.1:4000"), http.StatusOK)
	}
	want(t, getFrom(h, "/api/v1/today", "192.0.2.1:4000"), http.StatusTooManyRequests)
	for _, perHour := range []int{2, 3, 1, 100} {
		h = handler(perHour)
		if w := getFrom(h, "/api/v1/today", "192.0.2.1:4000"); w.Code != http.StatusTooManyRequests {
			t.Errorf("after a reload at %d an hour: %d, want 429 (the client spent its budget)", perHour, w.Code)
		}
	}
	want(t, getFrom(h, "/api/v1/today", "192.0.2.2:4000"), http.StatusOK)
	// Without a limit, the client gets through.
	want(t, getFrom(handler(0), "/api/v1/today", "192.0.2.1:4000"), http.StatusOK)
}

func TestSecurityHeaders_OnEveryResponse(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/", "/nope", "/api/v1/today", "/feed.atom", "/static/style.css", "/metrics",
		"/api/v1/quotes/0", "/" + strings.Repeat("a", 9<<10)} {
		w := e.get(target, "Accept", browserAccept)
		csp := w.Header().Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "style-src 'self'", "img-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%.60s: CSP %q lacks %s", target, csp, d)
			}
		}
		wantHeader(t, w, "X-Content-Type-Options", "nosniff")
		if !strings.HasPrefix(target, "/api/") {
			wantHeader(t, w, "Referrer-Policy", "no-referrer")
		}
	}
}

// exposition is the registry's metrics in the text format, as the
// operations listener serves them.
func (e *testEnv) exposition() string {
	e.t.Helper()
	w := httptest.NewRecorder()
	promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return w.Body.String()
}

// requests reads quotesd_web_requests_total for the given labels.
func (e *testEnv) requests(route, method, code string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "quotesd_web_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["method"] == method && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
