// Package ops serves quotesd's operations endpoints on a listener of their
// own, apart from the frontends that serve the public: Prometheus metrics
// at /metrics, liveness at /livez, readiness at /readyz and, when turned
// on, Go's profiler under /debug/pprof/.
//
// They are apart so that the public never reaches them (quotesd binds
// them to loopback by default, and a profile or a heap dump is no thing to
// offer the internet), and so that a process serving no web frontend
// (QOTD, mail and IRC only) still has its metrics and health checks.
//
// Importing this package imports net/http/pprof, which also registers its
// handlers on http.DefaultServeMux; quotesd never serves that mux.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quotesd/quotesd/ops/metric"
	"github.com/quotesd/quotesd/quoter"
)

// Config is what the operations endpoints report on.
type Config struct {
	// Metrics is the process's one registry, served at /metrics; nil
	// serves an empty one.
	Metrics *prometheus.Registry
	// Library is asked by /readyz; required.
	Library quoter.Quoter
	// Ready, when not nil, is asked by /readyz after the library: an
	// error (a frontend's, such as a mail queue that cannot write its
	// database) makes /readyz answer 503 with the error's text.
	Ready func() error
	// Pprof serves Go's profiler under /debug/pprof/; see SetPprof.
	Pprof bool
	// Log gets the errors of collectors that fail; nil means slog.Default().
	Log *slog.Logger
}

// Handler serves the operations endpoints. Every other path is 404.
type Handler struct {
	mux   *http.ServeMux
	pprof atomic.Bool
}

// NewHandler returns the handler of the operations endpoints.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Library == nil {
		return nil, errors.New("ops: Config.Library is nil")
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h := &Handler{mux: http.NewServeMux()}
	h.pprof.Store(cfg.Pprof)
	// A collector that fails is logged and the others are served:
	// promhttp's default would answer 500 with the collectors' error text.
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slogPromLogger{log}, ErrorHandling: promhttp.ContinueOnError, Registry: reg,
	}))
	h.mux.HandleFunc("GET /livez", Livez)
	h.mux.Handle("GET /readyz", Readyz(cfg.Library, cfg.Ready, log))
	if cfg.Metrics != nil {
		// For alerts: Prometheus scrapes /metrics, not /readyz.
		metric.For(cfg.Metrics, "ops").GaugeFunc("ready",
			"1 when /readyz answers 200 (the library answers and the mail queue can write), else 0; checked at each scrape.",
			func() float64 {
				if checkReady(context.Background(), cfg.Library, cfg.Ready, log) != nil {
					return 0
				}
				return 1
			})
	}
	h.mux.Handle("/debug/pprof/", h.whenPprof(pprofMux()))
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// SetPprof turns the profiler's endpoints on or off, for requests that
// start from now on (a reload). Off, they answer 404 as if they did not
// exist: a profile costs CPU while it runs, and a heap dump shows what the
// process holds, so they are there only while someone asked for them.
func (h *Handler) SetPprof(on bool) { h.pprof.Store(on) }

func (h *Handler) whenPprof(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.pprof.Load() {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pprofMux routes /debug/pprof/ as importing net/http/pprof routes
// http.DefaultServeMux; Index serves the named profiles (heap, goroutine,
// allocs, block, mutex, threadcreate) under /debug/pprof/<name>.
func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}

// Livez says the process is up and serving HTTP; nothing else.
func Livez(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyTimeout bounds the library's answer to /readyz.
const readyTimeout = 2 * time.Second

// Readyz returns the readiness check: it looks up quote 1 in q, a
// primary-key read that reaches the database (counts may be served from a
// cache), within readyTimeout; "no such quote" is an answer too, so it
// means ready. Then it asks ready, when not nil, about the frontends. It
// answers 200 "ok" or 503 saying what is not ready; the details (paths,
// causes) go to log, since the web frontend may serve this publicly.
func Readyz(q quoter.Quoter, ready func() error, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := checkReady(r.Context(), q, ready, log); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

// errLibraryUnavailable is what /readyz says of a library that does not
// answer; the cause goes to the log.
var errLibraryUnavailable = errors.New("library unavailable")

// checkReady is the readiness check of Readyz and of the ready gauge: nil
// when ready, else an error whose text may be shown to anyone.
func checkReady(ctx context.Context, q quoter.Quoter, ready func() error, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if _, err := q.Quote(ctx, 1); err != nil && quoter.ErrorCode(err) != quoter.ENOTFOUND {
		log.Warn("readiness check failed", "err", err)
		return errLibraryUnavailable
	}
	if ready != nil {
		return ready()
	}
	return nil
}

// slogPromLogger sends promhttp's error log to slog, as text: promhttp
// passes errors, which a JSON handler would write as {}.
type slogPromLogger struct{ log *slog.Logger }

func (l slogPromLogger) Println(v ...any) {
	l.log.Error("metrics", "err", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
