package irc

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// fakeServer is an IRC server on loopback that the test drives line by
// line, for what a real server will not easily do on demand: refuse a
// nick, fail SASL, fall silent, hang up mid-registration.
type fakeServer struct {
	t     testing.TB
	ln    net.Listener
	conns chan *fakeConn
}

func newFakeServer(t testing.TB, tlsConfig *tls.Config) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s := &fakeServer{t: t, ln: ln, conns: make(chan *fakeConn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(s.conns)
				return
			}
			s.conns <- newFakeConn(t, c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *fakeServer) Addr() string { return s.ln.Addr().String() }

// accept waits for the bot's next connection.
func (s *fakeServer) accept() *fakeConn {
	s.t.Helper()
	select {
	case c, ok := <-s.conns:
		if !ok {
			s.t.Fatal("fake server closed")
		}
		return c
	case <-time.After(10 * time.Second):
		s.t.Fatal("the bot did not connect within 10s")
		return nil
	}
}

// noConnection asserts the bot does not connect again within d.
func (s *fakeServer) noConnection(d time.Duration) {
	s.t.Helper()
	select {
	case c := <-s.conns:
		if c != nil {
			s.t.Fatalf("the bot connected again within %v", d)
		}
	case <-time.After(d):
	}
}

// fakeConn is one connection from the bot; lines it sends arrive on lines.
type fakeConn struct {
	t     testing.TB
	conn  net.Conn
	lines chan string
	mu    sync.Mutex
	all   []string
}

func newFakeConn(t testing.TB, c net.Conn) *fakeConn {
	fc := &fakeConn{t: t, conn: c, lines: make(chan string, 1024)}
	t.Cleanup(func() { c.Close() })
	go func() {
		defer close(fc.lines)
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			fc.mu.Lock()
			fc.all = append(fc.all, line)
			fc.mu.Unlock()
			fc.lines <- line
		}
	}()
	return fc
}

func (c *fakeConn) send(format string, args ...any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, format+"\r\n", args...); err != nil {
		c.t.Fatalf("fake server write: %v", err)
	}
}

// ask sends text to #q as alice and returns every line of the bot's
// answer to #q, without CR LF: up to three, as a long quote takes. bob's
// private "!quote #1", sent right after, marks where the answer ends (the
// bot answers one command at a time, every line of one before the next,
// and quote #1 of the sample takes one line).
func (c *fakeConn) ask(text string) []string {
	c.t.Helper()
	c.send(":alice!a@host PRIVMSG #q :%s", text)
	c.send(":bob!b@host PRIVMSG quotesd :!quote #1")
	var answer []string
	for {
		line := c.expect("PRIVMSG ")
		if strings.HasPrefix(line, "PRIVMSG bob :") {
			return answer
		}
		if strings.HasPrefix(line, "PRIVMSG #q :") {
			answer = append(answer, line)
		}
	}
}

// expect reads the bot's lines until one starts with prefix and returns it
// without CR LF; other lines are skipped (PONGs, PINGs).
func (c *fakeConn) expect(prefix string) string {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %q", prefix)
			}
			if !strings.HasSuffix(line, "\r\n") {
				c.t.Fatalf("line %q does not end with CR LF", line)
			}
			line = strings.TrimSuffix(line, "\r\n")
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timeout:
			c.t.Fatalf("no line starting %q within 10s", prefix)
			return ""
		}
	}
}

// none asserts that no line starting with prefix arrives within d.
func (c *fakeConn) none(d time.Duration, prefix string) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return
			}
			if strings.HasPrefix(line, prefix) {
				c.t.Fatalf("got %q, want no line starting %q", strings.TrimSpace(line), prefix)
			}
		case <-timeout:
			return
		}
	}
}

// closed waits until the bot hangs up.
func (c *fakeConn) closed() {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.lines:
			if !ok {
				return
			}
		case <-timeout:
			c.t.Fatal("the bot did not hang up within 10s")
		}
	}
}

// register plays the server side of a plain registration as nick and
// returns once the bot has asked to join channel.
func (c *fakeConn) register(nick, channel string) {
	c.t.Helper()
	c.expect("NICK ")
	c.expect("USER ")
	c.send(":irc.test 001 %s :Welcome %s!bot@127.0.0.1", nick, nick)
	c.expect("JOIN " + channel)
	c.send(":%s!bot@127.0.0.1 JOIN %s", nick, channel)
}

// testConfig is a bot configuration for fast tests: the defaults, but
// without TLS, pacing or cooldowns, and with quick reconnects.
func testConfig(addr string) Config {
	c := DefaultConfig()
	c.Server, c.TLS = addr, false
	c.Channels = []Channel{{Name: "#q"}}
	c.SendInterval, c.UserCooldown, c.ChannelCooldown = 0, 0, 0
	c.BackoffMin, c.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	c.RejoinDelay = 20 * time.Millisecond
	c.Version = "quotesd test"
	return c
}

// botRun is a bot being served; err is what Serve returned once done is
// closed.
type botRun struct {
	done chan struct{}
	err  error
}

// wait waits for Serve to return and returns its result.
func (r *botRun) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s")
		return nil
	}
}

// runBot starts a bot on lib (the sample library when nil) and stops it
// when the test ends.
func runBot(t testing.TB, cfg Config, lib quoter.Library, cal *quoter.Calendar) *botRun {
	t.Helper()
	if lib == nil {
		lib = quotertest.NewLibrary(t)
	}
	b, err := New(cfg, lib, cal, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &botRun{done: make(chan struct{})}
	go func() {
		r.err = b.Serve(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of cancel")
		}
	})
	return r
}
