package main

// End-to-end tests of STARTTLS on the mail frontend: the real binary with
// --smtp-tls-cert and --smtp-tls-key, swaks as the sending MTA, a go-smtp
// sink on loopback as the relay. Plus the reload cases a running binary
// makes slow to reach, on smtpReloadCertificate itself.

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

func TestE2E_SMTP_SwaksSTARTTLSRequestGetsReplyAtRelay(t *testing.T) {
	swaks := e2eTool(t, "swaks")
	if out, _ := exec.Command(swaks, "--support").CombinedOutput(); !strings.Contains(string(out), "=== TLS supported") {
		// swaks without Net::SSLeay says "TLS not available" and sends in
		// plain text: that would test nothing.
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("swaks lacks TLS (install libnet-ssleay-perl and libio-socket-ssl-perl), and QUOTESD_E2E=require:\n%s", out)
		}
		t.Skipf("swaks lacks TLS (install libnet-ssleay-perl and libio-socket-ssl-perl):\n%s", out)
	}
	files := smtptest.WriteSelfSigned(t, t.TempDir(), 1)
	sink := smtptest.NewSink(t, smtptest.Options{})
	s := smtpServe(t, smtpLibrary(t), t.TempDir(), sink.Addr, "--smtp-tls-cert", files.Cert, "--smtp-tls-key", files.Key)
	host, port, _ := strings.Cut(s.Addr("smtp"), ":")

	// --tls: STARTTLS or give up; --tls-verify against our certificate, so
	// that the session is encrypted with the certificate given.
	cmd := exec.Command(swaks, "--server", host, "--port", port, "--helo", "client.test",
		"--tls", "--tls-verify", "--tls-ca-path", files.Cert,
		"--from", "alice@example.org", "--to", "quote@localhost",
		"--header", "Subject: today", "--body", "A quote, please, in confidence.", "--timeout", "30")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	transcript := string(out)
	for _, want := range []string{"250-STARTTLS", " -> STARTTLS", "<-  220 ", "=== TLS started with cipher TLSv1.3", "<~  250 2.0.0"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("swaks transcript lacks %q:\n%s", want, transcript)
		}
	}
	s.WaitLog(10*time.Second, "smtp session encrypted", map[string]string{"frontend": "smtp", "tls": "TLS 1.3", "ip": "127.0.0.1"})

	m := sink.Wait(t, 1, 30*time.Second)[0]
	if m.From != "" || len(m.To) != 1 || m.To[0] != "alice@example.org" {
		t.Errorf("envelope: from <%s> to %v, want <> and [alice@example.org]", m.From, m.To)
	}
	if !strings.Contains(string(m.Data), "Subject: Re: today") {
		t.Errorf("reply is not to the request:\n%s", m.Data)
	}
}

// replaceFile gives path the content of from, as a certificate renewal
// does (certbot and the like replace the files in place).
func replaceFile(t *testing.T, path, from string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func TestE2E_SMTP_SIGHUPReloadsTheTLSCertificate(t *testing.T) {
	t.Parallel()
	live := smtptest.WriteSelfSigned(t, t.TempDir(), 1) // the paths given to quotesd
	sink := smtptest.NewSink(t, smtptest.Options{})
	s := smtpServe(t, smtpLibrary(t), t.TempDir(), sink.Addr, "--smtp-tls-cert", live.Cert, "--smtp-tls-key", live.Key)
	addr := s.Addr("smtp")
	s.WaitLog(10*time.Second, "smtp TLS certificate loaded", map[string]string{"cert": live.Cert, "names": "localhost"})

	open := smtptest.DialSTARTTLS(t, addr, live.Pool)
	if got := smtptest.PeerSerial(t, open); got != "1" {
		t.Fatalf("before the renewal: certificate serial %s, want 1", got)
	}

	// The certificate is renewed in place; SIGHUP makes quotesd read it.
	renewed := smtptest.WriteSelfSigned(t, t.TempDir(), 2)
	replaceFile(t, live.Cert, renewed.Cert)
	replaceFile(t, live.Key, renewed.Key)
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "smtp TLS certificate loaded", map[string]string{"cert": live.Cert})
	s.WaitLog(10*time.Second, "reloaded", nil)
	if got := smtptest.PeerSerial(t, smtptest.DialSTARTTLS(t, addr, renewed.Pool)); got != "2" {
		t.Errorf("after the reload: certificate serial %s, want 2", got)
	}

	// The session opened before the reload was not disturbed.
	if err := open.SendMail("alice@example.org", []string{"quote@localhost"},
		strings.NewReader("From: alice@example.org\r\nSubject: today\r\n\r\nhi\r\n")); err != nil {
		t.Fatalf("session opened before the reload: %v", err)
	}
	if err := open.Quit(); err != nil {
		t.Errorf("QUIT on the session opened before the reload: %v", err)
	}
	sink.Wait(t, 1, 30*time.Second)

	// A broken renewal is refused; the certificate in use stays.
	if err := os.WriteFile(live.Cert, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	line := s.WaitLog(10*time.Second, "reload: keeping the current TLS certificate", map[string]string{"frontend": "smtp", "level": "ERROR"})
	if err, _ := line["err"].(string); !strings.Contains(err, live.Cert) {
		t.Errorf("reload error %q does not name the file %s", err, live.Cert)
	}
	s.WaitLog(10*time.Second, "reloaded", nil)
	if got := smtptest.PeerSerial(t, smtptest.DialSTARTTLS(t, addr, renewed.Pool)); got != "2" {
		t.Errorf("after a failed reload: certificate serial %s, want still 2", got)
	}
}
