package main

// The shipped systemd units (contrib/systemd): systemd itself accepts them,
// and the sockets they hand over carry the names quotesd claims.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const unitDir = "../../contrib/systemd"

// unit is a systemd unit file: each key's values, in order, from every
// section (the keys used here do not repeat across sections).
type unit map[string][]string

func readUnit(t *testing.T, name string) unit {
	t.Helper()
	f, err := os.Open(filepath.Join(unitDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not key=value: %q", name, line)
		}
		u[strings.TrimSpace(k)] = append(u[strings.TrimSpace(k)], strings.TrimSpace(v))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// env returns the service's Environment= settings as NAME -> value.
func (u unit) env() map[string]string {
	m := map[string]string{}
	for _, e := range u["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// addrEnv is the variable holding the address of each listener.
var addrEnv = map[string]string{
	"qotd": "QUOTESD_QOTD_ADDR", "qotd-udp": "QUOTESD_QOTD_UDP_ADDR",
	"web": "QUOTESD_WEB_ADDR", "smtp": "QUOTESD_SMTP_ADDR", "finger": "QUOTESD_FINGER_ADDR",
}

func TestSystemdUnits_PassSystemdAnalyzeVerify(t *testing.T) {
	analyze := e2eTool(t, "systemd-analyze")
	dir := t.TempDir()
	units, err := filepath.Glob(filepath.Join(unitDir, "*.s*"))
	if err != nil || len(units) < 6 {
		t.Fatalf("units in %s: %v, %v; want quotesd.service and five sockets", unitDir, units, err)
	}
	var args []string
	for _, src := range units {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		// verify checks that ExecStart's program exists: point it at the
		// binary under test.
		b = []byte(strings.ReplaceAll(string(b), "/usr/local/bin/quotesd", quotesdBinary(t)))
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, dst)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	// verify exits 0 on mere warnings (an unknown key is "ignored"): any
	// output at all is a finding.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// `systemctl restart quotesd` must leave the sockets open, so that clients
// wait in the listen queue and none is refused (docs/OPERATIONS.md,
// upgrading). PartOf=, BindsTo= or Requires= on a socket unit would make
// systemd stop or restart the socket with the service: closed, re-bound,
// its queued connections reset.
func TestSystemdUnits_RestartingTheServiceKeepsTheSockets(t *testing.T) {
	units, err := filepath.Glob(filepath.Join(unitDir, "*.socket"))
	if err != nil || len(units) == 0 {
		t.Fatalf("socket units in %s: %v, %v", unitDir, units, err)
	}
	for _, path := range units {
		u := readUnit(t, filepath.Base(path))
		for _, key := range []string{"PartOf", "BindsTo", "Requires"} {
			for _, v := range u[key] {
				if strings.Contains(v, "quotesd.service") {
					t.Errorf("%s: %s=%s stops or restarts the socket with the service", filepath.Base(path), key, v)
				}
			}
		}
	}
}

// Each socket the service is handed is named for a listener quotesd knows,
// its frontend's address is set (non-empty, or the frontend is off), and
// a quotesd given those sockets as systemd gives them serves on each.
func TestSystemdUnits_SocketsAreClaimedByName(t *testing.T) {
	svc := readUnit(t, "quotesd.service")
	env := svc.env()
	var sockets []string
	for _, s := range svc["Sockets"] {
		sockets = append(sockets, strings.Fields(s)...)
	}
	var names []string
	ports := map[string]string{}
	for _, s := range sockets {
		u := readUnit(t, s)
		name := strings.Join(u["FileDescriptorName"], " ")
		if _, ok := addrEnv[name]; !ok {
			t.Errorf("%s: FileDescriptorName %q, want one of quotesd's listener names (qotd, qotd-udp, web, smtp, finger)", s, name)
			continue
		}
		if v := env[addrEnv[name]]; v == "" {
			t.Errorf("%s hands over %q, but quotesd.service leaves %s empty, which turns that frontend off", s, name, addrEnv[name])
		}
		names = append(names, name)
		ports[name] = strings.Join(append(u["ListenStream"], u["ListenDatagram"]...), " ")
	}
	for _, want := range []struct{ name, port string }{{"qotd", "17"}, {"web", "80"}, {"smtp", "25"}, {"finger", "79"}} {
		if ports[want.name] != want.port {
			t.Errorf("socket %s listens on %q, want port %s", want.name, ports[want.name], want.port)
		}
	}
	if t.Failed() {
		return
	}

	// Hand quotesd one loopback socket per name, in the units' order, as
	// systemd would, with the service's own environment.
	var files []*os.File
	addrs := map[string]string{}
	for _, name := range names {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		f, err := ln.File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
		addrs[name] = ln.Addr().String()
	}
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, quotesdBinary(t),
		"serve", "--log-format", "json", "--log-level", "debug", "--smtp-domain", "localhost", "--irc-server", "")
	cmd.Env = os.Environ()
	for k, v := range env {
		switch k {
		case "QUOTESD_DB", "QUOTESD_LOG_FORMAT":
			continue
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// The ops listener binds its own loopback port (no socket unit hands
	// it one): any free one, since tests run in parallel.
	cmd.Env = append(cmd.Env, "QUOTESD_DB="+db, "QUOTESD_STATE_DIR="+t.TempDir(), "QUOTESD_OPS_ADDR=127.0.0.1:0",
		"LISTEN_FDS="+strconv.Itoa(len(files)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	cmd.ExtraFiles = files
	s := startProcess(t, cmd, append(names, "ops"))
	for _, name := range names {
		if got := s.Addr(name); got != addrs[name] {
			t.Errorf("%s listening on %s, want the socket from systemd, %s", name, got, addrs[name])
		}
	}
	if got, want := telnet(t, addrs["qotd"], ""), todaysReply(t, db, ""); got != want {
		t.Errorf("QOTD on the qotd socket: %q, want %q", got, want)
	}
	for _, get := range []struct{ where, url string }{
		{"the web socket", "http://" + addrs["web"] + "/api/v1/today"},
		{"the ops listener", "http://" + s.Addr("ops") + "/livez"},
	} {
		resp, err := http.Get(get.url)
		if err != nil {
			t.Fatalf("%s: %v", get.where, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s on %s: %d, want 200", get.url, get.where, resp.StatusCode)
		}
	}
	if got, want := telnet(t, addrs["finger"], "\r\n"), todaysReply(t, db, ""); got != want {
		t.Errorf("Finger on the finger socket: %q, want %q", got, want)
	}
	c, err := net.Dial("tcp", addrs["smtp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	greeting, _ := bufio.NewReader(io.LimitReader(c, 512)).ReadString('\n')
	if !strings.HasPrefix(greeting, "220 ") {
		t.Errorf("SMTP greeting on the smtp socket: %q, want 220", greeting)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// The service restarts what a restart can fix and only that, has a
// watchdog that serve pings, and points at the man page.
func TestSystemdUnits_ServiceRestartsWatchdogAndDocumentation(t *testing.T) {
	svc := readUnit(t, "quotesd.service")
	want := map[string]string{
		"Type": "notify", "NotifyAccess": "main", "Restart": "on-failure",
		"RestartPreventExitStatus": "2", "WatchdogSec": "30s",
	}
	for key, v := range want {
		if got := strings.Join(svc[key], " "); got != v {
			t.Errorf("quotesd.service: %s=%q, want %q", key, got, v)
		}
	}
	if doc := strings.Join(svc["Documentation"], " "); !strings.Contains(doc, "man:quotesd(1)") {
		t.Errorf("quotesd.service: Documentation=%q, want man:quotesd(1) among them", doc)
	}
}
