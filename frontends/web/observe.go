package web

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/ops/metric"
	"github.com/quotesd/quotesd/quoter"
)

// httpMetrics are the web frontend's Prometheus collectors. Routes are
// labelled by chi's route pattern ("/quotes/{id}"), never by the raw path,
// so a crawler walking ids cannot blow up the number of series.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// children holds the vectors' children per label set, looked up once:
	// the vectors' own lookup hashes every label value on every request.
	// The map is never changed once stored (a new label set stores a
	// copy), so requests read it without a lock.
	children atomic.Pointer[map[metricKey]metricChildren]
	mu       sync.Mutex // held while adding a label set
}

type metricKey struct {
	route, method string
	code          int
}

type metricChildren struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts one request and its duration.
func (m *httpMetrics) observe(route, method string, code int, d time.Duration) {
	k := metricKey{route, methodLabel(method), code}
	c, ok := (*m.children.Load())[k]
	if !ok {
		c = m.add(k)
	}
	c.requests.Inc()
	c.duration.Observe(d.Seconds())
}

// methodLabel is the method label of a request: its method if it is one
// of HTTP's own, else "other". Any token is a method to net/http, and a
// label per token would let a client grow the series without end.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// add returns the children for k, adding them to the map if need be.
func (m *httpMetrics) add(k metricKey) metricChildren {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.children.Load()
	if c, ok := old[k]; ok {
		return c
	}
	c := metricChildren{
		requests: m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.code)),
		duration: m.duration.WithLabelValues(k.route, k.method),
	}
	next := make(map[metricKey]metricChildren, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = c
	m.children.Store(&next)
	return c
}

// knownRequests are the series of quotesd_web_requests_total made at zero
// with the handler: code 500 for each route and method of router, so that
// the first internal error after a restart shows in the rate of 5xx
// answers that operators alert on. Other codes appear with their first
// request: every route, method and status in advance would be hundreds of
// series, most never used, and no alert depends on the first 200 or 404
// (nor on the first 429 of a flood, which lasts). The duration histogram
// makes no series in advance either: its quantiles need requests.
func knownRequests(router chi.Routes) metric.Known {
	var known metric.Known
	_ = chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		known = append(known, []string{route, method, strconv.Itoa(http.StatusInternalServerError)})
		return nil
	})
	return known
}

func newHTTPMetrics(reg prometheus.Registerer, known metric.Known) *httpMetrics {
	r := metric.For(reg, "web")
	m := &httpMetrics{
		requests: r.CounterVecKnown("requests_total", "HTTP requests answered, by route pattern, method and status code.", known, "route", "method", "code"),
		duration: r.HistogramVec("request_duration_seconds", "Time to answer HTTP requests, by route pattern and method.",
			[]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, "route", "method"),
	}
	m.children.Store(&map[metricKey]metricChildren{})
	return m
}

// observe writes the access log line and the metrics of every request.
//
// The log record is handed to the handler directly rather than through
// Logger.LogAttrs: that would walk the stack for the caller's PC on every
// request, which the access log never shows, and read the clock once more.
func (h *Handler) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(ww, r)
		end := time.Now()
		d := end.Sub(start)
		status := ww.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if ps := rc.RoutePatterns; len(ps) == 1 {
				route = ps[0] // one tree: the common case, without building a string
			} else if p := rc.RoutePattern(); p != "" {
				route = p
			}
		}
		h.metrics.observe(route, r.Method, status, d)
		if ctx := r.Context(); h.access && h.alog.Enabled(ctx, slog.LevelInfo) {
			a := Access{
				Time: end, Method: r.Method, Path: r.URL.Path, Status: status,
				Bytes: ww.bytes, Duration: d, ClientIP: h.clientIP(r),
			}
			if h.afast != nil {
				_ = h.afast.HandleAccess(ctx, a)
			} else {
				_ = h.alog.Handler().Handle(ctx, a.Record())
			}
		}
	})
}

// statusWriter remembers the status and the body bytes of a response for
// the access log and the metrics. It is chi's WrapResponseWriter cut to
// what observe reads: one small allocation per request instead of chi's
// writer and the interface variants it builds.
type statusWriter struct {
	http.ResponseWriter
	status int // the first final status written; 0 until then
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush passes flushes through (promhttp and http.ResponseController use it).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanics turns a panic in a handler into a logged stack trace and a
// 500, so one bad request cannot take the whole service down.
func (h *Handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared as a value by net/http too
				panic(v) // net/http's way to abort a response on purpose
			}
			h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			h.fail(w, r, quoter.Internal("handler panicked", nil))
		}()
		next.ServeHTTP(w, r)
	})
}
