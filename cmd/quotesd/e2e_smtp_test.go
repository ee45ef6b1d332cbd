package main

// End-to-end tests of the mail frontend: the real binary, a real client no
// one here wrote (swaks), and a go-smtp sink on loopback as the relay.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	gosmtp "github.com/emersion/go-smtp"

	"quotesd/frontends/smtp/smtptest"
	"quotesd/quoter"
	"quotesd/quoter/quotertest"
	"quotesd/quoter/sqlite"
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

// todaysQuote is what `quotesd today` prints for the library at path: the
// quote of the day in the local zone (serve runs without --tz here too).
func todaysQuote(t *testing.T, path string) *quoter.Quote {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cal, err := quoter.LoadCalendar("")
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Today(context.Background(), cal.Today(), quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestE2E_SMTP_SwaksRequestGetsReplyAtRelay(t *testing.T) {
	swaks := e2eTool(t, "swaks")
	sink := smtptest.NewSink(t, smtptest.Options{})
	db := smtpLibrary(t)
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
	if want := todaysQuote(t, db).Render(); !strings.Contains(text, want) {
		t.Errorf("reply lacks today's quote %q:\n%s", want, text)
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
	s = smtpServe(t, db, state, relay)
	ms := sink.Wait(t, n, 30*time.Second)
	time.Sleep(time.Second) // time enough for a duplicate to arrive
	ms = sink.Messages()
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
