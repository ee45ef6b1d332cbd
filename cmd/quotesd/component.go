package main

// How a frontend plugs into `quotesd serve` (the contract; serve_qotd.go is
// a complete example):
//
//   - The frontend package owns a Config value with its defaults as
//     exported constants, a Declare(*settings.Set) method binding each field
//     to a --<name>-* setting (marked settings.Live when a running frontend
//     can take a new value), and Validate() naming the flag at fault.
//     Declaring is the only place a setting is described: the flag, its
//     help, QUOTESD_<FLAG>, the --config line, what SIGHUP applies or only
//     warns about, and --print-config all derive from it.
//   - Add cmd/quotesd/serve_<name>.go whose init function calls register
//     with a frontend[Config, Running]: start binds the sockets with
//     env.Listeners.Listen("<socket name>", cfg.Addr) (the name is what a
//     systemd .socket unit gives as FileDescriptorName) and returns what is
//     running and its services (none when disabled, conventionally by an
//     empty address). An error stops the start (exit 1): say what is wrong
//     with which setting. Services implement Serve(ctx) error: return nil
//     once ctx ends and the work in flight is done; return
//     reactor.Permanent(err) for a failure a restart cannot fix; any other
//     error gets the service restarted. A service that implements
//     fmt.Stringer is logged under that name.
//   - apply gives the running frontend, after SIGHUP, the settings in force:
//     every live setting's new value and every other as at start. It must
//     take all of them or none. inForce returns the settings the running
//     frontend uses: tests check every reload against it.
//   - writes, optional, reports whether the frontend needs to change the
//     library with the settings given (the web admin API when a token is
//     set): the library is opened read-only unless one says so.
//   - Log with env.Log (it carries frontend=<name>).
//   - Hand env.Metrics to the frontend package, which makes its metrics
//     with metric.For(reg, "<name>") (package ops/metric): the registry is
//     the process's one, served by the ops component's listener
//     (serve_ops.go), never by a frontend.
//   - A protocol whose connections carry one short exchange may bind with
//     reactor.ListenOneShot(env.Listeners, name, addr): no TCP keep-alive.
//   - e2e tests: bind your own address to 127.0.0.1:0, turn every other
//     frontend off with offExcept("<name>") (e2e_serve_test.go), and wait
//     for the "listening" log line of your socket name (startServe does).
//     offExcept turns the ops listener off too unless kept ("ops"): its
//     default port would collide between tests run in parallel.

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/reactor"
	"github.com/quotesd/quotesd/settings"
	"github.com/quotesd/quotesd/subscribers"
)

// frontend is one frontend as `quotesd serve` configures it: the Component
// Configurator of this design. C is the frontend package's Config, R what
// start leaves running for apply.
type frontend[C any, R any] struct {
	name    string
	start   func(env *serveEnv, cfg C) (R, []reactor.Service, error)
	apply   func(running R, cfg C) error
	inForce func(running R) C
	writes  func(cfg C) bool
	// auxiliary components serve the process's operators, not the library
	// (the ops listener): alone they are nothing to serve.
	auxiliary bool
}

// configPtr is what a frontend's *Config must be.
type configPtr[C any] interface {
	*C
	settings.Config
}

// register adds f to the components serve runs. Each serve_*.go calls it
// from an init function, so frontends know nothing of each other.
func register[C any, P configPtr[C], R any](f frontend[C, R]) {
	i, _ := slices.BinarySearchFunc(components, f.name, func(c component, name string) int { return strings.Compare(c.name, name) })
	components = slices.Insert(components, i, component{
		name:      f.name,
		auxiliary: f.auxiliary,
		declare: func(s *settings.Set) settings.Config {
			c := P(new(C))
			c.Declare(s)
			return c
		},
		start: func(env *serveEnv, cfg settings.Config) (any, []reactor.Service, error) {
			return f.start(env, *cfg.(P))
		},
		apply: func(running any, cfg settings.Config) error {
			return f.apply(running.(R), *cfg.(P))
		},
		inForce: func(running any) *settings.Set {
			// Declaring binds c's fields and sets them to their defaults;
			// the values in force then replace those.
			s := settings.New(f.name)
			c := P(new(C))
			c.Declare(s)
			*c = f.inForce(running.(R))
			return s
		},
		writes: func(cfg settings.Config) bool {
			return f.writes != nil && f.writes(*cfg.(P))
		},
	})
}

// component is a frontend with its types erased, as serve handles them all.
type component struct {
	name      string
	auxiliary bool
	declare   func(s *settings.Set) settings.Config
	start     func(env *serveEnv, cfg settings.Config) (any, []reactor.Service, error)
	apply     func(running any, cfg settings.Config) error
	inForce   func(running any) *settings.Set // the settings the running component uses
	writes    func(cfg settings.Config) bool
}

// components is filled by the init functions of the serve_*.go files,
// kept sorted by name (register inserts in order), so that serve starts
// them, and lists their settings, in the same order every time.
var components []component

// serveEnv is what every component gets: one library, one calendar, one
// logger (already carrying a frontend attribute), one set of listeners.
type serveEnv struct {
	Library   quoter.Library // what frontends read (a quoter.Quoter) and curate (collections, submissions, curators)
	Calendar  *quoter.Calendar
	Log       *slog.Logger
	AccessLog *slog.Logger // Log's records, batched: for one record per request (see logs.Output)
	Listeners reactor.Listeners
	DB        string               // --db: the library's file, or its PostgreSQL URL (which holds the mail queue too)
	StateDir  string               // --state-dir: where frontends keep durable state (the mail queue, with SQLite)
	Metrics   *prometheus.Registry // the process's one registry, served by the ops listener's /metrics
	Ready     *readiness           // checks /readyz makes beyond the library (serve_ops.go, and --web-ops)
	Writable  bool                 // the library was opened read-write (some component's writes said so)
	Cluster   *cluster             // the replicas sharing a PostgreSQL --db; nil with SQLite (one replica)
	// SiteURL is the site's public URL (--web-base-url) for frontends that
	// link to its pages from elsewhere (the daily posts); "" when unknown.
	SiteURL string
	// Between is what one component gives those started after it (they
	// start in name order); nil in tests that start one component.
	Between *between
}

// between is what components share at start: the mail frontend (smtp)
// owns the subscribers' store, whose links the web frontend (web, started
// after it) serves.
type between struct {
	Subscribers subscribers.Store     // nil: no mail subscriptions
	Requester   subscribers.Requester // the same, for the web's /subscribe form
}
