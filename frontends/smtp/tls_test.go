package smtp_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// tlsHarness is a harness whose server offers STARTTLS with a fresh
// certificate of serial 1, written to PEM files in dir.
func tlsHarness(t *testing.T, opts ...func(*setup)) (*harness, *smtpfe.Certificate, smtptest.CertFiles) {
	t.Helper()
	files := smtptest.WriteSelfSigned(t, t.TempDir(), 1)
	cert, err := smtpfe.LoadCertificate(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, append([]func(*setup){func(s *setup) { s.cfg.TLS = cert }}, opts...)...)
	return h, cert, files
}

// sendOn sends one request from from on an open session.
func sendOn(t *testing.T, c *gosmtp.Client, from string) {
	t.Helper()
	msg := strings.ReplaceAll(request("today"), "\n", "\r\n")
	if err := c.SendMail(from, []string{"quote@quotes.test"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("sending from %s: %v", from, err)
	}
}

// advertises reports whether the server's EHLO reply lists STARTTLS.
func advertises(t *testing.T, addr string) bool {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	ok, _ := c.Extension("STARTTLS")
	return ok
}

func TestSMTP_STARTTLSIsAdvertisedOnlyWithACertificate(t *testing.T) {
	if advertises(t, newHarness(t).addr) {
		t.Error("EHLO advertises STARTTLS without a certificate")
	}
	h, _, _ := tlsHarness(t)
	if !advertises(t, h.addr) {
		t.Error("EHLO does not advertise STARTTLS with a certificate")
	}
}

func TestSMTP_RequestOverSTARTTLSGetsTheSameReply(t *testing.T) {
	h, _, files := tlsHarness(t)
	c := smtptest.DialSTARTTLS(t, h.addr, files.Pool)
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS is advertised again inside TLS (RFC 3207 §4.2)")
	}
	sendOn(t, c, "alice@example.org")
	if err := c.Quit(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
	r := parseReply(t, h.sink.Wait(t, 1, 10*time.Second)[0])
	if got, want := r.env.To, []string{"alice@example.org"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("reply to %v, want %v", got, want)
	}
	if q := h.today(t); !strings.Contains(r.text, q.Text[:min(len(q.Text), 20)]) {
		t.Errorf("reply lacks today's quote %q:\n%s", q.Text, r.text)
	}
	if got := h.counter(t, "quotesd_smtp_tls_sessions_total", ""); got != 1 {
		t.Errorf("quotesd_smtp_tls_sessions_total = %v, want 1", got)
	}
	if logs := h.Logs(); !strings.Contains(logs, `"msg":"smtp session encrypted"`) || !strings.Contains(logs, `"tls":"TLS 1.3"`) {
		t.Errorf("no debug line for the encrypted session with its TLS version; logs:\n%s", logs)
	}
}

func TestSMTP_PlainSessionsAreStillServedWithTLSConfigured(t *testing.T) {
	h, _, _ := tlsHarness(t)
	r := h.exchange(t, "quote@quotes.test", request("today"))
	if r.env.To[0] != "alice@example.org" {
		t.Errorf("reply to %v, want alice@example.org", r.env.To)
	}
	if got := h.counter(t, "quotesd_smtp_tls_sessions_total", ""); got != 0 {
		t.Errorf("quotesd_smtp_tls_sessions_total = %v after a plain session, want 0", got)
	}
}

func TestSMTP_STARTTLSRefusesVersionsBeforeTLS12(t *testing.T) {
	h, _, files := tlsHarness(t)
	old, err := gosmtp.DialStartTLS(h.addr, &tls.Config{RootCAs: files.Pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11})
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer old.Close()
	if err := old.Hello("client.test"); err == nil {
		t.Fatal("a TLS 1.1 client completed the handshake, want it refused")
	}
	// The refusal is of that handshake only: the server goes on serving.
	c := smtptest.DialSTARTTLS(t, h.addr, files.Pool)
	if st, _ := c.TLSConnectionState(); st.Version < tls.VersionTLS12 {
		t.Errorf("negotiated %s, want TLS 1.2 or later", tls.VersionName(st.Version))
	}
}

func TestSMTP_ReloadedCertificateServesNewSessionsWithoutDroppingOpenOnes(t *testing.T) {
	h, cert, old := tlsHarness(t)
	open := smtptest.DialSTARTTLS(t, h.addr, old.Pool)
	if got := smtptest.PeerSerial(t, open); got != "1" {
		t.Fatalf("first session: certificate serial %s, want 1", got)
	}

	renewed := smtptest.WriteSelfSigned(t, t.TempDir(), 2)
	if err := cert.Reload(renewed.Cert, renewed.Key); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if c, k := cert.Files(); c != renewed.Cert || k != renewed.Key {
		t.Errorf("Files() = %s, %s; want %s, %s", c, k, renewed.Cert, renewed.Key)
	}
	if got := smtptest.PeerSerial(t, smtptest.DialSTARTTLS(t, h.addr, renewed.Pool)); got != "2" {
		t.Errorf("session after the reload: certificate serial %s, want 2", got)
	}

	// The session opened before goes on with its own certificate.
	sendOn(t, open, "alice@example.org")
	if err := open.Quit(); err != nil {
		t.Fatalf("QUIT on the session opened before the reload: %v", err)
	}
	h.sink.Wait(t, 1, 10*time.Second)
}

func TestSMTP_BrokenCertificateOnReloadKeepsTheOldOne(t *testing.T) {
	h, cert, files := tlsHarness(t)
	dir := t.TempDir()
	broken := dir + "/broken.pem"
	if err := os.WriteFile(broken, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := cert.Reload(broken, files.Key)
	if err == nil || !strings.Contains(err.Error(), broken) {
		t.Fatalf("Reload with a broken certificate: err = %v, want one naming %s", err, broken)
	}
	if c, _ := cert.Files(); c != files.Cert {
		t.Errorf("Files() = %s after a failed reload, want %s still", c, files.Cert)
	}
	if got := smtptest.PeerSerial(t, smtptest.DialSTARTTLS(t, h.addr, files.Pool)); got != "1" {
		t.Errorf("after a failed reload: certificate serial %s, want the old one, 1", got)
	}
}

func TestLoadCertificate_ErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	a := smtptest.WriteSelfSigned(t, dir, 1)
	b := smtptest.WriteSelfSigned(t, dir, 2)
	garbage := dir + "/garbage.pem"
	if err := os.WriteFile(garbage, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cert, key string
		want      []string
	}{
		{"MissingCert", dir + "/none.pem", a.Key, []string{dir + "/none.pem", "certificate"}},
		{"MissingKey", a.Cert, dir + "/none.pem", []string{dir + "/none.pem", "key"}},
		{"GarbageCert", garbage, a.Key, []string{garbage, "certificate input"}},
		{"GarbageKey", a.Cert, garbage, []string{garbage, "key input"}},
		{"KeyOfAnotherCert", a.Cert, b.Key, []string{a.Cert, b.Key, "does not match"}},
		{"KeyGivenAsCert", a.Key, a.Key, []string{a.Key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smtpfe.LoadCertificate(tt.cert, tt.key)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := smtpfe.LoadCertificate(a.Cert, a.Key); err != nil {
		t.Errorf("a good pair: %v", err)
	}
}

func TestSMTP_StalledTLSHandshakeIsCutAndFreesItsSlot(t *testing.T) {
	h, _, files := tlsHarness(t, func(s *setup) {
		s.cfg.ReadTimeout = 300 * time.Millisecond
		s.cfg.MaxConns = 1
	})
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readLine(t, c) // 220
	fmt.Fprintf(c, "EHLO client.test\r\n")
	for line := readLine(t, c); strings.HasPrefix(line, "250-"); line = readLine(t, c) {
	}
	fmt.Fprintf(c, "STARTTLS\r\n")
	if got := readLine(t, c); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("STARTTLS got %q, want 220", got)
	}
	// Now say nothing: no ClientHello. The server must give up.
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("waiting for the server to close the stalled session: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stalled handshake held for %v, want about twice the 300ms read timeout", took)
	}
	// The one connection slot is free again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		cl, err := gosmtp.DialStartTLS(h.addr, &tls.Config{RootCAs: files.Pool, ServerName: "localhost"})
		if err == nil {
			err = cl.Hello("client.test")
			cl.Close()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the stalled session ended, a new one fails: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
