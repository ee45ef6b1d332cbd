package main

// End-to-end tests of `quotesd serve` and its QOTD frontend: the real
// binary, real sockets on loopback, real signals.

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
	"github.com/quotesd/quotesd/settings"
)

// offExcept returns flags that disable every registered component but the
// named ones (each --<component>-...-addr flag set to ""), so that e2e
// tests never bind default ports, whichever frontends the binary holds.
// The ops listener is a component too: its default, 127.0.0.1:9090, would
// collide between tests run in parallel, so a test that reads /metrics or
// /readyz keeps "ops" and sets --ops-addr 127.0.0.1:0, and finds the port
// in the "listening" line of the socket named ops (startServe's wait).
func offExcept(keep ...string) []string {
	var args []string
	s := settings.New("serve")
	for _, c := range components {
		c.declare(s)
	}
	fs := s.FlagSet()
	for _, c := range components {
		kept := false
		for _, k := range keep {
			kept = kept || c.name == k
		}
		if kept {
			continue
		}
		prefix := "--" + c.name + "-"
		for _, name := range flagNames(fs) {
			if strings.HasPrefix("--"+name, prefix) && strings.HasSuffix(name, "-addr") {
				args = append(args, "--"+name+"=")
			}
		}
	}
	return args
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// writeLibrary makes a library file at path holding qs, finalized as a
// single file (no -wal) like the shipped quotes.db.
func writeLibrary(t *testing.T, path string, qs ...quoter.Quote) string {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.Create())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Import(context.Background(), qs, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Finalize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return path
}

// shortQuotes all fit in one QOTD reply, so the reply is exactly the quote
// of the day whichever day the test runs.
var shortQuotes = []quoter.Quote{
	{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Lang: "en"},
	{Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Source: "Hamlet", Lang: "en"},
	{Text: "“Hope” is the thing with feathers —\nThat perches in the soul —", Author: "Emily Dickinson", Lang: "en"},
}

// todaysReply is what a QOTD client should get today from the library at
// path (every quote of which fits), in the zone tz.
func todaysReply(t *testing.T, path, tz string) string {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cal, err := quoter.LoadCalendar(tz)
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Today(context.Background(), cal.Today(), quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(q.Render(), "\n", "\r\n") + "\r\n"
}

// telnet connects to addr as telnet would, types input (if any) and
// returns everything the server sent until it closed the connection.
func telnet(t *testing.T, addr, input string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if input != "" {
		io.WriteString(c, input)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading from %s: %v (got %q)", addr, err, b)
	}
	return string(b)
}

func startQOTD(t *testing.T, db string, args ...string) *server {
	t.Helper()
	all := append([]string{"--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...)
	return startServe(t, db, []string{"qotd"}, append(all, args...)...)
}

func TestServe_QOTDTalksToTelnet(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	s := startQOTD(t, db)
	want := todaysReply(t, db, "")
	if got := telnet(t, s.Addr("qotd"), ""); got != want {
		t.Errorf("reply = %q, want today's quote %q", got, want)
	}
	if got := telnet(t, s.Addr("qotd"), "hello?\r\n"); got != want {
		t.Errorf("after typing a line: reply = %q, want %q", got, want)
	}
	s.WaitLog(5*time.Second, "served", map[string]string{"frontend": "qotd"})
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	s.WaitLog(time.Second, "shutting down: no new connections; finishing those in flight", nil)
}

// A go-installed quotesd serve, run where there is no quotes.db, serves the
// shipped library it carries, after writing it out as quotes.db.
func TestServe_WithoutLibraryStartsFromTheShippedOne(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(quotesdBinary(t), append([]string{"serve", "--log-format", "json",
		"--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...)...)
	cmd.Dir = dir
	// The default path, whatever the caller's environment says.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "QUOTESD_DB=") })
	s := startProcess(t, cmd, []string{"qotd"})
	db := filepath.Join(dir, "quotes.db")
	want := todaysReply(t, db, "")
	if got := telnet(t, s.Addr("qotd"), ""); got != want {
		t.Errorf("reply = %q, want today's quote of the shipped library %q", got, want)
	}
	shipped, err := os.ReadFile(filepath.Join("..", "..", "quotes.db"))
	if err != nil {
		t.Fatal(err)
	}
	if written, err := os.ReadFile(db); err != nil || !bytes.Equal(written, shipped) {
		t.Errorf("quotes.db written in the working directory differs from the shipped library (err %v)", err)
	}
}

// Under systemd the library's path is the unit's QUOTESD_DB, in a state
// directory that exists only once the unit has started: serve must create
// the missing file there from the shipped library, as docs/OPERATIONS.md
// promises, rather than fail every start.
func TestServe_MissingLibraryAtTheConfiguredPathIsCreatedFromTheShippedOne(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state", "quotes.db")
	if err := os.Mkdir(filepath.Dir(db), 0o700); err != nil {
		t.Fatal(err)
	}
	s := startQOTD(t, db)
	s.WaitLog(5*time.Second, "created the library from the shipped one", map[string]string{"db": db})
	want := todaysReply(t, db, "")
	if got := telnet(t, s.Addr("qotd"), ""); got != want {
		t.Errorf("reply = %q, want today's quote of the shipped library %q", got, want)
	}
	shipped, err := os.ReadFile(filepath.Join("..", "..", "quotes.db"))
	if err != nil {
		t.Fatal(err)
	}
	if written, err := os.ReadFile(db); err != nil || !bytes.Equal(written, shipped) {
		t.Errorf("%s differs from the shipped library (err %v)", db, err)
	}
}

func TestServe_QOTDUDPIsOffByDefault(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	s := startQOTD(t, db)
	for _, line := range s.Logs() {
		if strings.Contains(line, `"listener":"qotd-udp"`) {
			t.Errorf("UDP listener started without --qotd-udp-addr: %s", line)
		}
	}
	c, err := net.Dial("udp", s.Addr("qotd")) // the TCP port, over UDP
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("\r\n"))
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1024)); err == nil {
		t.Errorf("got a %d-byte UDP reply with UDP off", n)
	}
}

func TestServe_QOTDOverUDPWhenEnabled(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	s := startServe(t, db, []string{"qotd-udp"}, append([]string{"--qotd-addr", "", "--qotd-udp-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...)...)
	c, err := net.Dial("udp", s.Addr("qotd-udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := todaysReply(t, db, ""); string(buf[:n]) != want {
		t.Errorf("datagram = %q, want %q", buf[:n], want)
	}
}

func TestServe_BusyAddressFailsStartNamingFrontendAndAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	args := append([]string{"--db", db, "serve", "--qotd-addr", busy.Addr().String(), "--state-dir", t.TempDir()}, offExcept("qotd")...)
	_, stderr, code := runQuotesd(t, nil, args...)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	for _, want := range []string{"qotd", busy.Addr().String(), "address already in use"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
}

func TestServe_NothingEnabledFailsStart(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	args := append([]string{"--db", db, "serve", "--state-dir", t.TempDir()}, offExcept()...)
	_, stderr, code := runQuotesd(t, nil, args...)
	if code != 1 || !strings.Contains(stderr, "nothing to serve") {
		t.Errorf("exit %d, stderr %q; want 1 and 'nothing to serve'", code, stderr)
	}
}

func TestServe_BadSettingsAreUsageErrors(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"log level", nil, []string{"--log-level", "loud"}, 2, "loud"},
		{"log format from env", []string{"QUOTESD_LOG_FORMAT=xml"}, nil, 2, "xml"},
		{"qotd mode", nil, []string{"--qotd-mode", "hourly"}, 2, `invalid value "hourly" for --qotd-mode: want daily or random`},
		{"qotd mode from env", []string{"QUOTESD_QOTD_MODE=hourly"}, nil, 2, `invalid value "hourly" for QUOTESD_QOTD_MODE: want daily or random`},
		{"a limit below 0", nil, []string{"--qotd-max-conns", "-1"}, 2, "invalid --qotd-max-conns -1: want 0 (no limit) or more"},
		{"stray argument", nil, []string{"now"}, 2, "no arguments"},
		// As for every other command: a bad --tz is a usage error naming it.
		{"time zone from env", []string{"QUOTESD_TZ=Mars/Olympus"}, nil, 2, `--tz: unknown time zone "Mars/Olympus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--db", db, "serve", "--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...)
			_, stderr, code := runQuotesd(t, tt.env, append(args, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and a message naming %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestServe_EnvironmentSetsFlags(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes[2])
	cmd := exec.Command(quotesdBinary(t), append([]string{"--db", db, "serve", "--log-format", "json", "--state-dir", t.TempDir()}, offExcept("qotd")...)...)
	cmd.Env = append(os.Environ(), "QUOTESD_QOTD_ADDR=127.0.0.1:0", "QUOTESD_QOTD_ASCII=true", "QUOTESD_LOG_LEVEL=debug")
	s := startProcess(t, cmd, []string{"qotd"})
	want := "\"Hope\" is the thing with feathers --\r\nThat perches in the soul --\r\n    -- Emily Dickinson\r\n"
	if got := telnet(t, s.Addr("qotd"), ""); got != want {
		t.Errorf("reply = %q, want the ASCII form %q", got, want)
	}
}

func TestServe_SIGHUPReloadsSettingsAndLibraryKeepingTheSocket(t *testing.T) {
	dir := t.TempDir()
	db := writeLibrary(t, filepath.Join(dir, "quotes.db"), shortQuotes[0])
	config := filepath.Join(dir, "quotesd.conf")
	if err := os.WriteFile(config, []byte("# QOTD as it comes\nqotd-ascii = false\nlog-level = info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startQOTD(t, db, "--config", config)
	addr := s.Addr("qotd")
	if got := telnet(t, addr, ""); !strings.HasPrefix(got, "Simplify, simplify.") {
		t.Fatalf("before reload: %q", got)
	}
	// A client still connected (it has not read yet) across the reload.
	held, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	// The operator replaces the library file and changes the settings.
	next := writeLibrary(t, filepath.Join(dir, "next.db"), shortQuotes[2])
	if err := os.Rename(next, db); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("qotd-ascii = true\nlog-level = debug\nshutdown-timeout = 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "reload: this setting needs a restart; the value in force stays", map[string]string{"setting": "shutdown-timeout", "new": "30s"})
	s.WaitLog(10*time.Second, "reload: applied", map[string]string{"setting": "qotd-ascii", "new": "true"})
	s.WaitLog(10*time.Second, "reloaded", map[string]string{"level": "DEBUG"})

	want := "\"Hope\" is the thing with feathers --\r\nThat perches in the soul --\r\n    -- Emily Dickinson\r\n"
	if got := telnet(t, addr, ""); got != want {
		t.Errorf("after reload on the same socket: reply = %q, want the new library in ASCII %q", got, want)
	}
	held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(held); err != nil || !strings.HasPrefix(string(got), "Simplify") {
		t.Errorf("connection made before the reload: got %q, %v; want its quote", got, err)
	}

	// A broken settings file keeps the settings in force.
	if err := os.WriteFile(config, []byte("qotd-ascii = maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "reload refused: keeping every setting in force", nil)
	s.WaitLog(10*time.Second, "reloaded", nil)
	if got := telnet(t, addr, ""); got != want {
		t.Errorf("after a failed reload: reply = %q, want %q", got, want)
	}
}

// TestServe_SystemdSocketActivation passes already-bound sockets to a
// child quotesd as systemd does (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES,
// descriptors from 3) and reads a quote from them.
func TestServe_SystemdSocketActivation(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	uf, err := uc.File()
	if err != nil {
		t.Fatal(err)
	}
	defer uf.Close()

	// LISTEN_PID must be the pid of quotesd itself: a shell sets it to its
	// own pid and then execs quotesd, which keeps that pid.
	args := append([]string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`, quotesdBinary(t),
		"--db", db, "serve", "--log-format", "json", "--log-level", "debug", "--state-dir", t.TempDir(),
		// These addresses lose to the inherited sockets; were they bound,
		// the "listening" lines would show other ports.
		"--qotd-addr", "127.0.0.1:0", "--qotd-udp-addr", "127.0.0.1:0"}, offExcept("qotd")...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Env = append(os.Environ(), "LISTEN_FDS=2", "LISTEN_FDNAMES=qotd:qotd-udp")
	cmd.ExtraFiles = []*os.File{lf, uf} // descriptors 3 and 4
	s := startProcess(t, cmd, []string{"qotd", "qotd-udp"})
	if got, want := s.Addr("qotd"), ln.Addr().String(); got != want {
		t.Errorf("qotd listening on %s, want the inherited %s", got, want)
	}
	if got, want := s.Addr("qotd-udp"), uc.LocalAddr().String(); got != want {
		t.Errorf("qotd-udp listening on %s, want the inherited %s", got, want)
	}
	want := todaysReply(t, db, "")
	if got := telnet(t, ln.Addr().String(), ""); got != want {
		t.Errorf("reply on the inherited socket = %q, want %q", got, want)
	}
	c, err := net.Dial("udp", uc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != want {
		t.Errorf("UDP reply on the inherited socket = %q, %v; want %q", buf[:n], err, want)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

func TestServe_StateDirIsCreated(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	dir := filepath.Join(t.TempDir(), "state", "quotesd")
	cmd := exec.Command(quotesdBinary(t), append([]string{"--db", db, "serve", "--log-format", "json", "--qotd-addr", "127.0.0.1:0"}, offExcept("qotd")...)...)
	cmd.Env = append(os.Environ(), "STATE_DIRECTORY="+dir)
	startProcess(t, cmd, []string{"qotd"})
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("state directory from $STATE_DIRECTORY: %v", err)
	}
}

func TestServe_NotifiesSystemdReadyReloadingAndStopping(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	sock := filepath.Join(t.TempDir(), "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cmd := exec.Command(quotesdBinary(t), append([]string{"--db", db, "serve", "--log-format", "json",
		"--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...)...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	s := startProcess(t, cmd, []string{"qotd"})
	next := func() string {
		t.Helper()
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 256)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	if got := next(); got != "READY=1" {
		t.Errorf("first notification %q, want READY=1", got)
	}
	s.Signal(syscall.SIGHUP)
	if got := next(); got != "RELOADING=1" {
		t.Errorf("at SIGHUP: %q, want RELOADING=1", got)
	}
	if got := next(); got != "READY=1" {
		t.Errorf("after reloading: %q, want READY=1", got)
	}
	s.Signal(syscall.SIGTERM)
	if got := next(); got != "STOPPING=1" {
		t.Errorf("at SIGTERM: %q, want STOPPING=1", got)
	}
	if err := s.Wait(30 * time.Second); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
}

func TestServe_GracefulShutdownWhile1000ClientsConnect(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	s := startQOTD(t, db, "--log-level", "info")
	addr := s.Addr("qotd")
	want := todaysReply(t, db, "")
	const clients = 1000
	var full, refused atomic.Int64
	partial := make(chan string, clients)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 200 * time.Microsecond) // arrivals over 200ms
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				refused.Add(1)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			got, _ := io.ReadAll(c)
			switch {
			case string(got) == want:
				full.Add(1)
			case len(got) == 0:
				refused.Add(1)
			default:
				partial <- string(got)
			}
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); full.Load() < 100; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 100 clients served within 20s")
		}
	}
	s.Signal(syscall.SIGTERM) // while the others are still connecting
	wg.Wait()
	close(partial)
	for p := range partial {
		t.Errorf("partial reply %q: a connection was cut while being answered", p)
	}
	if got := full.Load() + refused.Load(); got != clients {
		t.Errorf("served %d + refused %d, want %d in all", full.Load(), refused.Load(), clients)
	}
	t.Logf("%d served in full, %d refused once the server stopped accepting", full.Load(), refused.Load())
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}

func TestServe_PrintConfigShowsEachSettingAndWhereItCameFrom(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "quotesd.conf")
	if err := os.WriteFile(config, []byte("qotd-mode = random\nweb-rate = 60\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"QUOTESD_WEB_RATE=120", "QUOTESD_WEB_ADMIN_TOKEN=hunter2-secret", "QUOTESD_SMTP_RELAY_PASSWORD=relay-secret"}
	stdout, stderr, code := runQuotesd(t, env, "serve", "--config", config, "--qotd-max-conns", "7", "--print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	oneSpace := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{
		`qotd-mode = "random" # file ` + config + `:1, live`,
		`web-rate = "120" # environment QUOTESD_WEB_RATE, live`,
		`qotd-max-conns = "7" # flag, live`,
		`qotd-addr = "127.0.0.1:1717" # default`,
		`# web-admin-token = (redacted) # environment QUOTESD_WEB_ADMIN_TOKEN, live`,
		`# smtp-relay-password = (redacted) # environment QUOTESD_SMTP_RELAY_PASSWORD`,
		`# irc-password = (not set) # default`,
	} {
		if !strings.Contains(oneSpace, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "secret") {
		t.Errorf("--print-config shows a secret:\n%s", stdout)
	}
	// What it prints is a settings file that serve takes back.
	printed := filepath.Join(dir, "printed.conf")
	var kept []string
	for _, l := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(l, "config ") {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(printed, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	again, stderr, code := runQuotesd(t, nil, "serve", "--config", printed, "--print-config")
	if code != 0 {
		t.Fatalf("serving the printed settings: exit %d: %s", code, stderr)
	}
	if !strings.Contains(strings.Join(strings.Fields(again), " "), `qotd-max-conns = "7" # file `+printed) {
		t.Errorf("the printed settings did not load back:\n%s", again)
	}
}

// At start serve logs how to reach each frontend, from the sockets it
// actually bound; mail is on when a domain is given.
func TestServe_LogsTheURLsItServes(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	s := startServe(t, db, []string{"qotd", "web", "smtp"}, append([]string{"--state-dir", t.TempDir(),
		"--qotd-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0",
		"--smtp-domain", "localhost", "--smtp-addr", "127.0.0.1:0"}, offExcept("qotd", "web", "smtp")...)...)
	s.WaitLog(5*time.Second, "ready", nil)
	host, port, _ := net.SplitHostPort(s.Addr("qotd"))
	for _, want := range []string{
		`"listener":"qotd","url":"telnet ` + host + ` ` + port + `"`,
		`"listener":"web","url":"http://` + s.Addr("web") + `/"`,
		`"listener":"smtp","url":"smtp://` + s.Addr("smtp") + `"`,
	} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(strings.Join(s.Logs(), "\n"), want) {
			if time.Now().After(deadline) {
				t.Fatalf("no serving line with %s", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Mail is off without a domain or an address, and says so when delivery
// is configured: an installation upgraded from when mail was on by default
// learns why no mail comes in.
func TestServe_MailSettingsWithoutADomainWarnThatMailIsOff(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	s := startServe(t, db, []string{"qotd"}, append([]string{"--state-dir", t.TempDir(),
		"--qotd-addr", "127.0.0.1:0", "--smtp-relay", "127.0.0.1:1"}, offExcept("qotd")...)...)
	s.WaitLog(10*time.Second, "the mail frontend is off: --smtp-relay set, but neither --smtp-domain nor --smtp-addr", map[string]string{"set": "--smtp-relay"})
	if s.Addr("smtp") != "" {
		t.Errorf("the mail frontend listens on %s without --smtp-domain or --smtp-addr", s.Addr("smtp"))
	}
}
