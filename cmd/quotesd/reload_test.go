package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/reactor"
	"github.com/quotesd/quotesd/settings"
)

// reloadHarness is one component started in-process as serve starts it,
// with a reloader over a settings file the test rewrites.
type reloadHarness struct {
	t      *testing.T
	config string   // the --config file
	start  []string // its lines at start
	logs   *logBuffer
	r      *reloader
	index  int // of the component in components
}

// startForReload starts the component name alone, its sockets on
// loopback, with the lines of a settings file (a flag would win over any
// change to the file).
func startForReload(t *testing.T, name string, lines ...string) *reloadHarness {
	t.Helper()
	h := &reloadHarness{t: t, config: filepath.Join(t.TempDir(), "quotesd.conf"), start: lines, logs: &logBuffer{}, index: componentIndex(t, name)}
	if err := os.WriteFile(h.config, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// offExcept's flags turn the other components off for good.
	args := append([]string{"--config", h.config, "--state-dir", t.TempDir()}, offExcept(name)...)
	ss, err := loadServe(args)
	if err != nil {
		t.Fatal(err)
	}
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	q, err := openServeLibrary(db, ss.writes())
	if err != nil {
		t.Fatal(err)
	}
	lib := reactor.NewLibrary(q, q)
	t.Cleanup(func() { lib.Close() })
	log, level, err := newLogger(h.logs, "json", "info", false)
	if err != nil {
		t.Fatal(err)
	}
	env := &serveEnv{
		Library: lib, Calendar: &quoter.Calendar{Location: time.UTC}, Log: log, AccessLog: log,
		Listeners: reactor.NewSockets(log), StateDir: ss.serve.StateDir, Metrics: prometheus.NewRegistry(), Ready: &readiness{},
		Writable: ss.writes(),
	}
	c := components[h.index]
	running, svcs, err := c.start(env, ss.configs[h.index])
	if err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	if len(svcs) == 0 {
		t.Fatalf("%s did not start with %q", name, args)
	}
	t.Cleanup(func() {
		for _, svc := range svcs {
			if c, ok := svc.(interface{ Close() error }); ok {
				c.Close()
			}
		}
	})
	h.r = &reloader{g: &globals{DB: db}, args: args, log: log, level: level, lib: lib, writable: ss.writes(), inForce: ss, running: make([]any, len(components))}
	h.r.running[h.index] = running
	return h
}

// reload writes the start's lines and then lines (which win) to the
// settings file, reloads, and returns the log records of the reload.
func (h *reloadHarness) reload(lines ...string) []map[string]any {
	h.t.Helper()
	lines = append(append([]string{}, h.start...), lines...)
	if err := os.WriteFile(h.config, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		h.t.Fatal(err)
	}
	before := len(h.logs.String())
	h.r.reloadSettings()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(h.logs.String()[before:]))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			h.t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// inForce returns the value of the setting name that the running
// component uses.
func (h *reloadHarness) inForce(name string) string {
	c := components[h.index]
	return c.inForce(h.r.running[h.index]).Lookup(name).Value()
}

// changedValue returns a valid value for st other than its current one,
// and the settings file lines that set it (with any companion a valid
// change needs); ok false if the test cannot derive one.
func changedValue(t *testing.T, st *settings.Setting) (value string, lines []string, ok bool) {
	dir := t.TempDir()
	line := func(name, v string) string { return name + " = " + strconv.Quote(v) }
	switch {
	case strings.HasSuffix(st.Name, "-file") && st.Kind() == "string":
		// A secret's file: the secret changes with it.
		path := filepath.Join(dir, "secret")
		if err := os.WriteFile(path, []byte("s3cret-"+st.Name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path, []string{line(st.Name, path)}, true
	case st.Name == "smtp-tls-cert" || st.Name == "smtp-tls-key":
		c := smtptest.WriteSelfSigned(t, dir, 7)
		v := map[string]string{"smtp-tls-cert": c.Cert, "smtp-tls-key": c.Key}
		return v[st.Name], []string{line("smtp-tls-cert", c.Cert), line("smtp-tls-key", c.Key)}, true
	case st.Name == "irc-sasl-user":
		path := filepath.Join(dir, "sasl")
		if err := os.WriteFile(path, []byte("pw\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return st.Example, []string{line(st.Name, st.Example), line("irc-sasl-password-file", path)}, true
	case st.Example != "":
		return st.Example, []string{line(st.Name, st.Example)}, true
	}
	cur := st.Value()
	switch st.Kind() {
	case "bool":
		b, _ := strconv.ParseBool(cur)
		value = strconv.FormatBool(!b)
	case "int":
		n, _ := strconv.ParseInt(cur, 10, 64)
		value = strconv.FormatInt(n+1, 10)
	case "float":
		f, _ := strconv.ParseFloat(cur, 64)
		value = strconv.FormatFloat(f+1, 'g', -1, 64)
	case "duration":
		d, _ := time.ParseDuration(cur)
		value = (d + time.Second).String()
	default:
		return "", nil, false
	}
	return value, []string{line(st.Name, value)}, true
}

// startSettings are what each component needs to start in the reload
// test, as lines of a settings file.
var startSettings = map[string][]string{
	"qotd":   {`qotd-addr = "127.0.0.1:0"`},
	"web":    {`web-addr = "127.0.0.1:0"`, `web-admin-token-file = "testdata/admin-token"`},
	"smtp":   {`smtp-addr = "127.0.0.1:0"`},
	"finger": {`finger-addr = "127.0.0.1:0"`},
	"irc":    {`irc-server = "127.0.0.1:1"`, `irc-daily = "06:00"`},
	"ops":    {`ops-addr = "127.0.0.1:0"`},
	"xmpp":   {`xmpp-jid = "bot@localhost"`, `xmpp-password-file = "testdata/xmpp-password"`, `xmpp-server = "127.0.0.1:1"`, `xmpp-daily = "06:00"`},
}

// Every setting of every frontend, changed alone in the settings file, is
// either applied by SIGHUP (the running frontend then uses the new value)
// or logged at WARN as needing a restart (and the value in force stays):
// never silently ignored. The list is the declarations, not a hand list.
func TestReload_EverySettingIsAppliedOrNeedsARestart(t *testing.T) {
	for _, c := range components {
		t.Run(c.name, func(t *testing.T) {
			lines, ok := startSettings[c.name]
			if !ok {
				t.Fatalf("no start settings for the component %s: add them to startSettings", c.name)
			}
			h := startForReload(t, c.name, lines...)
			for _, st := range h.r.inForce.set.Settings() {
				if componentOf(st.Name) != c.name || st.Secret {
					continue // a secret changes through its -file setting
				}
				t.Run(st.Name, func(t *testing.T) {
					before := h.inForce(st.Name)
					value, lines, ok := changedValue(t, st)
					if !ok {
						t.Fatalf("cannot derive a new value for --%s: declare it with settings.Example", st.Name)
					}
					recs := h.reload(lines...)
					defer h.reload() // back to the start's settings
					if why, ok := refusedOnAFile[st.Name]; ok {
						if !refused(recs, why) {
							t.Fatalf("--%s on a library file: want the reload refused because it %s (records %v)", st.Name, why, recs)
						}
						if got := h.inForce(st.Name); got != before {
							t.Errorf("--%s: the frontend uses %q after a refused reload, want %q as at start", st.Name, got, before)
						}
						return
					}
					if msg := findSetting(recs, st.Name); st.Live {
						if msg != "reload: applied" {
							t.Fatalf("live --%s: log %q, want \"reload: applied\" (records %v)", st.Name, msg, recs)
						}
						if secret := strings.TrimSuffix(st.Name, "-file"); secret != st.Name {
							if got, want := h.inForce(secret), "s3cret-"+st.Name; got != want {
								t.Errorf("live --%s: the frontend's secret is %q, want the new file's", st.Name, got)
							}
							return
						}
						if got := h.inForce(st.Name); got != normalised(st, value) {
							t.Errorf("live --%s: the frontend uses %q, want the new %q", st.Name, got, value)
						}
					} else {
						if msg != "reload: this setting needs a restart; the value in force stays" || levelOf(recs, st.Name) != "WARN" {
							t.Fatalf("restart-only --%s: log %q at %s, want the WARN that it needs a restart (records %v)", st.Name, msg, levelOf(recs, st.Name), recs)
						}
						if got := h.inForce(st.Name); got != before {
							t.Errorf("restart-only --%s: the frontend uses %q after the reload, want %q as at start", st.Name, got, before)
						}
					}
				})
			}
		})
	}
}

// normalised is value as the setting st prints it back.
func normalised(st *settings.Setting, value string) string {
	s := settings.New("n")
	var d time.Duration
	switch st.Kind() {
	case "duration":
		s.Duration(&d, "x", 0, "")
		if err := s.Set("x", value, settings.FromFlag, ""); err == nil {
			return s.Lookup("x").Value()
		}
	}
	return value
}

// findSetting returns the message of the reload record about the setting
// name.
// refusedOnAFile are the settings whose new value the reload test's
// library, a file, refuses: a reload that sets one is refused whole, with
// the reason, as serve would refuse to start with it.
var refusedOnAFile = map[string]string{
	"web-rate-shared": "needs a PostgreSQL database",
}

// refused reports whether recs hold the refusal of a reload whose error
// says why.
func refused(recs []map[string]any, why string) bool {
	for _, r := range recs {
		if r["level"] == "ERROR" && strings.HasPrefix(fmt.Sprint(r["msg"]), "reload refused") && strings.Contains(fmt.Sprint(r["err"]), why) {
			return true
		}
	}
	return false
}

func findSetting(recs []map[string]any, name string) string {
	for _, r := range recs {
		if r["setting"] == name {
			return fmt.Sprint(r["msg"])
		}
	}
	return ""
}

func levelOf(recs []map[string]any, name string) string {
	for _, r := range recs {
		if r["setting"] == name {
			return fmt.Sprint(r["level"])
		}
	}
	return ""
}

// A reload with one invalid setting applies none of the others.
func TestReload_OneBadSettingRefusesTheWholeReload(t *testing.T) {
	h := startForReload(t, "qotd", `qotd-addr = "127.0.0.1:0"`)
	recs := h.reload(`qotd-mode = "random"`, `qotd-max-conns = "-5"`)
	if h.inForce("qotd-mode") != "daily" {
		t.Errorf("qotd-mode %q after a refused reload, want daily still", h.inForce("qotd-mode"))
	}
	var refused bool
	for _, r := range recs {
		if strings.HasPrefix(fmt.Sprint(r["msg"]), "reload refused") && strings.Contains(fmt.Sprint(r["err"]), "--qotd-max-conns -5") {
			refused = true
		}
	}
	if !refused {
		t.Errorf("no refusal naming --qotd-max-conns logged: %v", recs)
	}
	// Once fixed, the same change applies.
	h.reload(`qotd-mode = "random"`)
	if h.inForce("qotd-mode") != "random" {
		t.Errorf("qotd-mode %q after a good reload, want random", h.inForce("qotd-mode"))
	}
}

// The log level is serve's own live setting; its format is not.
func TestReload_ServeOwnSettings(t *testing.T) {
	h := startForReload(t, "qotd", `qotd-addr = "127.0.0.1:0"`)
	recs := h.reload(`log-level = "debug"`, `log-format = "json"`)
	if h.r.level.Level() != slog.LevelDebug {
		t.Errorf("level %v after the reload, want debug", h.r.level.Level())
	}
	if findSetting(recs, "log-level") != "reload: applied" || levelOf(recs, "log-format") != "WARN" {
		t.Errorf("records %v: want log-level applied and a WARN for log-format", recs)
	}
}
