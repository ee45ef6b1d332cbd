package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// fingerQuotes are ASCII, so that what Debian's finger prints (it escapes
// what the C locale cannot print) is the reply itself.
var fingerQuotes = []quoter.Quote{
	{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Tags: []string{"simplicity"}, Lang: "en"},
	{Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Source: "Hamlet", Tags: []string{"wit"}, Lang: "en"},
	{Text: "To err is human, to forgive divine.", Author: "Alexander Pope", Tags: []string{"wit"}, Lang: "en"},
}

func startFinger(t *testing.T, db string, args ...string) *server {
	t.Helper()
	all := append([]string{"--finger-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("finger")...)
	return startServe(t, db, []string{"finger"}, append(all, args...)...)
}

// fingerRaw sends query to addr and returns what it reads before the end
// of the stream or a reset (the bytes are what counts).
func fingerRaw(t *testing.T, addr string, query []byte) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go c.Write(query)
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestServe_FingerAnswersQueriesAndRefusesBadOnes(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), fingerQuotes...)
	s := startFinger(t, db, "--finger-read-timeout", "500ms")
	addr := s.Addr("finger")
	today := todaysReply(t, db, "")
	if got := fingerRaw(t, addr, []byte("\r\n")); got != today {
		t.Errorf("empty query: %q, want today's quote %q", got, today)
	}
	if got := fingerRaw(t, addr, []byte("wit\r\n")); !strings.Contains(got, "wit") && !strings.Contains(got, "err is human") {
		t.Errorf("wit: %q, want a quote tagged wit", got)
	}
	for _, tt := range []struct {
		what  string
		query []byte
		want  string
	}{
		{"forwarding", []byte("user@host@elsewhere\r\n"), "forwarding refused"},
		{"/W", []byte("/W\r\n"), "/W"},
		{"non-UTF-8 bytes", []byte("\xc3\x28\xa0\xa1\r\n"), "not UTF-8"},
		{"a 1 MiB line", append(bytes.Repeat([]byte("a"), 1<<20), '\r', '\n'), "longer than 256 bytes"},
		{"no newline, ever", []byte("random"), "no query line"},
	} {
		start := time.Now()
		got := fingerRaw(t, addr, tt.query)
		if !strings.Contains(got, tt.want) || strings.Count(got, "\r\n") != 1 {
			t.Errorf("%s: %q, want one line with %q", tt.what, got, tt.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: answered after %v", tt.what, took)
		}
	}
	if got := fingerRaw(t, addr, []byte("\r\n")); got != today {
		t.Errorf("after the bad queries: %q, want today's quote", got)
	}
	s.WaitLog(5*time.Second, "served", map[string]string{"frontend": "finger"})
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// Debian's finger(1) knows no port but 79 (getservbyname "finger"): quotesd
// serves 127.0.0.1:79 in a network namespace of its own (unshare -rn, so
// the port is free and private to the test, root or not), and finger runs
// in that namespace (nsenter).
func TestServe_FingerTalksToDebiansFinger(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces are Linux's")
	}
	fingerBin := e2eTool(t, "finger")
	unshare, nsenter, ip := e2eTool(t, "unshare"), e2eTool(t, "nsenter"), e2eTool(t, "ip")
	if out, err := exec.Command(unshare, "-rn", "true").CombinedOutput(); err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("unshare -rn: %v: %s (QUOTESD_E2E=require: the test needs a network namespace)", err, out)
		}
		t.Skipf("cannot make a network namespace (unshare -rn: %v: %s)", err, bytes.TrimSpace(out))
	}
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), fingerQuotes...)
	args := append([]string{"-rn", "sh", "-c", `"$0" link set lo up && exec "$@"`, ip,
		quotesdBinary(t), "--db", db, "serve", "--log-format", "json", "--log-level", "debug",
		"--finger-addr", "127.0.0.1:79", "--state-dir", t.TempDir()}, offExcept("finger")...)
	s := startProcess(t, exec.Command(unshare, args...), []string{"finger"})
	if got := s.Addr("finger"); got != "127.0.0.1:79" {
		t.Fatalf("finger listening on %s, want 127.0.0.1:79", got)
	}
	run := func(query string) string {
		t.Helper()
		cmd := exec.Command(nsenter, "-t", strconv.Itoa(s.cmd.Process.Pid), "-U", "-n", "--preserve-credentials", fingerBin, query)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("finger %s: %v\n%s", query, err, out)
		}
		return string(out)
	}
	lf := func(s string) string { return strings.ReplaceAll(strings.TrimSuffix(s, "\r\n"), "\r\n", "\n") }
	if got, want := run("@127.0.0.1"), lf(todaysReply(t, db, "")); !strings.Contains(got, want) {
		t.Errorf("finger @127.0.0.1 printed %q, want today's quote %q", got, want)
	}
	got := run("random@127.0.0.1")
	found := false
	for _, q := range fingerQuotes {
		found = found || strings.Contains(got, q.Text)
	}
	if !found {
		t.Errorf("finger random@127.0.0.1 printed %q, want a quote of the library", got)
	}
	if got := run("help@127.0.0.1"); !strings.Contains(got, "random@HOST") || !strings.Contains(got, "wit") {
		t.Errorf("finger help@127.0.0.1 printed %q, want the list of queries and tags", got)
	}
	if got := run("wit@127.0.0.1"); !strings.Contains(got, "Brevity") && !strings.Contains(got, "To err") {
		t.Errorf("finger wit@127.0.0.1 printed %q, want today's quote tagged wit", got)
	}
	if got := run("nosuchtag@127.0.0.1"); !strings.Contains(got, `no quote is tagged "nosuchtag"`) {
		t.Errorf("finger nosuchtag@127.0.0.1 printed %q, want the unknown tag said", got)
	}
	// finger user@a@b connects to b and asks it to finger user@a: refused.
	if got := run("user@example.org@127.0.0.1"); !strings.Contains(got, "forwarding refused") {
		t.Errorf("finger user@example.org@127.0.0.1 printed %q, want forwarding refused", got)
	}
	// finger -l sends /W.
	cmd := exec.Command(nsenter, "-t", strconv.Itoa(s.cmd.Process.Pid), "-U", "-n", "--preserve-credentials", fingerBin, "-l", "@127.0.0.1")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "/W (verbose) is not served") {
		t.Errorf("finger -l @127.0.0.1 printed %q, want /W refused", out)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
