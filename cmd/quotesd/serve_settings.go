package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/logs"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/settings"
)

// serveConfig is serve's own settings; the frontends' are their packages'.
// DB and TZ are the global --db and --tz, which serve also takes from the
// settings file.
type serveConfig struct {
	DB              string
	TZ              string
	LogFormat       string
	LogLevel        string
	StateDir        string
	Config          string
	ShutdownTimeout time.Duration
}

// Declare binds c's fields to serve's own settings on s.
func (c *serveConfig) Declare(s *settings.Set) {
	s.String(&c.DB, "db", defaultDB, dbUsage+"; a missing file is created from the shipped library", settings.Example("mine.db"))
	s.String(&c.TZ, "tz", "", tzUsage, settings.Example("Europe/Paris"))
	s.String(&c.LogFormat, "log-format", "text", "log `format`: text or json", settings.Example("json"))
	s.String(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error", settings.Live, settings.Example("debug"))
	s.String(&c.StateDir, "state-dir", defaultStateDir(), "`dir`ectory for durable state such as the mail queue (created if missing)", settings.Example("/var/lib/quotesd"),
		settings.Computed("$STATE_DIRECTORY (set by systemd's StateDirectory=), else $XDG_STATE_HOME/quotesd, else ~/.local/state/quotesd"))
	s.String(&c.Config, "config", "", "optional settings `file` of 'setting = value' lines, re-read on SIGHUP; the environment and the command line win over it")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM/SIGINT, how long work in flight may take to finish")
}

// Validate checks c, naming the flag at fault.
func (c *serveConfig) Validate() error {
	if c.DB == "" {
		return errors.New("--db (or QUOTESD_DB) is empty: name the library file, e.g. --db quotes.db")
	}
	if _, err := quoter.LoadCalendar(c.TZ); err != nil {
		return fmt.Errorf("--tz: %s", quoter.ErrorMessage(err))
	}
	if _, err := logs.Handler(io.Discard, c.LogFormat, slog.LevelInfo); err != nil {
		return err
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.StateDir == "" {
		return errors.New("--state-dir is empty: name a directory for the mail queue and other state")
	}
	if c.ShutdownTimeout < 0 {
		return fmt.Errorf("invalid --shutdown-timeout %v: want 0 (stop at once) or more", c.ShutdownTimeout)
	}
	return nil
}

// level returns the log level c names (Validate has checked it).
func (c *serveConfig) level() slog.Level {
	l, _ := parseLevel(c.LogLevel)
	return l
}

// parseLevel parses a --log-level value.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
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

// serveSettings is one reading of every serve setting: serve's own and
// each component's, fresh values that nothing else shares. A reload reads
// a new one and swaps it in whole, or keeps the old.
type serveSettings struct {
	set         *settings.Set
	serve       *serveConfig
	configs     []settings.Config // one per components
	printConfig bool              // --print-config: an action, not a setting
	checkConfig bool              // --check-config: an action, not a setting
	sample      bool              // --sample-config: an action, not a setting
}

// declare binds every serve setting, and serve's actions, on s to fresh
// values in ss.
func (ss *serveSettings) declare(s *settings.Set) {
	*ss = serveSettings{serve: &serveConfig{}}
	ss.serve.Declare(s)
	for _, c := range components {
		ss.configs = append(ss.configs, c.declare(s))
	}
	s.FlagSet().BoolVar(&ss.printConfig, "print-config", false, "print the settings in force, each with where it came from (secrets redacted), and exit")
	s.FlagSet().BoolVar(&ss.sample, "sample-config", false, "print a sample settings file: every setting, commented out at its default, with its help; and exit")
	s.FlagSet().BoolVar(&ss.checkConfig, "check-config", false, "check the settings (flags, environment, --config file, secret files) and exit: 0 and \"ok\", or 2 and what is wrong")
}

// serveSet returns every serve setting declared on a fresh Set, with its
// default: for help, the man page and the sample settings file.
func serveSet() *settings.Set {
	s := settings.New("serve")
	(&serveSettings{}).declare(s)
	return s
}

// serveFlags declares serve's flags on fs, to list them, and returns serve.
func serveFlags(fs *flag.FlagSet) runFunc {
	serveSet().FlagSet().VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	return runServe
}

// loadServe reads serve's settings from, weakest first, their defaults,
// the --config file, QUOTESD_* variables and args, then validates all of
// them together: nothing is applied unless everything is valid.
func loadServe(args []string) (*serveSettings, error) {
	ss := &serveSettings{}
	set, err := settings.Load("serve", ss.declare, settings.Sources{Args: args, ConfigSetting: "config"})
	if err != nil {
		var ue *settings.UsageError
		switch {
		case errors.Is(err, flag.ErrHelp):
			return nil, &usageError{help: true}
		case errors.As(err, &ue) && ue.InArgs:
			return nil, flagError("serve", err)
		case errors.As(err, &ue):
			return nil, usagef("%v", err)
		}
		return nil, err
	}
	ss.set = set
	if err := ss.validate(); err != nil {
		return nil, err
	}
	return ss, nil
}

// validate checks every setting, reporting each one at fault.
func (ss *serveSettings) validate() error {
	errs := []error{ss.serve.Validate()}
	for _, c := range ss.configs {
		errs = append(errs, c.Validate())
		if w, ok := c.(*web.Config); ok && w.RateShared && !postgres.IsURL(ss.serve.DB) {
			errs = append(errs, fmt.Errorf("--web-rate-shared needs a PostgreSQL database: --db postgres://... (it is %q), where every replica counts", ss.serve.DB))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// printServeConfig writes the settings in force as a settings file.
func printServeConfig(w io.Writer, ss *serveSettings) error {
	fmt.Fprintf(w, "# quotesd %s serve: the settings in force; a line's comment says where its value came from.\n", build.Version)
	return ss.set.Print(w)
}

// writes reports whether some component will change the library with
// these settings: the library is then opened read-write.
func (ss *serveSettings) writes() bool {
	for i, c := range components {
		if c.writes(ss.configs[i]) {
			return true
		}
	}
	return false
}
