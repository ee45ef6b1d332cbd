package main

// SIGTERM and the mail frontend, through the real binary: a message being
// received finishes and is stored; idle sessions are closed at once.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// smtpConn is a raw SMTP client connection, for exchanges that go-smtp's
// client cannot pause in the middle of.
type smtpConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialSMTP(t *testing.T, addr string) *smtpConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc := &smtpConn{t: t, c: c, r: bufio.NewReader(c)}
	sc.expect("220")
	return sc
}

// reply reads one reply (its last line) within 10 s.
func (sc *smtpConn) reply() (string, error) {
	_ = sc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := sc.r.ReadString('\n')
		if err != nil {
			return line, err
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n"), nil
		}
	}
}

// expect reads a reply and fails unless it starts with prefix.
func (sc *smtpConn) expect(prefix string) string {
	sc.t.Helper()
	line, err := sc.reply()
	if err != nil || !strings.HasPrefix(line, prefix) {
		sc.t.Fatalf("SMTP reply %q (err %v), want %s", line, err, prefix)
	}
	return line
}

func (sc *smtpConn) send(format string, args ...any) {
	sc.t.Helper()
	if _, err := fmt.Fprintf(sc.c, format, args...); err != nil {
		sc.t.Fatalf("writing to the SMTP server: %v", err)
	}
}

func TestE2E_SMTP_SIGTERMLetsAMessageInDATAFinishAndStoresIt(t *testing.T) {
	db := smtpLibrary(t)
	state := t.TempDir()
	relay := smtptest.FreeAddr(t)
	s := smtpServe(t, db, state, relay, "--shutdown-timeout", "10s")
	c := dialSMTP(t, s.Addr("smtp"))
	c.send("EHLO client.test\r\n")
	c.expect("250")
	c.send("MAIL FROM:<late@example.org>\r\n")
	c.expect("250")
	c.send("RCPT TO:<quote@localhost>\r\n")
	c.expect("250")
	c.send("DATA\r\n")
	c.expect("354")
	c.send("From: late@example.org\r\nTo: quote@localhost\r\n")

	s.Signal(syscall.SIGTERM)
	s.WaitLog(10*time.Second, "shutting down: no new connections; finishing those in flight", nil)
	time.Sleep(200 * time.Millisecond) // the shutdown is under way
	c.send("Subject: today\r\n\r\nA quote, please.\r\n.\r\n")
	if line := c.expect("250"); !strings.Contains(line, "2.0.0") {
		t.Errorf("end of DATA after SIGTERM: %q, want 250 2.0.0", line)
	}
	// The transaction over, the session is idle: it is closed.
	c.expect("421 4.3.2 ")
	if err := s.Wait(15 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	for _, line := range s.Logs() {
		if strings.Contains(line, "smtp reply not queued") {
			t.Errorf("log: %s; want the message stored", line)
		}
	}

	// The reply was stored: a restart with the relay up delivers it.
	sink := smtptest.NewSink(t, smtptest.Options{Addr: relay})
	smtpServe(t, db, state, relay)
	if m := sink.Wait(t, 1, 30*time.Second)[0]; len(m.To) != 1 || m.To[0] != "late@example.org" {
		t.Errorf("delivered after restart to %v, want [late@example.org]", m.To)
	}
}

func TestE2E_SMTP_SIGTERMClosesIdleSessionsAtOnce(t *testing.T) {
	db := smtpLibrary(t)
	s := smtpServe(t, db, t.TempDir(), smtptest.FreeAddr(t), "--shutdown-timeout", "5s")
	greeted := dialSMTP(t, s.Addr("smtp")) // greeted, said nothing
	helloed := dialSMTP(t, s.Addr("smtp")) // EHLO, then nothing
	helloed.send("EHLO client.test\r\n")
	helloed.expect("250")
	between := dialSMTP(t, s.Addr("smtp")) // one message, then nothing
	between.send("EHLO client.test\r\n")
	between.expect("250")
	between.send("MAIL FROM:<between@example.org>\r\nRCPT TO:<quote@localhost>\r\nDATA\r\n")
	between.expect("250")
	between.expect("250")
	between.expect("354")
	between.send("From: between@example.org\r\nSubject: today\r\n\r\nhi\r\n.\r\n")
	between.expect("250")

	start := time.Now()
	s.Signal(syscall.SIGTERM)
	for name, c := range map[string]*smtpConn{"greeted": greeted, "after EHLO": helloed, "between messages": between} {
		line, err := c.reply()
		if err != nil || !strings.HasPrefix(line, "421 4.3.2 ") {
			t.Errorf("idle session (%s) at SIGTERM: %q (err %v), want 421 4.3.2", name, line, err)
		}
		if _, err := c.reply(); err != io.EOF {
			t.Errorf("idle session (%s) after the 421: %v, want the connection closed", name, err)
		}
	}
	if err := s.Wait(10 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("with only idle sessions, the exit took %v after SIGTERM, want well under the 5 s grace", took)
	}
	for _, line := range s.Logs() {
		if strings.Contains(line, "abandoning") {
			t.Errorf("log: %s; want every service stopped in time", line)
		}
	}
}
