package main

// `quotesd serve`: every enabled frontend in one process, around one quoter
// (the wiring; component.go has the contract a frontend follows,
// serve_settings.go the settings, signals.go SIGHUP and the stop).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quotesd/quotesd"
	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/logs"
	"github.com/quotesd/quotesd/ops/buildinfo"
	opsmetric "github.com/quotesd/quotesd/ops/metric"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	subcommands["serve"] = &subcommand{
		summary: "serve the library over every enabled frontend (QOTD, web, mail, IRC)",
		args:    "[--config FILE] [--print-config | --check-config | --sample-config] [settings]",
		detail: `Every flag below is a setting, read, weakest first, from its default, the
--config file (lines of 'setting = value', the flag's name without dashes),
the environment (QUOTESD_<SETTING>) and the command line. Live settings take
a new value on SIGHUP (systemctl reload); the others need a restart. Secrets
are never flags: each is read from the file its --*-file flag names, or from
its QUOTESD_ variable. contrib/quotesd.conf lists every setting.`,
		flags:   serveFlags,
		ownArgs: true,
	}
}

// newLogger returns the process logger and the level it obeys. When
// journal is set, w goes to journald, and each line starts with its
// priority (logs.JournalHandler).
func newLogger(w io.Writer, format, level string, journal bool) (*slog.Logger, *slog.LevelVar, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	lv := new(slog.LevelVar)
	lv.Set(l)
	handler := logs.Handler
	if journal {
		handler = logs.JournalHandler
	}
	h, err := handler(w, format, lv)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	return slog.New(h), lv, nil
}

// openServeLibrary opens the library file for serve: read-only unless a
// component needs to write. The default --db is the quotes.db shipped in
// the repository, and `quotesd serve` on a fresh clone must not modify a
// tracked file (SQLite would at least rewrite its header and leave -wal and
// -shm files beside it). An operator who enables writes (the web admin
// token) is expected to point --db at their own copy (`quotesd init`).
//
// A postgres:// URL opens the PostgreSQL store instead, shared by every
// replica that names it; its readiness (whether this replica hears the
// database) is what /readyz and the ops metrics ask through healthOf.
func openServeLibrary(path string, write bool) (store, error) {
	return openStore(context.Background(), path, !write)
}

// libraryHealth is the readiness of the library in use beside its
// answers: a PostgreSQL store reports whether it hears the database (see
// postgres.DB.Health); a file always does. A reload swaps the library.
type libraryHealth struct{ cur atomic.Pointer[store] }

// set records db as the library in use; a nil h (a reloader made
// without one) records nothing.
func (h *libraryHealth) set(db store) {
	if h != nil {
		h.cur.Store(&db)
	}
}

func (h *libraryHealth) check() error {
	if p := h.cur.Load(); p != nil {
		if hc, ok := (*p).(interface{ Health() error }); ok {
			return hc.Health()
		}
	}
	return nil
}

// displayDB is --db as logs may show it: a URL without its password.
func displayDB(db string) string {
	if u, err := url.Parse(db); err == nil && postgres.IsURL(db) {
		return u.Redacted()
	}
	return db
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
	ss, err := loadServe(args)
	if err != nil {
		return err
	}
	if len(ss.set.Args()) > 0 {
		return usagef("serve takes no arguments, only flags")
	}
	if ss.printConfig {
		return printServeConfig(g.Stdout, ss)
	}
	if ss.sample {
		return writeSampleConfig(g.Stdout)
	}
	if ss.checkConfig {
		_, err := fmt.Fprintln(g.Stdout, "ok")
		return err
	}
	o := ss.serve
	// serve takes --db and --tz from its settings; what reads them from
	// the globals (the reload, error messages) finds them there too.
	g.DB, g.TZ = o.DB, o.TZ
	out := logs.NewOutput(g.Stderr)
	defer out.Flush()
	// The access log (web.NewAccessHandler) has no prefixes: journald
	// takes its lines at the unit's SyslogLevel=, info by default.
	log, level, err := newLogger(out, o.LogFormat, o.LogLevel, logs.OnJournal(g.Stderr))
	if err != nil {
		return err
	}
	// First, so that even a start that fails says which build it was.
	log.Info("starting", build.LogAttrs()...)
	ah, _ := web.NewAccessHandler(out.Batched(), o.LogFormat, level) // the format is valid: newLogger took it
	accessLog := slog.New(ah)
	setGCTarget()
	cal, err := calendar(g)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	writable := ss.writes()
	// A missing library is created from the shipped one, wherever --db
	// points: a go-installed binary run in a fresh directory, or the
	// systemd unit's QUOTESD_DB inside a state directory that systemd
	// makes only at the first start. (The other commands do this at the
	// default path only, taking a missing file elsewhere for a typo; for
	// serve the path is configuration, and the log names the file.)
	// (A PostgreSQL database is created by its operator, the schema in
	// it by the store.)
	if !postgres.IsURL(g.DB) {
		if created, err := createMissingLibrary(g.DB); err != nil {
			return err
		} else if created {
			log.Info("created the library from the shipped one", "db", g.DB, "bytes", len(quotesd.Library))
		}
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
	log.Info("library open", "db", displayDB(g.DB), "mode", mode)
	health := &libraryHealth{}
	health.set(db)
	var cl *cluster
	if postgres.IsURL(g.DB) {
		if cl, err = openCluster(ctx, g.DB); err != nil {
			return fmt.Errorf("connecting to the database for the leases: %w", err)
		}
		defer cl.Close()
	}

	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildinfo.Register(metrics, build)
	ready := &readiness{}
	ready.Add("library database unreachable", health.check)
	opsmetric.For(metrics, "library").GaugeFunc("connected",
		"1 while the library answers from its store: always for a file; for PostgreSQL, while this replica's listening connection is up (0: serving from memory).",
		func() float64 {
			if health.check() != nil {
				return 0
			}
			return 1
		})
	sockets := reactor.NewSockets(log)
	sup := &reactor.Supervisor{Log: log, ShutdownTimeout: o.ShutdownTimeout}
	running := make([]any, len(components)) // what each started component left running; nil: disabled
	var started []string
	shared := &between{}
	for i, c := range components {
		env := &serveEnv{
			Library:   lib,
			Calendar:  cal,
			Log:       log.With("frontend", c.name),
			AccessLog: accessLog.With("frontend", c.name),
			Listeners: sockets,
			DB:        g.DB,
			StateDir:  o.StateDir,
			Metrics:   metrics,
			Ready:     ready,
			Writable:  writable,
			Cluster:   cl,
			SiteURL:   siteURL(ss.set),
			Between:   shared,
		}
		r, svcs, err := c.start(env, ss.configs[i])
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
		if len(svcs) > 0 {
			running[i] = r
			if !c.auxiliary {
				started = append(started, c.name)
			}
		}
	}
	sockets.CloseUnused()
	if len(started) == 0 {
		return errors.New("nothing to serve: every frontend is disabled (their address flags are empty; mail needs --smtp-domain or --smtp-addr)")
	}

	// The supervisor's context ends only through signalLoop, so that the
	// shutdown is logged (and systemd told) before it starts, whichever of
	// our handler and main's sees a signal first.
	parent := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	sdNotify(log, daemon.SdNotifyReady)
	log.Info("ready", "frontends", strings.Join(started, ","))
	logServing(log, sockets.Bound())
	startWatchdog(ctx, log, lib, sup)

	r := &reloader{g: g, args: args, log: log, level: level, lib: lib, health: health, writable: writable, inForce: ss, running: running}
	served := make(chan struct{})
	defer close(served)
	go r.signalLoop(parent, cancel, sigs, served, o.ShutdownTimeout)
	err = sup.Serve(ctx)
	log.Info("stopped")
	return err
}

// logServing logs, for each socket bound, how to reach what it serves:
// the line a person starting quotesd by hand looks for. The addresses are
// those bound (port 0 resolved, or the socket systemd passed), not those
// asked for; an unspecified address (all interfaces) is shown as loopback,
// which reaches it from this machine.
func logServing(log *slog.Logger, bound []reactor.BoundSocket) {
	for _, b := range bound {
		hostPort := b.Addr.String()
		if ap, err := netip.ParseAddrPort(hostPort); err == nil && ap.Addr().IsUnspecified() {
			lo := netip.IPv6Loopback()
			if ap.Addr().Unmap().Is4() {
				lo = netip.AddrFrom4([4]byte{127, 0, 0, 1})
			}
			hostPort = netip.AddrPortFrom(lo, ap.Port()).String()
		}
		var how string
		switch b.Name {
		case "qotd":
			host, port, _ := net.SplitHostPort(hostPort)
			how = "telnet " + host + " " + port
		case "qotd-udp":
			how = "udp " + hostPort
		case "web":
			how = "http://" + hostPort + "/"
		case "smtp":
			how = "smtp://" + hostPort
		case "ops":
			how = "http://" + hostPort + "/metrics"
		default:
			how = hostPort
		}
		log.Info("serving", "listener", b.Name, "url", how)
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
