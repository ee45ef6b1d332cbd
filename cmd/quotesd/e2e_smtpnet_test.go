package main

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// With direct MX delivery on, a forged sender at a loopback address or an
// internal name gets no reply (issue #14): quotesd opens no session to a
// host inside its network on anyone's behalf.
func TestE2E_SMTP_DirectMXRefusesSendersAtInternalAddresses(t *testing.T) {
	t.Parallel()
	args := append([]string{"--smtp-addr", "127.0.0.1:0", "--state-dir", t.TempDir(),
		"--smtp-domain", "localhost", "--smtp-direct-mx"}, offExcept("smtp")...)
	s := startServe(t, smtpLibrary(t), []string{"smtp"}, args...)
	for _, from := range []string{"x@127.0.0.1", "x@2130706433", "x@localhost", "x@db.internal"} {
		sendRequest(t, s.Addr("smtp"), from)
		s.WaitLog(10*time.Second, "smtp reply skipped", map[string]string{"reason": "non_public_domain", "sender": from})
	}
}

// One client holding connections cannot lock another out (issue #14):
// past --smtp-max-conns-per-client it gets 421 and is closed.
func TestE2E_SMTP_MaxConnsPerClientKeepsRoomForOthers(t *testing.T) {
	t.Parallel()
	s := smtpServe(t, smtpLibrary(t), t.TempDir(), "127.0.0.1:1",
		"--smtp-max-conns", "3", "--smtp-max-conns-per-client", "2")
	addr := s.Addr("smtp")
	greeting := func(from string) string {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if strings.Contains(err.Error(), "bind") {
				t.Skipf("cannot connect from %s here: %v", from, err)
			}
			t.Fatalf("dial %s from %s: %v", addr, from, err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimRight(line, "\r\n")
	}
	for i := 0; i < 2; i++ {
		if got := greeting("127.0.0.1"); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("connection %d from 127.0.0.1: %q, want 220", i+1, got)
		}
	}
	if got := greeting("127.0.0.1"); !strings.HasPrefix(got, "421 4.7.0 Too many connections from your address") {
		t.Errorf("third connection from 127.0.0.1: %q, want 421 4.7.0 Too many connections from your address", got)
	}
	if got := greeting("127.0.0.2"); !strings.HasPrefix(got, "220 ") {
		t.Errorf("connection from 127.0.0.2: %q, want its 220 greeting", got)
	}
}
