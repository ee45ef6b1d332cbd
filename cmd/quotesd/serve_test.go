package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/logs/logstest"

	"github.com/quotesd/quotesd/frontends/qotd"
	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/quoter/sqlite"
	"github.com/quotesd/quotesd/reactor"
)

func TestServeSettings_PrecedenceIsFileThenEnvThenCommandLine(t *testing.T) {
	config := filepath.Join(t.TempDir(), "quotesd.conf")
	text := "# comment\n\nlog-level = warn\nlog-format = json\nqotd-mode = random\nqotd-addr = \"\"\n"
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QUOTESD_LOG_FORMAT", "text")
	ss, err := loadServe([]string{"--config", config, "--log-level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if ss.serve.LogLevel != "debug" {
		t.Errorf("log-level = %q, want the command line's debug", ss.serve.LogLevel)
	}
	if ss.serve.LogFormat != "text" {
		t.Errorf("log-format = %q, want the environment's text", ss.serve.LogFormat)
	}
	q := ss.configs[componentIndex(t, "qotd")].(*qotd.Config)
	if q.Mode != qotd.Random {
		t.Errorf("qotd-mode = %q, want the file's random", q.Mode)
	}
	if q.Addr != "" {
		t.Errorf(`qotd-addr = %q, want "" (quoted empty value in the file)`, q.Addr)
	}
}

// componentIndex is the place of the component name in components.
func componentIndex(t *testing.T, name string) int {
	t.Helper()
	for i, c := range components {
		if c.name == name {
			return i
		}
	}
	t.Fatalf("no component %s", name)
	return -1
}

func TestServeSettings_FileErrorsNameFileAndLine(t *testing.T) {
	tests := []struct{ text, want string }{
		{"qotd-mode daily\n", ":1: want 'setting = value'"},
		{"\nno-such-flag = 1\n", `:2: unknown setting "no-such-flag"`},
		{"config = other.conf\n", `:1: unknown setting "config"`},
		{"qotd-max-conns = many\n", `:1: invalid value "many" for qotd-max-conns`},
		{"qotd-addr = \"unterminated\n", ":1: malformed quoted value"},
		{"web-admin-token = hunter2\n", ":1: invalid value \"hunter2\" for web-admin-token: web-admin-token is a secret"},
	}
	for _, tt := range tests {
		config := filepath.Join(t.TempDir(), "bad.conf")
		if err := os.WriteFile(config, []byte(tt.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := loadServe([]string{"--config", config})
		if err == nil || !strings.Contains(err.Error(), config+tt.want) {
			t.Errorf("settings %q: err = %v, want one containing %q", tt.text, err, config+tt.want)
		}
	}
}

func TestServeSettings_MissingConfigFileIsAnError(t *testing.T) {
	_, err := loadServe([]string{"--config", filepath.Join(t.TempDir(), "absent.conf")})
	if err == nil || !strings.Contains(err.Error(), "absent.conf") {
		t.Errorf("err = %v, want one naming the missing file", err)
	}
}

func TestServeSettings_DefaultStateDirFollowsSystemd(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/var/lib/quotesd:/var/lib/other")
	if got := defaultStateDir(); got != "/var/lib/quotesd" {
		t.Errorf("defaultStateDir() = %q, want the first of $STATE_DIRECTORY", got)
	}
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", "/home/u/.state")
	if got := defaultStateDir(); got != "/home/u/.state/quotesd" {
		t.Errorf("defaultStateDir() = %q, want $XDG_STATE_HOME/quotesd", got)
	}
}

// signalHarness runs signalLoop with a fake exit and a reloader over a
// temporary library, and records what the loop did.
type signalHarness struct {
	sigs      chan os.Signal
	served    chan struct{}
	cancelled chan struct{}
	exited    chan int
	log       *logBuffer
	done      chan struct{}
}

func startSignalLoop(t *testing.T, parent context.Context) *signalHarness {
	t.Helper()
	h := &signalHarness{
		sigs:      make(chan os.Signal, 4),
		served:    make(chan struct{}),
		cancelled: make(chan struct{}),
		exited:    make(chan int, 1),
		log:       &logBuffer{},
		done:      make(chan struct{}),
	}
	old := exitNow
	exitNow = func(code int) { h.exited <- code }
	t.Cleanup(func() { exitNow = old })
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	q, err := sqlite.Open(db, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	lib := reactor.NewLibrary(q, q)
	t.Cleanup(func() { lib.Close() })
	log, level, err := newLogger(h.log, "text", "info", false)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := loadServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &reloader{g: &globals{DB: db}, log: log, level: level, lib: lib, inForce: ss, running: make([]any, len(components))}
	var once sync.Once
	cancel := func() { once.Do(func() { close(h.cancelled) }) }
	go func() {
		defer close(h.done)
		r.signalLoop(parent, cancel, h.sigs, h.served, time.Second)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			close(h.served)
			<-h.done
		}
	})
	return h
}

func (h *signalHarness) waitCancelled(t *testing.T) {
	t.Helper()
	select {
	case <-h.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the supervisor's context was not cancelled")
	}
}

func TestServeSignals_FirstStopsGracefullySecondExitsAtOnce(t *testing.T) {
	h := startSignalLoop(t, context.Background())
	h.sigs <- syscall.SIGTERM
	h.waitCancelled(t)
	select {
	case code := <-h.exited:
		t.Fatalf("exited with %d at the first signal", code)
	case <-time.After(50 * time.Millisecond):
	}
	h.sigs <- syscall.SIGINT
	select {
	case code := <-h.exited:
		if code != 1 {
			t.Errorf("exit status %d at the second signal, want 1", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit at the second signal")
	}
	if !strings.Contains(h.log.String(), "second signal: exiting at once") {
		t.Errorf("log %q does not say why it exited", h.log.String())
	}
}

func TestServeSignals_OneSignalSeenByMainAndServeIsOneSignal(t *testing.T) {
	// main's NotifyContext and serve's handler both see the first SIGTERM.
	parent, stop := context.WithCancel(context.Background())
	h := startSignalLoop(t, parent)
	stop()
	h.waitCancelled(t)
	h.sigs <- syscall.SIGTERM
	select {
	case code := <-h.exited:
		t.Fatalf("exited with %d: one signal counted twice", code)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestServeSignals_HangUpReloads(t *testing.T) {
	h := startSignalLoop(t, context.Background())
	h.sigs <- syscall.SIGHUP
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.log.String(), "msg=reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload logged: %q", h.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-h.cancelled:
		t.Error("SIGHUP stopped the server")
	default:
	}
}

// logBuffer collects log output from several goroutines.
type logBuffer = logstest.Buffer

// Without flags, serve listens on loopback only and leaves mail off: a
// public port is always asked for, by a systemd socket or a flag.
func TestServeSettings_DefaultsAreLoopbackOnlyAndNoMail(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "QUOTESD_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	ss, err := loadServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range ss.set.Settings() {
		if !strings.HasSuffix(st.Name, "-addr") || st.Value() == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(st.Value())
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("--%s defaults to %q, want a loopback address or empty", st.Name, st.Value())
		}
	}
	for _, c := range ss.configs {
		if c, ok := c.(*smtpfe.Config); ok && c.Enabled() {
			t.Errorf("the mail frontend is on without --smtp-domain or --smtp-addr")
		}
	}
	if got := ss.set.Lookup("qotd-addr").Value(); got != "127.0.0.1:1717" {
		t.Errorf("--qotd-addr defaults to %q, want 127.0.0.1:1717", got)
	}
	if got := ss.set.Lookup("web-addr").Value(); got != "127.0.0.1:8080" {
		t.Errorf("--web-addr defaults to %q, want 127.0.0.1:8080", got)
	}
	if got := ss.set.Lookup("finger-addr").Value(); got != "127.0.0.1:7979" {
		t.Errorf("--finger-addr defaults to %q, want 127.0.0.1:7979", got)
	}
}

func TestLogServing_SaysHowToReachEachBoundSocket(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	logServing(log, []reactor.BoundSocket{
		{Name: "qotd", Addr: tcp("127.0.0.1:1717")},
		{Name: "web", Addr: tcp("0.0.0.0:80"), Inherited: true},
		{Name: "smtp", Addr: tcp("[::]:25"), Inherited: true},
		{Name: "ops", Addr: tcp("127.0.0.1:9090")},
	})
	for _, want := range []string{
		`listener=qotd url="telnet 127.0.0.1 1717"`,
		`listener=web url=http://127.0.0.1:80/`,
		`listener=smtp url=smtp://[::1]:25`,
		`listener=ops url=http://127.0.0.1:9090/metrics`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("logServing's lines lack %q:\n%s", want, buf.String())
		}
	}
}
