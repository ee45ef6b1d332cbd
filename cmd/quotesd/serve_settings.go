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

	"quotesd/logs"
	"quotesd/settings"
)

// serveConfig is serve's own settings; the frontends' are their packages'.
type serveConfig struct {
	LogFormat       string
	LogLevel        string
	StateDir        string
	Config          string
	ShutdownTimeout time.Duration
}

// Declare binds c's fields to serve's own settings on s.
func (c *serveConfig) Declare(s *settings.Set) {
	s.String(&c.LogFormat, "log-format", "text", "log `format`: text or json", settings.Example("json"))
	s.String(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error", settings.Live, settings.Example("debug"))
	s.String(&c.StateDir, "state-dir", defaultStateDir(), "`dir`ectory for durable state such as the mail queue (created if missing)", settings.Example("/var/lib/quotesd"))
	s.String(&c.Config, "config", "", "optional settings `file` of 'setting = value' lines, re-read on SIGHUP; the environment and the command line win over it")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM/SIGINT, how long work in flight may take to finish")
}

// Validate checks c, naming the flag at fault.
func (c *serveConfig) Validate() error {
	if _, err := logs.Handler(io.Discard, c.LogFormat, slog.LevelInfo); err != nil {
		return usagef("%v", err)
	}
	var lv slog.LevelVar
	if err := lv.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return usagef("invalid --log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.StateDir == "" {
		return usagef("--state-dir is empty: name a directory for the mail queue and other state")
	}
	if c.ShutdownTimeout < 0 {
		return usagef("invalid --shutdown-timeout %v: want 0 (stop at once) or more", c.ShutdownTimeout)
	}
	return nil
}

// level returns the log level c names (Validate has checked it).
func (c *serveConfig) level() slog.Level {
	var lv slog.LevelVar
	lv.UnmarshalText([]byte(c.LogLevel))
	return lv.Level()
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
	configs     []settings.Config // one per sortedComponents()
	printConfig bool              // --print-config: an action, not a setting
}

// loadServe reads serve's settings from, weakest first, their defaults,
// the --config file, QUOTESD_* variables and args, then validates all of
// them together: nothing is applied unless everything is valid.
func loadServe(args []string) (*serveSettings, error) {
	var ss *serveSettings
	set, err := settings.Load("serve", func(s *settings.Set) {
		ss = &serveSettings{serve: &serveConfig{}}
		ss.serve.Declare(s)
		for _, c := range sortedComponents() {
			ss.configs = append(ss.configs, c.declare(s))
		}
		s.FlagSet().BoolVar(&ss.printConfig, "print-config", false, "print the settings in force, each with where it came from (secrets redacted), and exit")
	}, settings.Sources{Args: args, ConfigSetting: "config"})
	if err != nil {
		var ue *settings.UsageError
		switch {
		case errors.Is(err, flag.ErrHelp):
			return nil, &usageError{msg: fmt.Sprintf("usage of serve:\n%s", serveUsage()), help: true}
		case errors.As(err, &ue) && ue.InArgs:
			return nil, usagef("%v\nusage of serve:\n%s", err, serveUsage())
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
	}
	if err := errors.Join(errs...); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return usagef("%v", err)
	}
	return nil
}

// serveUsage lists serve's flags.
func serveUsage() string {
	s := settings.New("serve")
	(&serveConfig{}).Declare(s)
	for _, c := range sortedComponents() {
		c.declare(s)
	}
	return flagUsage(s.FlagSet())
}

// printServeConfig writes the settings in force as a settings file.
func printServeConfig(w io.Writer, g *globals, ss *serveSettings) error {
	fmt.Fprintf(w, "# quotesd %s serve: the settings in force; a line's comment says where its value came from.\n", build.Version)
	fmt.Fprintf(w, "# global flags: --db %q --tz %q\n", g.DB, g.TZ)
	return ss.set.Print(w)
}

// writes reports whether some component will change the library with
// these settings: the library is then opened read-write.
func (ss *serveSettings) writes() bool {
	for i, c := range sortedComponents() {
		if c.writes(ss.configs[i]) {
			return true
		}
	}
	return false
}
