package main

// Faults of the mail frontend through the real binary: a full state disk
// must not turn the queue into a mail bomb.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"

	gosmtp "github.com/emersion/go-smtp"
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
		"--smtp-retry-min", "100ms", "--smtp-retry-max", "300ms",
		"--smtp-ip-rate", "0", "--smtp-reply-limit", "0", "--smtp-ip-reply-limit", "0"}, offExcept("smtp", "ops")...)...)
	ops := "http://" + s.Addr("ops")
	n := 3
	for i := 1; i <= n; i++ {
		sendRequest(t, s.Addr("smtp"), fmt.Sprintf("user%d@example.org", i))
	}
	s.WaitLog(30*time.Second, "smtp delivery deferred: cannot connect", nil)
	filler := smtptest.FillFS(t, state)
	// The queue's write-ahead log may still have room in the space it
	// holds already: requests go on until the queue itself cannot write,
	// so that the disk is full for it too. Each one it took is a reply.
	for i := n + 1; ; i++ {
		if i > 5000 {
			t.Fatal("the queue took 5000 more requests on a full disk")
		}
		err := trySend(t, s.Addr("smtp"), fmt.Sprintf("user%d@example.org", i))
		var se *gosmtp.SMTPError
		if errors.As(err, &se) && se.Code == 451 {
			break
		}
		if err != nil {
			t.Fatalf("request %d on a full disk: %v, want 250 or 451", i, err)
		}
		n = i
	}

	// The relay is back. A reply goes out only once the queue has
	// recorded that it is being sent, which on a full disk it most often
	// cannot; one that went out is never sent again while the delivery
	// is unrecorded.
	sink := smtptest.NewSink(t, smtptest.Options{Addr: relay})
	s.WaitLog(30*time.Second, "smtp delivery paused: the mail queue cannot record deliveries", nil)
	time.Sleep(2 * time.Second) // many retry periods: time enough for copies to pile up
	got := len(sink.Messages())
	for rcpt, copies := range perRecipient(sink.Messages()) {
		if copies > 1 {
			t.Errorf("with the state disk full the relay got %d copies of the reply to %s, want at most 1", copies, rcpt)
		}
	}
	if code, body := httpGet(t, ops+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "mail queue") {
		t.Errorf("/readyz with the state disk full: %d %q, want 503 naming the mail queue", code, body)
	}
	_, metrics := httpGet(t, ops+"/metrics")
	if got := metric(metrics, "quotesd_smtp_queue_store_failing"); got != "quotesd_smtp_queue_store_failing 1" {
		t.Errorf("with the state disk full: %s, want 1", got)
	}
	if line := metric(metrics, "quotesd_smtp_replies_unrecorded"); line != fmt.Sprintf("quotesd_smtp_replies_unrecorded %d", got) {
		t.Errorf("with the state disk full: %s, want %d (the replies the relay took)", line, got)
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
	sink.Wait(t, n, 30*time.Second)
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
	for rcpt, copies := range perRecipient(sink.Messages()) {
		if copies != 1 {
			t.Errorf("once the disk had room the relay had %d copies of the reply to %s, want 1", copies, rcpt)
		}
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

// perRecipient counts messages by their envelope recipients.
func perRecipient(ms []smtptest.Message) map[string]int {
	n := map[string]int{}
	for _, m := range ms {
		n[strings.Join(m.To, ",")]++
	}
	return n
}

// Restarts on a state disk that fills while each delivery is under way
// (the start-up write succeeds, the record of the delivery fails) send a
// reply at most once more than it was, not once per restart: the second
// run sends it once more, the third gives it up.
func TestE2E_SMTP_RestartsOnAFillingStateDiskSendAReplyAtMostOnceMore(t *testing.T) {
	db := smtpLibrary(t)
	state := smtptest.SmallFS(t, 1<<20)
	// Each RCPT waits until the test has filled the disk.
	arrived := make(chan chan struct{}, 1)
	sink := smtptest.NewSink(t, smtptest.Options{Reject: func(string) error {
		release := make(chan struct{})
		select {
		case arrived <- release:
			<-release
		default:
		}
		return nil
	}})
	const runs = 3
	for run := 1; run <= runs; run++ {
		s := smtpServe(t, db, state, sink.Addr, "--smtp-retry-min", "1h", "--smtp-retry-max", "1h")
		if run == 1 {
			sendRequest(t, s.Addr("smtp"), "alice@example.org")
		}
		filler := ""
		deadline := time.Now().Add(30 * time.Second)
	wait:
		for {
			select {
			case release := <-arrived:
				filler = smtptest.FillFS(t, state)
				close(release)
				s.WaitLog(30*time.Second, "smtp delivery paused: the mail queue cannot record deliveries", nil)
				break wait
			case <-time.After(50 * time.Millisecond):
				if slices.ContainsFunc(s.Logs(), func(l string) bool {
					return strings.Contains(l, `"msg":"smtp reply dropped"`) && strings.Contains(l, `"reason":"unrecorded"`)
				}) {
					break wait
				}
				if time.Now().After(deadline) {
					t.Fatalf("run %d: the reply was neither sent nor given up within 30 s", run)
				}
			}
		}
		if err := s.Stop(); err != nil {
			t.Logf("run %d: quotesd exited with %v (its queue closed on a full disk)", run, err)
		}
		if filler != "" {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		}
		if run == 2 && !slices.ContainsFunc(s.Logs(), func(l string) bool {
			return strings.Contains(l, "replies were being sent when quotesd last stopped")
		}) {
			t.Errorf("run 2 did not log that the reply the first run sent may be sent once more")
		}
	}
	if got := len(sink.Messages()); got != 2 {
		t.Errorf("over %d runs, each stopped with the delivery unrecorded, the relay got %d copies of the reply, want 2 (once, and once more)", runs, got)
	}
}
