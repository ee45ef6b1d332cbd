package main

// End-to-end tests of the mail frontend: the real binary, a real client no
// one here wrote (swaks), and a go-smtp sink on loopback as the relay.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// smtpServe starts `quotesd serve` with only the mail frontend, on
// 127.0.0.1:0, relaying to relay, with its queue in stateDir.
func smtpServe(t *testing.T, db, stateDir, relay string, args ...string) *server {
	t.Helper()
	all := append([]string{"--smtp-addr", "127.0.0.1:0", "--state-dir", stateDir,
		"--smtp-domain", "localhost", "--smtp-relay", relay, "--smtp-relay-tls", "none",
		"--smtp-retry-min", "100ms", "--smtp-retry-max", "300ms"}, offExcept("smtp")...)
	return startServe(t, db, []string{"smtp"}, append(all, args...)...)
}

func smtpLibrary(t *testing.T) string {
	t.Helper()
	return writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
}

func TestE2E_SMTP_SwaksRequestGetsReplyAtRelay(t *testing.T) {
	swaks := e2eTool(t, "swaks")
	sink := smtptest.NewSink(t, smtptest.Options{})
	db := tempLibrary(t) // the shipped library, by `quotesd init`
	s := smtpServe(t, db, t.TempDir(), sink.Addr)
	host, port, _ := strings.Cut(s.Addr("smtp"), ":")

	cmd := exec.Command(swaks, "--server", host, "--port", port, "--helo", "client.test",
		"--from", "alice@example.org", "--to", "quote@localhost",
		"--header", "Subject: today", "--header", "Message-Id: <swaks-1@example.org>",
		"--body", "A quote, please.", "--timeout", "30")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "<-  250 2.0.0") {
		t.Errorf("swaks transcript lacks a 250 to DATA:\n%s", out)
	}

	m := sink.Wait(t, 1, 30*time.Second)[0]
	if m.From != "" || len(m.To) != 1 || m.To[0] != "alice@example.org" {
		t.Errorf("envelope: from <%s> to %v, want <> and [alice@example.org]", m.From, m.To)
	}
	mr, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parsing reply: %v\n%s", err, m.Data)
	}
	for k, want := range map[string]string{
		"From": `"Quote of the Day" <quote@localhost>`, "To": "<alice@example.org>", "Subject": "Re: today",
		"In-Reply-To": "<swaks-1@example.org>", "Auto-Submitted": "auto-replied",
	} {
		if got := mr.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	today, stderr, code := runQuotesd(t, nil, "--db", db, "today")
	if code != 0 {
		t.Fatalf("quotesd today: exit %d: %s", code, stderr)
	}
	if want := strings.TrimSuffix(today, "\n"); !strings.Contains(text, want) {
		t.Errorf("reply lacks what `quotesd today` prints, %q:\n%s", want, text)
	}
}

// sendRequest sends one request with a go-smtp client.
func sendRequest(t *testing.T, addr, from string) {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := fmt.Sprintf("From: %s\r\nTo: quote@localhost\r\nSubject: today\r\n\r\nhi\r\n", from)
	if err := c.SendMail(from, []string{"quote@localhost"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("sending from %s: %v", from, err)
	}
}

func TestE2E_SMTP_KilledWithQueuedRepliesDeliversThemOnceAfterRestart(t *testing.T) {
	db := smtpLibrary(t)
	state := t.TempDir()
	relay := smtptest.FreeAddr(t) // the relay is down

	s := smtpServe(t, db, state, relay)
	const n = 5
	for i := 1; i <= n; i++ {
		sendRequest(t, s.Addr("smtp"), fmt.Sprintf("user%d@example.org", i))
	}
	s.WaitLog(30*time.Second, "smtp delivery deferred: cannot connect", nil)
	s.Kill() // kill -9 with every reply queued

	sink := smtptest.NewSink(t, smtptest.Options{Addr: relay}) // the relay is back
	smtpServe(t, db, state, relay)
	sink.Wait(t, n, 30*time.Second)
	time.Sleep(time.Second) // time enough for a duplicate to arrive
	ms := sink.Messages()
	seen := map[string]int{}
	for _, m := range ms {
		seen[strings.Join(m.To, ",")]++
	}
	if len(ms) != n || len(seen) != n {
		t.Errorf("after restart: %d messages to %v, want %d, one per requester", len(ms), seen, n)
	}
	for i := 1; i <= n; i++ {
		if rcpt := fmt.Sprintf("user%d@example.org", i); seen[rcpt] != 1 {
			t.Errorf("%s got %d replies, want 1", rcpt, seen[rcpt])
		}
	}
}

func TestE2E_SMTP_DKIMSignsRepliesWithKeyFile(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	sink := smtptest.NewSink(t, smtptest.Options{})
	s := smtpServe(t, smtpLibrary(t), t.TempDir(), sink.Addr, "--smtp-dkim-key", keyFile, "--smtp-dkim-selector", "s1")
	sendRequest(t, s.Addr("smtp"), "alice@example.org")
	m := sink.Wait(t, 1, 30*time.Second)[0]
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Data), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "s1._domainkey.localhost" {
				return nil, fmt.Errorf("unexpected TXT lookup of %s", domain)
			}
			return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
		},
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("DKIM verification: %v %+v\n%s", err, vs, m.Data)
	}
}

func TestE2E_SMTP_BadSettingsFailTheStart(t *testing.T) {
	db := smtpLibrary(t)
	dir := t.TempDir()
	good := smtptest.WriteSelfSigned(t, dir, 1)
	malformed := dir + "/malformed.pem"
	if err := os.WriteFile(malformed, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := append([]string{"--db", db, "serve", "--smtp-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("smtp")...)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want []string // what stderr must mention
	}{
		{"RelayTLSMode", nil, []string{"--smtp-relay", "127.0.0.1:1", "--smtp-relay-tls", "sometimes"}, 2, []string{"--smtp-relay-tls"}},
		{"RelayUserWithoutPassword", []string{"QUOTESD_SMTP_RELAY_PASSWORD="}, []string{"--smtp-relay", "127.0.0.1:1", "--smtp-relay-user", "q"}, 2, []string{"no password"}},
		{"RelayAndDirectMX", nil, []string{"--smtp-relay", "127.0.0.1:1", "--smtp-direct-mx"}, 2, []string{"--smtp-direct-mx"}},
		{"EmptyDomain", nil, []string{"--smtp-domain", " , "}, 2, []string{"--smtp-domain"}},
		{"LocalPartWithAt", nil, []string{"--smtp-local-part", "a@b"}, 2, []string{"--smtp-local-part"}},
		{"MissingDKIMKey", nil, []string{"--smtp-dkim-key", "/nonexistent/key.pem"}, 1, []string{"--smtp-dkim-key"}},
		{"TLSCertWithoutKey", nil, []string{"--smtp-tls-cert", good.Cert}, 2, []string{"--smtp-tls-key"}},
		{"TLSKeyWithoutCertFromEnv", []string{"QUOTESD_SMTP_TLS_KEY=" + good.Key}, nil, 2, []string{"--smtp-tls-cert"}},
		{"MalformedTLSCert", nil, []string{"--smtp-tls-cert", malformed, "--smtp-tls-key", good.Key}, 1, []string{malformed, "certificate"}},
		{"MissingTLSKeyFile", nil, []string{"--smtp-tls-cert", good.Cert, "--smtp-tls-key", dir + "/none.pem"}, 1, []string{dir + "/none.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runQuotesd(t, tt.env, append(slices.Clone(base), tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
}

func TestE2E_SMTP_WithoutRelayRepliesAreHeldNotDelivered(t *testing.T) {
	t.Parallel()
	db := smtpLibrary(t)
	state := t.TempDir()
	args := append([]string{"--smtp-addr", "127.0.0.1:0", "--state-dir", state, "--smtp-domain", "localhost"}, offExcept("smtp")...)
	s := startServe(t, db, []string{"smtp"}, args...)
	s.WaitLog(10*time.Second, "ready", nil)
	if !slices.ContainsFunc(s.Logs(), func(l string) bool {
		return strings.Contains(l, `"level":"WARN"`) &&
			strings.Contains(l, `"msg":"smtp: no --smtp-relay and --smtp-direct-mx is off: replies are queued, not delivered"`)
	}) {
		t.Errorf("no WARN that replies are held; logs:\n%s", strings.Join(s.Logs(), "\n"))
	}
	sendRequest(t, s.Addr("smtp"), "alice@example.org")
	sendRequest(t, s.Addr("smtp"), "bob@example.org")
	time.Sleep(500 * time.Millisecond) // a delivery attempt would be logged by now
	for _, l := range s.Logs() {
		if strings.Contains(l, "smtp delivery") || strings.Contains(l, "reply delivered") {
			t.Errorf("held reply went to delivery: %s", l)
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// Restarted with a relay, the held replies go out, in order.
	sink := smtptest.NewSink(t, smtptest.Options{})
	smtpServe(t, db, state, sink.Addr)
	ms := sink.Wait(t, 2, 30*time.Second)
	if ms[0].To[0] != "alice@example.org" || ms[1].To[0] != "bob@example.org" {
		t.Errorf("delivered to %v then %v, want alice then bob", ms[0].To, ms[1].To)
	}
}

// trySend sends one request and returns the server's answer to it.
func trySend(t *testing.T, addr, from string) error {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := fmt.Sprintf("From: %s\r\nTo: quote@localhost\r\nSubject: today\r\n\r\nhi\r\n", from)
	return c.SendMail(from, []string{"quote@localhost"}, strings.NewReader(msg))
}

func TestE2E_SMTP_SIGHUPAppliesRateAndReplyLimitsLive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	config := filepath.Join(dir, "quotesd.conf")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("smtp-reply-limit = 1\nsmtp-ip-rate = 0.001\nsmtp-ip-burst = 3\n")
	sink := smtptest.NewSink(t, smtptest.Options{})
	s := smtpServe(t, smtpLibrary(t), t.TempDir(), sink.Addr, "--config", config)
	addr := s.Addr("smtp")

	// Before: one reply a day for alice, three messages per IP.
	sendRequest(t, addr, "alice@example.org")
	sendRequest(t, addr, "alice@example.org")
	s.WaitLog(10*time.Second, "smtp reply skipped", map[string]string{"reason": "recipient_limit"})
	sendRequest(t, addr, "bob@example.org")
	var se *gosmtp.SMTPError
	if err := trySend(t, addr, "carol@example.org"); !errors.As(err, &se) || se.Code != 450 {
		t.Fatalf("fourth message from one IP: %v, want 450", err)
	}

	// A reload with the same settings forgives nothing.
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "reload: no setting changed", nil)
	s.WaitLog(10*time.Second, "reloaded", nil)
	if err := trySend(t, addr, "carol@example.org"); !errors.As(err, &se) || se.Code != 450 {
		t.Fatalf("after a reload with the same rate, a message from the IP that spent its budget: %v, want 450", err)
	}

	write("smtp-reply-limit = 3\nsmtp-ip-rate = 6000\nsmtp-ip-burst = 100\n")
	s.Signal(syscall.SIGHUP)
	for _, setting := range []string{"smtp-reply-limit", "smtp-ip-rate", "smtp-ip-burst"} {
		s.WaitLog(10*time.Second, "reload: applied", map[string]string{"setting": setting})
	}
	s.WaitLog(10*time.Second, "reloaded", nil)
	// The IP keeps the budget it spent, and earns it back at the new rate,
	// 100 messages a second: 10 in 100 ms.
	time.Sleep(100 * time.Millisecond)

	// After, on the same socket: the rate no longer refuses, and alice
	// gets her second and third replies, not a fourth.
	for i := 0; i < 3; i++ {
		if err := trySend(t, addr, "alice@example.org"); err != nil {
			t.Fatalf("after reload, message %d: %v", i+1, err)
		}
	}
	s.WaitLog(10*time.Second, "smtp reply skipped", map[string]string{"reason": "recipient_limit"})
	ms := sink.Wait(t, 4, 30*time.Second) // alice once before, bob, alice twice after
	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, m := range sink.Messages() {
		if m.To[0] == "alice@example.org" {
			n++
		}
	}
	if n != 3 || len(ms) < 4 {
		t.Errorf("alice got %d replies, want 3 (the raised daily cap)", n)
	}
}

func TestE2E_SMTP_RelayDownForAMinuteThenUpDeliversAllOnceInOrder(t *testing.T) {
	t.Parallel() // a minute of waiting: let other tests run meanwhile
	db := smtpLibrary(t)
	relay := smtptest.FreeAddr(t) // down
	s := smtpServe(t, db, t.TempDir(), relay, "--smtp-retry-min", "2s", "--smtp-retry-max", "8s")
	addr := s.Addr("smtp")

	// Requests keep coming while the relay is down.
	const n = 6
	down := time.Now()
	for i := 1; i <= n; i++ {
		sendRequest(t, addr, fmt.Sprintf("user%d@example.org", i))
		if i == 1 {
			s.WaitLog(30*time.Second, "smtp delivery deferred: cannot connect", nil)
		}
		time.Sleep(8 * time.Second)
	}
	time.Sleep(time.Minute - time.Since(down))
	deferred := 0
	for _, l := range s.Logs() {
		if strings.Contains(l, `"msg":"smtp delivery deferred: cannot connect"`) {
			deferred++
		}
	}
	if deferred < 3 {
		t.Errorf("%d deferred attempts in a minute of relay outage, want several (retries with backoff)", deferred)
	}

	sink := smtptest.NewSink(t, smtptest.Options{Addr: relay}) // the relay is back
	up := time.Now()
	sink.Wait(t, n, 30*time.Second)
	t.Logf("all %d replies delivered %v after the relay came back", n, time.Since(up).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // time enough for a duplicate to arrive
	ms := sink.Messages()
	if len(ms) != n {
		t.Errorf("%d messages at the relay, want %d (each reply once)", len(ms), n)
	}
	for i, m := range ms {
		if want := fmt.Sprintf("user%d@example.org", i+1); len(m.To) != 1 || m.To[0] != want {
			t.Errorf("message %d went to %v, want %s: replies out of arrival order", i+1, m.To, want)
		}
	}
}
