// Package ircdtest runs a real IRC server, Debian's ngircd, on loopback for
// tests and benchmarks of the IRC frontend, and gives them a minimal raw IRC
// client to talk to the bot through it. It is test support: nothing in
// quotesd itself imports it.
package ircdtest

import (
	"bufio"
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
)

// Server is a running ngircd.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	Addr string // 127.0.0.1:port

	mu  sync.Mutex
	cmd *exec.Cmd
	out *bytes.Buffer
}

// Binary returns the path of ngircd. When it is missing the test is
// skipped, or fails when QUOTESD_E2E=require (as in CI), so that a missing
// install step cannot pass as green.
func Binary(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("ngircd")
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
			if _, e := os.Stat(filepath.Join(dir, "ngircd")); e == nil {
				return filepath.Join(dir, "ngircd")
			}
		}
		if os.Getenv("QUOTESD_E2E") == "require" {
			tb.Fatalf("ngircd is not installed, and QUOTESD_E2E=require: install it (apt-get install ngircd)")
		}
		tb.Skip("ngircd is not installed (set QUOTESD_E2E=require to fail instead)")
	}
	return p
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

// config is a throwaway ngircd configuration: loopback only, no PAM, ident
// or DNS lookups (nothing leaves the machine), long nicks, and an empty
// include directory so nothing from /etc/ngircd is read.
const config = `[Global]
	Name = irc.quotesd.test
	Info = quotesd test server
	AdminInfo1 = quotesd tests
	AdminInfo2 = loopback
	AdminEMail = nobody@invalid
	Listen = 127.0.0.1
	Ports = %d
	MotdPhrase = "quotesd test server"
[Limits]
	MaxNickLength = 30
	MaxConnectionsIP = 0
	MaxJoins = 0
[Options]
	PAM = no
	Ident = no
	DNS = no
	IncludeDir = %s
`

// Start runs ngircd in the foreground (-n) on a free loopback port with a
// configuration in a temporary directory, waits until it accepts
// connections, and stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: Binary(tb), dir: tb.TempDir()}
	include := filepath.Join(s.dir, "conf.d")
	if err := os.Mkdir(include, 0o755); err != nil {
		tb.Fatal(err)
	}
	port := FreePort(tb)
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := filepath.Join(s.dir, "ngircd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(config, port, include)), 0o644); err != nil {
		tb.Fatal(err)
	}
	// ngircd drops root for "nobody", who must be able to read the file.
	_ = os.Chmod(s.dir, 0o755)
	s.start()
	tb.Cleanup(func() {
		s.Kill()
		if tb.Failed() {
			s.mu.Lock()
			tb.Logf("ngircd output:\n%s", s.out.String())
			s.mu.Unlock()
		}
	})
	return s
}

func (s *Server) start() {
	s.tb.Helper()
	cmd := exec.Command(s.bin, "-n", "-f", filepath.Join(s.dir, "ngircd.conf"))
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = &syncWriter{mu: &s.mu, w: out}, &syncWriter{mu: &s.mu, w: out}
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("starting ngircd: %v", err)
	}
	s.mu.Lock()
	s.cmd, s.out = cmd, out
	s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.tb.Fatalf("ngircd not accepting on %s after 15s: %v\n%s", s.Addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends ngircd abruptly (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// Restart starts ngircd again on the same port after Kill.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	s.start()
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

// Client is a bare IRC client, the test's own voice in a channel. It
// answers PING by itself and queues every other line it receives.
type Client struct {
	tb    testing.TB
	Nick  string
	conn  net.Conn
	lines chan string
	wmu   sync.Mutex
}

// Dial connects and registers as nick, and waits for the welcome.
func Dial(tb testing.TB, addr, nick string) *Client {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("connecting to %s: %v", addr, err)
	}
	c := &Client{tb: tb, Nick: nick, conn: conn, lines: make(chan string, 4096)}
	tb.Cleanup(func() { conn.Close() })
	go c.read()
	c.Send("NICK %s", nick)
	c.Send("USER %s 0 * :quotesd test client", nick)
	c.Expect(10*time.Second, " 001 ")
	return c
}

func (c *Client) read() {
	defer close(c.lines)
	r := bufio.NewReader(c.conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "PING ") {
			_ = c.write("PONG " + strings.TrimPrefix(line, "PING "))
			continue
		}
		select {
		case c.lines <- line:
		default: // nobody reads: drop rather than block the PONGs
		}
	}
}

// Send writes one line, failing the test if it cannot.
func (c *Client) Send(format string, args ...any) {
	c.tb.Helper()
	if err := c.write(fmt.Sprintf(format, args...)); err != nil {
		c.tb.Fatalf("%s: write: %v", c.Nick, err)
	}
}

// Raw writes one line and returns any error, for goroutines other than
// the test's own (which may not call Fatal).
func (c *Client) Raw(line string) error { return c.write(line) }

func (c *Client) write(line string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.conn.Write([]byte(line + "\r\n"))
	return err
}

// Join joins channel and waits until the server confirms it.
func (c *Client) Join(channel string) {
	c.tb.Helper()
	c.Send("JOIN %s", channel)
	c.Expect(10*time.Second, " JOIN ")
}

// Expect returns the next line containing substr, skipping others, and
// fails the test if none comes within d.
func (c *Client) Expect(d time.Duration, substr string) string {
	c.tb.Helper()
	line, ok := c.Wait(d, substr)
	if !ok {
		c.tb.Fatalf("%s: no line containing %q within %v", c.Nick, substr, d)
	}
	return line
}

// Drain discards the lines received so far.
func (c *Client) Drain() {
	for {
		select {
		case _, ok := <-c.lines:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// Wait is Expect that reports failure instead of failing the test.
func (c *Client) Wait(d time.Duration, substr string) (string, bool) {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return "", false
			}
			if strings.Contains(line, substr) {
				return line, true
			}
		case <-timeout.C:
			return "", false
		}
	}
}

// WaitMember waits up to d until nick is in channel (the client must be
// in it too), asking the server with NAMES every half second, and reports
// whether it came.
func (c *Client) WaitMember(d time.Duration, channel, nick string) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := c.write("NAMES " + channel); err != nil {
			return false
		}
		found := false
	names:
		for {
			select {
			case line, ok := <-c.lines:
				if !ok {
					return false
				}
				switch {
				case strings.Contains(line, " 353 "): // RPL_NAMREPLY: "... = #chan :@op nick ..."
					_, names, _ := strings.Cut(line[1:], " :")
					for _, n := range strings.Fields(names) {
						if strings.TrimLeft(n, "~&@%+") == nick {
							found = true
						}
					}
				case strings.Contains(line, " 366 "): // RPL_ENDOFNAMES
					break names
				}
			case <-time.After(time.Until(deadline)):
				return false
			}
		}
		if found {
			return true
		}
		time.Sleep(500 * time.Millisecond)
	}
	return false
}
