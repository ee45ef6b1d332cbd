package main

import (
	"flag"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"quotesd/quoter"
	"quotesd/reactor"
)

// component is one frontend as `quotesd serve` configures it: the Component
// Configurator of this design. Each frontend lives in its own file
// (serve_qotd.go, serve_web.go, ...) and appends itself to components in an
// init function, so frontends know nothing of each other.
type component struct {
	name string
	// flags registers the component's --<name>-* flags on fs, keeping their
	// values in the component's own file.
	flags func(fs *flag.FlagSet)
	// start binds the component's listeners through env.Listeners and returns
	// the services to run; none when the component is disabled (for example
	// its address flag is empty). An error here stops the whole start.
	start func(env *serveEnv) ([]reactor.Service, error)
	// reload, when not nil, applies settings that may change live (rate
	// limits, modes, log level) after SIGHUP has re-read the configuration.
	reload func(env *serveEnv) error
}

// components is filled by the init functions of the serve_*.go files.
var components []component

// serveEnv is what every component gets: one quoter, one calendar, one
// logger (already carrying a frontend attribute), one set of listeners.
type serveEnv struct {
	Quoter    quoter.Quoter
	Calendar  *quoter.Calendar
	Log       *slog.Logger
	Listeners reactor.Listeners
	StateDir  string               // --state-dir: where frontends keep durable state (the mail queue)
	Metrics   *prometheus.Registry // one registry, served by the web frontend's /metrics
}
