package main

// `quotesd serve`: every enabled frontend in one process, around one quoter.
//
// How a frontend plugs in (the contract; see serve_qotd.go for a complete one):
//
//   - Add cmd/quotesd/serve_<name>.go with an init function that appends a
//     component{name, flags, start, reload, writes} to components.
//   - flags(fs) registers the frontend's --<name>-* flags on fs, bound to
//     variables in that file. Every flag is also read from QUOTESD_<FLAG>
//     and from the --config file. flags runs again on every SIGHUP (into a
//     fresh FlagSet) so those variables then hold the new settings: only
//     start and reload may read them, never a running service.
//   - start(env) binds the frontend's sockets with env.Listeners.Listen(
//     "<socket name>", addr) (the name is what a systemd .socket unit gives
//     as FileDescriptorName) and returns its services; no services and a nil
//     error when disabled, conventionally by an empty address. An error
//     stops the start (exit 1): say what is wrong with which setting.
//     Services implement Serve(ctx) error: return nil once ctx ends and the
//     work in flight is done; return reactor.Permanent(err) for a failure a
//     restart cannot fix; any other error gets the service restarted.
//     A service that implements fmt.Stringer is logged under that name.
//   - reload(env), optional, applies the variables' new values live after
//     SIGHUP (e.g. rate limits). Things kept from start to reload go in
//     env.Data. start and reload run on one goroutine, never concurrently.
//   - writes(), optional, reports whether the frontend needs to change the
//     library with the settings given (the web admin API when a token is
//     set): the library is opened read-only unless one says so.
//   - Log with env.Log (it carries frontend=<name>).
//   - A protocol whose connections carry one short exchange may bind with
//     reactor.ListenOneShot(env.Listeners, name, addr): no TCP keep-alive.
//   - Hand env.Metrics to the frontend package, which makes its metrics
//     with metric.For(reg, "<name>") (package ops/metric): the registry
//     is the process's one, served by the ops component's listener
//     (serve_ops.go), never by a frontend.
//   - e2e tests: bind your own address to 127.0.0.1:0, turn every other
//     frontend off with offExcept("<name>") (e2e_serve_test.go), and wait
//     for the "listening" log line of your socket name (startServe does).
//     offExcept turns the ops listener off too unless kept ("ops"): its
//     default port would collide between tests run in parallel.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"quotesd"
	"quotesd/quoter"
	"quotesd/quoter/sqlite"
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
	// writes, when not nil, reports whether the component will change the
	// library given its parsed flags; it is asked before the library opens.
	writes func() bool
	// auxiliary components serve the process's operators, not the library
	// (the ops listener): alone they are nothing to serve.
	auxiliary bool
}

// components is filled by the init functions of the serve_*.go files.
var components []component

// serveEnv is what every component gets: one quoter, one calendar, one
// logger (already carrying a frontend attribute), one set of listeners.
type serveEnv struct {
	Quoter    quoter.Quoter
	Calendar  *quoter.Calendar
	Log       *slog.Logger
	AccessLog *slog.Logger // Log's records, batched: for one record per request (see logOutput)
	Listeners reactor.Listeners
	StateDir  string               // --state-dir: where frontends keep durable state (the mail queue)
	Metrics   *prometheus.Registry // the process's one registry, served by the ops listener's /metrics
	Ready     *readiness           // checks /readyz makes beyond the library (serve_ops.go, and --web-ops)
	Writable  bool                 // the library was opened read-write (some component's writes said so)
	Data      any                  // the component's own, kept from start to reload
}

func init() {
	subcommands["serve"] = &subcommand{
		summary: "serve the library over every enabled frontend (QOTD, web, mail, IRC)",
		run:     runServe,
	}
}

// serveOptions are serve's own flags; the frontends' are in their files.
type serveOptions struct {
	logFormat       string
	logLevel        string
	stateDir        string
	config          string
	shutdownTimeout time.Duration
	rest            []string          // arguments after the flags
	values          map[string]string // every flag's value, to tell what a reload changed
}

// newServeFlags returns serve's flag set, every component's flags included.
// Calling it resets the components' flag variables to their defaults.
func newServeFlags(o *serveOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error (live on SIGHUP)")
	fs.StringVar(&o.stateDir, "state-dir", defaultStateDir(), "`dir`ectory for durable state such as the mail queue (created if missing)")
	fs.StringVar(&o.config, "config", "", "optional settings `file` of 'flag = value' lines, re-read on SIGHUP; the environment and the command line win over it")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM/SIGINT, how long work in flight may take to finish")
	for _, c := range sortedComponents() {
		if c.flags != nil {
			c.flags(fs)
		}
	}
	return fs
}

func sortedComponents() []component {
	cs := slices.Clone(components)
	slices.SortFunc(cs, func(a, b component) int { return strings.Compare(a.name, b.name) })
	return cs
}

// defaultStateDir is $STATE_DIRECTORY (set by systemd's StateDirectory=),
// else $XDG_STATE_HOME/quotesd, else ~/.local/state/quotesd.
func defaultStateDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return strings.Split(d, ":")[0]
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "quotesd")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "quotesd")
	}
	return filepath.Join(os.TempDir(), "quotesd-state-"+strconv.Itoa(os.Getuid()))
}

// parseServe parses serve's flags in order of precedence: defaults, then
// the --config file (config is its text; nil means read it from disk), then
// QUOTESD_* variables, then args. It returns the config file's text too, so
// that a reload with a broken file can restore the last good settings.
func parseServe(args []string, config *string) (*serveOptions, string, error) {
	o := &serveOptions{}
	fs := newServeFlags(o)
	if err := parseFlags(fs, args); err != nil {
		return nil, "", err
	}
	o.rest, o.values = fs.Args(), flagValues(fs)
	if o.config == "" {
		return o, "", nil
	}
	path := o.config
	var text string
	if config != nil {
		text = *config
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("reading settings: %w", err)
		}
		text = string(b)
	}
	o = &serveOptions{}
	fs = newServeFlags(o)
	if err := applyConfig(fs, path, text); err != nil {
		return nil, "", err
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, "", err
	}
	o.rest, o.values = fs.Args(), flagValues(fs)
	return o, text, nil
}

func flagValues(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

// restartOnly reports whether the setting name takes effect only at a
// restart: the sockets (every --*-addr) and how serve itself is set up.
// Other settings are applied by their component's reload, if it has one.
func restartOnly(name string) bool {
	switch name {
	case "log-format", "state-dir", "shutdown-timeout", "config":
		return true
	}
	return strings.HasSuffix(name, "-addr")
}

// applyConfig sets flags from the lines of a settings file: "name = value",
// name a serve flag without dashes, value optionally in Go double quotes
// (write "" for an empty value); blank lines and lines starting with # are
// skipped. Errors name the file and line.
func applyConfig(fs *flag.FlagSet, path, text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return usagef("%s:%d: want 'flag = value', got %q", path, n, line)
		}
		if name == "config" || fs.Lookup(name) == nil {
			return usagef("%s:%d: unknown setting %q (settings are serve's flags without dashes, e.g. qotd-mode)", path, n, name)
		}
		if strings.HasPrefix(value, `"`) {
			v, err := strconv.Unquote(value)
			if err != nil {
				return usagef("%s:%d: malformed quoted value %s", path, n, value)
			}
			value = v
		}
		if err := fs.Set(name, value); err != nil {
			return usagef("%s:%d: invalid value %q for %s: %v", path, n, value, name, err)
		}
	}
	return sc.Err()
}

// newLogger returns the process logger and the level it obeys.
func newLogger(w io.Writer, format, level string) (*slog.Logger, *slog.LevelVar, error) {
	lv := new(slog.LevelVar)
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, usagef("invalid --log-level %q: want debug, info, warn or error", level)
	}
	h, err := logHandler(w, format, lv)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(h), lv, nil
}

// logHandler returns a handler writing records to w in format, at the
// level lv.
func logHandler(w io.Writer, format string, lv slog.Leveler) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, usagef("invalid --log-format %q: want text or json", format)
}

// openServeLibrary opens the library file for serve: read-only unless a
// component needs to write. The default --db is the quotes.db shipped in
// the repository, and `quotesd serve` on a fresh clone must not modify a
// tracked file (SQLite would at least rewrite its header and leave -wal and
// -shm files beside it). An operator who enables writes (the web admin
// token) is expected to point --db at their own copy (`quotesd init`).
func openServeLibrary(path string, write bool) (*sqlite.DB, error) {
	if write {
		return sqlite.Open(path)
	}
	return sqlite.Open(path, sqlite.ReadOnly())
}

// exitNow ends the process at a second SIGINT/SIGTERM.
var exitNow = os.Exit

// notifySignals is where serve learns of signals.
var notifySignals = func(c chan<- os.Signal) (stop func()) {
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return func() { signal.Stop(c) }
}

// serveGCPercent is the garbage collector's target while serving, unless
// the operator sets GOGC. The live heap of a serving quotesd is a few
// megabytes (the library stays in SQLite), so at Go's default of 100 the
// collector runs dozens of times a second under HTTP load while saving
// almost no memory. At 400 the heap may grow to about five times the live
// set, a few megabytes more, and the collector runs a quarter as often:
// 1.3 to 2 µs less CPU per /api/v1/today request (about 10%), measured
// with the contenders alternated (BENCHMARKS.md, Web).
const serveGCPercent = 400

// setGCTarget applies serveGCPercent unless GOGC is set.
func setGCTarget() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}

// runServe is the serve subcommand.
func runServe(ctx context.Context, g *globals, args []string) error {
	// Catch signals from the start: SIGHUP's default action would end the
	// process if it came while the listeners are being bound.
	sigs := make(chan os.Signal, 4)
	stopSignals := notifySignals(sigs)
	defer stopSignals()
	o, configText, err := parseServe(args, nil)
	if err != nil {
		return err
	}
	if len(o.rest) > 0 {
		return usagef("serve takes no arguments, only flags")
	}
	out := newLogOutput(g.Stderr)
	defer out.Flush()
	log, level, err := newLogger(out, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	ah, _ := newAccessHandler(out.Batched(), o.logFormat, level) // the format is valid: newLogger took it
	accessLog := slog.New(ah)
	setGCTarget()
	cal, err := calendar(g)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.stateDir, 0o700); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	writable := false
	for _, c := range components {
		if c.writes != nil && c.writes() {
			writable = true
		}
	}
	// A missing library is created from the shipped one, wherever --db
	// points: a go-installed binary run in a fresh directory, or the
	// systemd unit's QUOTESD_DB inside a state directory that systemd
	// makes only at the first start. (The other commands do this at the
	// default path only, taking a missing file elsewhere for a typo; for
	// serve the path is configuration, and the log names the file.)
	if g.DB == "" {
		return usagef("--db (or QUOTESD_DB) is empty: name the library file, e.g. --db quotes.db")
	}
	if created, err := createMissingLibrary(g.DB); err != nil {
		return err
	} else if created {
		log.Info("created the library from the shipped one", "db", g.DB, "bytes", len(quotesd.Library))
	}
	db, err := openServeLibrary(g.DB, writable)
	if err != nil {
		return fmt.Errorf("opening the library: %w", err)
	}
	lib := reactor.NewLibrary(db, db)
	defer func() {
		if err := lib.Close(); err != nil {
			log.Error("closing the library", "err", err)
		}
	}()
	mode := "read-only"
	if writable {
		mode = "read-write"
	}
	log.Info("library open", "db", g.DB, "mode", mode)

	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ready := &readiness{}
	sockets := reactor.NewSockets(log)
	sup := &reactor.Supervisor{Log: log, ShutdownTimeout: o.shutdownTimeout}
	var configured []configuredComponent
	var started []string
	for _, c := range sortedComponents() {
		env := &serveEnv{
			Quoter:    lib,
			Calendar:  cal,
			Log:       log.With("frontend", c.name),
			AccessLog: accessLog.With("frontend", c.name),
			Listeners: sockets,
			StateDir:  o.stateDir,
			Metrics:   metrics,
			Ready:     ready,
			Writable:  writable,
		}
		configured = append(configured, configuredComponent{c, env})
		svcs, err := c.start(env)
		if err != nil {
			sockets.CloseUnused()
			return fmt.Errorf("frontend %s: %w", c.name, err)
		}
		for i, svc := range svcs {
			name := c.name
			if s, ok := svc.(fmt.Stringer); ok {
				name = s.String()
			} else if len(svcs) > 1 {
				name = fmt.Sprintf("%s#%d", c.name, i+1)
			}
			sup.Add(name, svc)
		}
		if len(svcs) > 0 && !c.auxiliary {
			started = append(started, c.name)
		}
	}
	sockets.CloseUnused()
	if len(started) == 0 {
		return errors.New("nothing to serve: every frontend is disabled (their address flags are empty)")
	}

	// The supervisor's context ends only through signalLoop, so that the
	// shutdown is logged (and systemd told) before it starts, whichever of
	// our handler and main's sees a signal first.
	parent := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	sdNotify(log, daemon.SdNotifyReady)
	log.Info("ready", "frontends", strings.Join(started, ","))

	r := &reloader{g: g, args: args, log: log, level: level, lib: lib, writable: writable, configText: configText, values: o.values, components: configured}
	served := make(chan struct{})
	defer close(served)
	go r.signalLoop(parent, cancel, sigs, served, o.shutdownTimeout)
	err = sup.Serve(ctx)
	log.Info("stopped")
	return err
}

// signalLoop handles signals until served is closed: SIGHUP reloads; the
// first SIGINT or SIGTERM (or the end of parent, the caller's context)
// cancels the supervisor's context with cancel, so it stops accepting and
// drains; a second signal exits at once.
func (r *reloader) signalLoop(parent context.Context, cancel context.CancelFunc, sigs <-chan os.Signal, served <-chan struct{}, timeout time.Duration) {
	done := parent.Done()
	stopping, signals := false, 0
	stop := func() {
		if !stopping {
			stopping = true
			done = nil // seen: stop selecting on it
			sdNotify(r.log, daemon.SdNotifyStopping)
			cancel()
		}
	}
	for {
		select {
		case <-served:
			return
		case <-done:
			r.log.Info("shutting down: no new connections; finishing those in flight", "timeout", timeout)
			stop()
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if !stopping {
					r.reload()
				}
				continue
			}
			if signals++; signals > 1 {
				r.log.Warn("second signal: exiting at once", "signal", sig.String())
				exitNow(1)
				return
			}
			if !stopping {
				r.log.Info("shutting down: no new connections; finishing those in flight", "signal", sig.String(), "timeout", timeout)
			}
			stop()
		}
	}
}

// readiness is what /readyz asks beyond the library: a check from each
// component that can be unready while it runs (the mail queue when it
// cannot write its database). Components add theirs at start, before
// anything is served; /readyz (the ops listener's, and the web port's
// with --web-ops) asks them on every request.
type readiness struct{ checks []readyCheck }

type readyCheck struct {
	what  string // said publicly when the check fails (the details are in the logs)
	check func() error
}

// Add registers check; what says publicly what is wrong when it fails.
func (r *readiness) Add(what string, check func() error) {
	r.checks = append(r.checks, readyCheck{what, check})
}

// Err returns an error saying what is not ready, or nil. /readyz is
// public: the error says what, not why (paths, causes), which the failing
// component logs.
func (r *readiness) Err() error {
	for _, c := range r.checks {
		if c.check() != nil {
			return errors.New(c.what)
		}
	}
	return nil
}

// sdNotify tells systemd about a state change; without NOTIFY_SOCKET it
// does nothing.
func sdNotify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// reloader applies SIGHUP: re-read the settings, set the log level, reopen
// the library, and let each component apply its live settings.
type reloader struct {
	g          *globals
	args       []string
	log        *slog.Logger
	level      *slog.LevelVar
	lib        *reactor.Library
	writable   bool
	configText string            // of the last good parse
	values     map[string]string // the settings in force (restart-only ones as at start)
	components []configuredComponent
}

// configuredComponent is a component with the env its start was given.
type configuredComponent struct {
	component
	env *serveEnv
}

func (r *reloader) reload() {
	sdNotify(r.log, daemon.SdNotifyReloading)
	defer sdNotify(r.log, daemon.SdNotifyReady)
	r.log.Info("reloading settings and reopening the library")
	o, text, err := parseServe(r.args, nil)
	if err != nil {
		r.log.Error("reload: keeping the current settings", "err", err)
		// Parsing wrote some flag variables before failing; restore them.
		if _, _, err := parseServe(r.args, &r.configText); err != nil {
			r.log.Error("reload: restoring the previous settings", "err", err)
		}
	} else {
		r.configText = text
		for name, v := range o.values {
			if old := r.values[name]; old != v && restartOnly(name) {
				r.log.Warn("reload: this setting changes only at a restart", "setting", name, "in_force", old, "new", v)
			}
		}
		var lv slog.LevelVar
		if err := lv.UnmarshalText([]byte(o.logLevel)); err != nil {
			r.log.Error("reload: invalid log level; keeping the current one", "level", o.logLevel)
		} else {
			r.level.Set(lv.Level())
		}
	}
	if db, err := openServeLibrary(r.g.DB, r.writable); err != nil {
		r.log.Error("reload: cannot reopen the library; keeping the open one", "db", r.g.DB, "err", err)
	} else if err := r.lib.Swap(db, db); err != nil {
		r.log.Warn("reload: closing the previous library", "err", err)
	}
	for _, c := range r.components {
		if c.reload == nil {
			continue
		}
		if err := c.reload(c.env); err != nil {
			r.log.Error("reload failed", "frontend", c.name, "err", err)
		}
	}
	r.log.Info("reloaded", "level", r.level.Level().String())
}
