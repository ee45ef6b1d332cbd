package main

// End-to-end tests of the operations listener (--ops-addr): metrics,
// health and pprof apart from the web frontend, through the real binary.

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/ops/metric/metrictest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// wantLint fails t with every problem promlint and quotesd's metrics
// convention find in the exposition body.
func wantLint(t *testing.T, body string) {
	t.Helper()
	problems, err := metrictest.Lint(strings.NewReader(body))
	if err != nil {
		t.Fatalf("linting /metrics: %v\n%s", err, body)
	}
	for _, p := range problems {
		t.Errorf("/metrics: %s", p)
	}
}

// waitMetrics polls the /metrics of base until it holds every line in
// want, and returns the last body. A client can see its answer a moment
// before the frontend counts it.
func waitMetrics(t *testing.T, base string, want ...string) string {
	t.Helper()
	var body string
	has := func() bool {
		_, body = httpGet(t, base+"/metrics")
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				return false
			}
		}
		return true
	}
	if !waitFor(10*time.Second, has) {
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				t.Errorf("/metrics lacks the line %s", w)
			}
		}
		t.Logf("/metrics:\n%s", body)
	}
	return body
}

// askIRCBot joins #quotes on srv as alice, asks the bot for a quote and
// waits for its answer.
func askIRCBot(t *testing.T, srv *ircdtest.Server) {
	t.Helper()
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	alice.Send("PRIVMSG #quotes :!quote")
	alice.Expect(10*time.Second, "PRIVMSG #quotes :")
}

// The "done means": with no web frontend at all, the operations
// listener still shows every other frontend's counters.
func TestOpsE2E_WithoutTheWebMetricsShowQOTDSMTPAndIRC(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	args := append(offExcept("qotd", "smtp", "irc", "ops"),
		"--web-addr", "", "--ops-addr", "127.0.0.1:0", "--state-dir", t.TempDir(),
		"--qotd-addr", "127.0.0.1:0",
		"--smtp-addr", "127.0.0.1:0", "--smtp-domain", "localhost",
		"--irc-server", srv.Addr, "--irc-tls=false", "--irc-channels", "#quotes")
	s := startServe(t, db, []string{"qotd", "smtp", "ops"}, args...)
	s.WaitLog(30*time.Second, "joined", map[string]string{"channel": "#quotes", "frontend": "irc"})
	if addr := s.Addr("web"); addr != "" {
		t.Fatalf("the web frontend listens on %s with --web-addr \"\"", addr)
	}

	telnet(t, s.Addr("qotd"), "")
	sendRequest(t, s.Addr("smtp"), "alice@example.org")
	askIRCBot(t, srv)

	body := waitMetrics(t, "http://"+s.Addr("ops"),
		`quotesd_qotd_replies_total{proto="tcp"} 1`,
		"quotesd_smtp_messages_received_total 1",
		"quotesd_smtp_replies_queued_total 1",
		`quotesd_irc_commands_total{command="random"} 1`,
		"quotesd_irc_connected 1",
	)
	wantLint(t, body)
	if code, _ := httpGet(t, "http://"+s.Addr("ops")+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz on the ops listener: %d, want 200", code)
	}
}

// Every frontend on, each having served something, so that the labelled
// series exist: the whole exposition of the process's one registry passes
// promlint and the convention of package ops/metric.
func TestOpsE2E_ExpositionOfEveryFrontendPassesPromlint(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	args := append(offExcept("qotd", "web", "smtp", "irc", "ops"),
		"--ops-addr", "127.0.0.1:0", "--state-dir", t.TempDir(),
		"--qotd-addr", "127.0.0.1:0", "--qotd-udp-addr", "127.0.0.1:0",
		"--web-addr", "127.0.0.1:0",
		"--smtp-addr", "127.0.0.1:0", "--smtp-domain", "localhost",
		"--irc-server", srv.Addr, "--irc-tls=false", "--irc-channels", "#quotes")
	s := startServe(t, db, []string{"qotd", "qotd-udp", "web", "smtp", "ops"}, args...)
	s.WaitLog(30*time.Second, "joined", map[string]string{"channel": "#quotes", "frontend": "irc"})

	telnet(t, s.Addr("qotd"), "")
	c, err := net.Dial("udp", s.Addr("qotd-udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 2048)); err != nil {
		t.Fatalf("QOTD over UDP: %v", err)
	}
	web := "http://" + s.Addr("web")
	httpGet(t, web+"/api/v1/today")
	httpGet(t, web+"/no/such/page")
	sendRequest(t, s.Addr("smtp"), "alice@example.org")
	sendRequest(t, s.Addr("smtp"), "") // a bounce: skipped, reason null_sender
	askIRCBot(t, srv)

	body := waitMetrics(t, "http://"+s.Addr("ops"),
		`quotesd_qotd_replies_total{proto="tcp"} 1`,
		`quotesd_qotd_replies_total{proto="udp"} 1`,
		`quotesd_web_requests_total{code="200",method="GET",route="/api/v1/today"} 1`,
		`quotesd_smtp_replies_skipped_total{reason="null_sender"} 1`,
		"quotesd_smtp_replies_queued_total 1",
		`quotesd_irc_commands_total{command="random"} 1`,
	)
	for _, family := range []string{"# TYPE go_goroutines gauge", "# TYPE process_open_fds gauge", "# TYPE quotesd_smtp_replies_delivered_total counter"} {
		if !strings.Contains(body, family) {
			t.Errorf("/metrics lacks %q: not the whole registry", family)
		}
	}
	wantLint(t, body)
}

// pprof is a heap dump and a CPU profile away from anyone who reaches it:
// off unless --ops-pprof, and a reload can turn it on and off.
func TestOpsE2E_PprofOnlyWithOpsPprof(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	config := filepath.Join(t.TempDir(), "quotesd.conf")
	if err := os.WriteFile(config, []byte("ops-pprof = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(extra ...string) *server {
		args := append([]string{"--qotd-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd", "ops")...)
		return startServe(t, db, []string{"qotd", "ops"}, append(args, extra...)...)
	}
	pprofStatus := func(s *server) int {
		code, _ := httpGet(t, "http://"+s.Addr("ops")+"/debug/pprof/")
		return code
	}

	off := start("--config", config)
	if got := pprofStatus(off); got != http.StatusNotFound {
		t.Errorf("/debug/pprof/ without --ops-pprof: %d, want 404", got)
	}
	if err := os.WriteFile(config, []byte("ops-pprof = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	off.Signal(syscall.SIGHUP)
	off.WaitLog(10*time.Second, "reloaded", nil)
	if got := pprofStatus(off); got != http.StatusOK {
		t.Errorf("/debug/pprof/ after a reload set ops-pprof = true: %d, want 200", got)
	}

	on := start("--ops-pprof")
	if got := pprofStatus(on); got != http.StatusOK {
		t.Errorf("/debug/pprof/ with --ops-pprof: %d, want 200", got)
	}
	if code, body := httpGet(t, "http://"+on.Addr("ops")+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("/debug/pprof/goroutine?debug=1 with --ops-pprof: %d %.80q, want 200 and a goroutine profile", code, body)
	}
}

// The operations listener serves the operators, not the library: with
// every frontend off it is still nothing to serve.
func TestOpsE2E_OpsAloneIsNothingToServe(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	args := append([]string{"--db", db, "serve", "--state-dir", t.TempDir()}, offExcept("ops")...)
	_, stderr, code := runQuotesd(t, nil, append(args, "--ops-addr", "127.0.0.1:0")...)
	if code != 1 || !strings.Contains(stderr, "nothing to serve") {
		t.Errorf("exit %d, stderr %q; want 1 and 'nothing to serve'", code, stderr)
	}
}
