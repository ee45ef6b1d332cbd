// Package prosodytest runs a real XMPP server, Debian's Prosody, on
// loopback for tests and benchmarks of the XMPP frontend, and gives them a
// small client (on mellium.im/xmpp, as the bot) that joins rooms and reads
// what arrives as raw XML. It is test support: nothing in quotesd itself
// imports it.
package prosodytest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/internal/testcert"
)

// Domain is the test server's host, and MUC its rooms' service. Nothing
// resolves them: clients connect to the server's loopback address.
const (
	Domain = "quotesd.test"
	MUC    = "rooms.quotesd.test"
)

// Server is a running Prosody.
type Server struct {
	tb  testing.TB
	bin string
	ctl string
	dir string

	Addr    string // STARTTLS c2s, 127.0.0.1:port
	TLSAddr string // direct TLS c2s (XEP-0368), 127.0.0.1:port
	CAFile  string // the certificate the server presents (self-signed: its own CA)

	mu  sync.Mutex
	cmd *exec.Cmd
	out *bytes.Buffer
}

// Binaries returns the paths of prosody and prosodyctl. When they are
// missing the test is skipped, or fails when QUOTESD_E2E=require (as in
// CI), so that a missing install step cannot pass as green.
func Binaries(tb testing.TB) (prosody, prosodyctl string) {
	tb.Helper()
	p, err1 := exec.LookPath("prosody")
	c, err2 := exec.LookPath("prosodyctl")
	if err1 != nil || err2 != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			tb.Fatalf("prosody is not installed, and QUOTESD_E2E=require: install it (apt-get install prosody)")
		}
		tb.Skip("prosody is not installed (set QUOTESD_E2E=require to fail instead)")
	}
	return p, c
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// config is a throwaway Prosody configuration: loopback only, no
// server-to-server, HTTP or components port, encryption required on c2s,
// hashed passwords (so SCRAM is offered), rooms unlocked at creation (no
// configuration form to fill in), and the limits module throttling each
// client to rate bytes a second, as a public server does.
const config = `-- quotesd test server, written by prosodytest
run_as_root = true
pidfile = %[1]q
data_path = %[2]q
certificates = %[3]q
plugin_paths = {}
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { %[4]d }
c2s_direct_tls_ports = { %[5]d }
s2s_ports = {}
component_ports = {}
http_ports = {}
https_ports = {}
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "posix", "limits" }
modules_disabled = { "s2s", "offline" }
c2s_require_encryption = true
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
storage = "internal"
log = { info = %[6]q }
ssl = { certificate = %[7]q, key = %[8]q }
limits = { c2s = { rate = %[9]q, burst = "2s" } }
VirtualHost %[10]q
Component %[11]q "muc"
	muc_room_locking = false
	muc_room_default_history_length = 20
	restrict_room_creation = false
`

// Options change the server a test starts.
type Options struct {
	// Rate is the limits module's c2s rate per connection, as Prosody
	// writes it ("10kb/s"); "" is 10kb/s.
	Rate string
}

// Start runs prosody in the foreground on free loopback ports with a
// configuration, data and certificate in a temporary directory, waits
// until it accepts connections, and stops it when the test ends.
func Start(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Rate == "" {
		o.Rate = "10kb/s"
	}
	bin, ctl := Binaries(tb)
	s := &Server{tb: tb, bin: bin, ctl: ctl, dir: tb.TempDir()}
	data := filepath.Join(s.dir, "data")
	if err := os.Mkdir(data, 0o750); err != nil {
		tb.Fatal(err)
	}
	cert, key := s.makeCert()
	s.CAFile = cert
	port, tlsPort := FreePort(tb), FreePort(tb)
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	s.TLSAddr = fmt.Sprintf("127.0.0.1:%d", tlsPort)
	conf := fmt.Sprintf(config, filepath.Join(s.dir, "prosody.pid"), data, s.dir, port, tlsPort,
		filepath.Join(s.dir, "prosody.log"), cert, key, o.Rate, Domain, MUC)
	if err := os.WriteFile(s.config(), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	s.start()
	tb.Cleanup(func() {
		s.Kill()
		if tb.Failed() {
			s.mu.Lock()
			tb.Logf("prosody output:\n%s", s.out.String())
			s.mu.Unlock()
			if b, err := os.ReadFile(filepath.Join(s.dir, "prosody.log")); err == nil {
				tb.Logf("prosody log:\n%s", b)
			}
		}
	})
	return s
}

func (s *Server) config() string { return filepath.Join(s.dir, "prosody.cfg.lua") }

// makeCert writes a self-signed certificate for Domain and MUC.
func (s *Server) makeCert() (certFile, keyFile string) {
	s.tb.Helper()
	f := testcert.Write(s.tb, s.dir, time.Now().UnixNano(), Domain, MUC)
	return f.Cert, f.Key
}

// Register creates the account user@Domain with password.
func (s *Server) Register(user, password string) {
	s.tb.Helper()
	out, err := exec.Command(s.ctl, "--config", s.config(), "register", user, Domain, password).CombinedOutput()
	if err != nil {
		s.tb.Fatalf("prosodyctl register %s: %v\n%s", user, err, out)
	}
}

func (s *Server) start() {
	s.tb.Helper()
	cmd := exec.Command(s.bin, "-F", "--config", s.config())
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = &syncWriter{mu: &s.mu, w: out}, &syncWriter{mu: &s.mu, w: out}
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("starting prosody: %v", err)
	}
	s.mu.Lock()
	s.cmd, s.out = cmd, out
	s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for _, addr := range []string{s.Addr, s.TLSAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				s.mu.Lock()
				o := out.String()
				s.mu.Unlock()
				s.tb.Fatalf("prosody not listening on %s after 15s: %v\n%s", addr, err, o)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Kill stops prosody (SIGTERM, then SIGKILL after 5s) and waits for it.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart stops prosody and starts it again on the same ports, with the
// same accounts: every client is disconnected.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	s.start()
}

// Log returns what prosody has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "prosody.log"))
	return string(b)
}

// LogCount counts the lines of the log that hold substr.
func (s *Server) LogCount(substr string) int {
	n := 0
	for _, l := range strings.Split(s.Log(), "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
