package main

// Faults of the mail frontend through the real binary: a full state disk
// must not turn the queue into a mail bomb.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"quotesd/frontends/smtp/smtptest"
)

// httpGet returns the status and body of GET url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// metric returns the line of the metric name in a /metrics body.
func metric(body, name string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	return name + " (missing)"
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestE2E_SMTP_FullStateDiskSendsEachReplyOnceAndPausesDelivery(t *testing.T) {
	db := smtpLibrary(t)
	state := smtptest.SmallFS(t, 1<<20)
	relay := smtptest.FreeAddr(t) // down while the replies are queued
	s := startServe(t, db, []string{"smtp", "ops"}, append([]string{
		"--smtp-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0", "--state-dir", state,
		"--smtp-domain", "localhost", "--smtp-relay", relay, "--smtp-relay-tls", "none",
		"--smtp-retry-min", "100ms", "--smtp-retry-max", "300ms"}, offExcept("smtp", "ops")...)...)
	ops := "http://" + s.Addr("ops")
	const n = 3
	for i := 1; i <= n; i++ {
		sendRequest(t, s.Addr("smtp"), fmt.Sprintf("user%d@example.org", i))
	}
	s.WaitLog(30*time.Second, "smtp delivery deferred: cannot connect", nil)
	filler := smtptest.FillFS(t, state)

	sink := smtptest.NewSink(t, smtptest.Options{Addr: relay}) // the relay is back
	sink.Wait(t, n, 30*time.Second)
	s.WaitLog(30*time.Second, "smtp delivery paused: the mail queue cannot record deliveries", nil)
	time.Sleep(2 * time.Second) // many retry periods: time enough for copies to pile up
	if got := len(sink.Messages()); got != n {
		t.Errorf("with the state disk full the relay got %d messages, want %d: each reply once", got, n)
	}
	if code, body := httpGet(t, ops+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "mail queue") {
		t.Errorf("/readyz with the state disk full: %d %q, want 503 naming the mail queue", code, body)
	}
	_, metrics := httpGet(t, ops+"/metrics")
	if got := metric(metrics, "quotesd_smtp_queue_store_failing"); got != "quotesd_smtp_queue_store_failing 1" {
		t.Errorf("with the state disk full: %s, want 1", got)
	}
	if got := metric(metrics, "quotesd_smtp_replies_unrecorded"); got != fmt.Sprintf("quotesd_smtp_replies_unrecorded %d", n) {
		t.Errorf("with the state disk full: %s, want %d", got, n)
	}
	// Logged at a bounded rate: the pause once, its retries backing off.
	paused, retries := 0, 0
	for _, line := range s.Logs() {
		if strings.Contains(line, "smtp delivery paused") {
			paused++
		}
		if strings.Contains(line, "smtp queue still cannot record") {
			retries++
		}
	}
	if paused != 1 || retries > 12 {
		t.Errorf("in the 2 s the disk was full: %d pause lines and %d retry lines, want 1 and a few", paused, retries)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.WaitLog(30*time.Second, "smtp delivery resumed: the mail queue can record deliveries again", nil)
	if !waitFor(10*time.Second, func() bool { code, _ := httpGet(t, ops+"/readyz"); return code == http.StatusOK }) {
		code, body := httpGet(t, ops+"/readyz")
		t.Errorf("/readyz once there is room: %d %q, want 200", code, body)
	}
	_, metrics = httpGet(t, ops+"/metrics")
	for _, want := range []string{"quotesd_smtp_queue_store_failing 0", "quotesd_smtp_replies_unrecorded 0"} {
		if got := metric(metrics, strings.Fields(want)[0]); got != want {
			t.Errorf("once there is room: %s, want %s", got, want)
		}
	}
	time.Sleep(time.Second) // time enough for a copy to arrive
	if got := len(sink.Messages()); got != n {
		t.Errorf("once the disk had room the relay had %d messages, want %d", got, n)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	// The deliveries were recorded: a restart sends nothing again.
	smtpServe(t, db, state, relay)
	time.Sleep(time.Second)
	if got := len(sink.Messages()); got != n {
		t.Errorf("after a restart the relay had %d messages, want %d", got, n)
	}
}
