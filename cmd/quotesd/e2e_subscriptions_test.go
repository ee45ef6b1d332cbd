package main

// End-to-end tests of the mail subscriptions: the real binary with its mail
// and web frontends, a real mail client (swaks) for what subscribers send,
// real HTTP for the links, and a go-smtp sink on loopback as the relay.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// subsBaseURL is the --mail-base-url of the tests: the links of the mail
// name it, and the tests send them to the web frontend's real address.
const subsBaseURL = "https://quotes.example.org"

// subsServe starts `quotesd serve` (time zone UTC) with the mail and web
// frontends on 127.0.0.1:0, subscriptions on with the daily mail at
// daily, relaying to relay, the queue in stateDir.
func subsServe(t *testing.T, db, stateDir, relay, daily string, args ...string) *server {
	t.Helper()
	all := []string{"--db", db, "--tz", "UTC", "serve", "--log-format", "json", "--log-level", "debug",
		"--smtp-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0", "--state-dir", stateDir,
		"--smtp-domain", "localhost", "--smtp-relay", relay, "--smtp-relay-tls", "none",
		"--smtp-retry-min", "100ms", "--smtp-retry-max", "300ms",
		"--smtp-ip-rate", "6000", "--smtp-ip-burst", "1000", "--smtp-ip-reply-limit", "0",
		"--mail-daily", daily, "--mail-base-url", subsBaseURL}
	all = append(all, offExcept("smtp", "web")...)
	cmd := exec.Command(quotesdBinary(t), append(all, args...)...)
	cmd.Env = os.Environ()
	return startProcess(t, cmd, []string{"smtp", "web"})
}

// swaksMail sends one message with swaks and fails the test unless the
// server took it (250 to DATA). from "<>" is the null sender; data, when
// not "", is the whole message (header and body).
func swaksMail(t *testing.T, addr, from, to, subject, data string, headers ...string) {
	t.Helper()
	swaks := e2eTool(t, "swaks")
	host, port, _ := strings.Cut(addr, ":")
	args := []string{"--server", host, "--port", port, "--helo", "client.test", "--from", from, "--to", to, "--timeout", "30"}
	if data != "" {
		f := filepath.Join(t.TempDir(), "message.eml")
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--data", f)
	} else {
		args = append(args, "--header", "Subject: "+subject, "--body", "hello")
		for _, h := range headers {
			args = append(args, "--header", h)
		}
	}
	out, err := exec.Command(swaks, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "<-  250 2.0.0") {
		t.Fatalf("swaks from %s to %s: %v\n%s", from, to, err, out)
	}
}

// sinkMessagesTo returns the messages at the sink for rcpt whose subject
// contains subject.
func sinkMessagesTo(t *testing.T, sink *smtptest.Sink, rcpt, subject string) []smtptest.Message {
	t.Helper()
	var out []smtptest.Message
	for _, m := range sink.Messages() {
		if len(m.To) == 1 && m.To[0] == rcpt && strings.Contains(header(t, m, "Subject"), subject) {
			out = append(out, m)
		}
	}
	return out
}

// waitMessageTo waits for a message at the sink for rcpt whose subject
// contains subject.
func waitMessageTo(t *testing.T, sink *smtptest.Sink, rcpt, subject string) smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ms := sinkMessagesTo(t, sink, rcpt, subject); len(ms) > 0 {
			return ms[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no message to %s with %q in its subject in 30s; the sink has %d", rcpt, subject, len(sink.Messages()))
	return smtptest.Message{}
}

func header(t *testing.T, m smtptest.Message, key string) string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parsing message: %v\n%s", err, m.Data)
	}
	v := mr.Header.Get(key)
	if key == "Subject" {
		if s, err := mr.Header.Subject(); err == nil {
			v = s
		}
	}
	return v
}

var tokenRE = regexp.MustCompile(`confirm ([0-9a-f]{32})`)

// confirmToken returns the token of a confirmation request.
func confirmToken(t *testing.T, m smtptest.Message) string {
	t.Helper()
	sm := tokenRE.FindStringSubmatch(header(t, m, "Subject"))
	if sm == nil {
		t.Fatalf("confirmation request without a token in its subject: %q", header(t, m, "Subject"))
	}
	return sm[1]
}

// webURL turns a link of the mail into the same path on the web
// frontend's real address.
func webURL(t *testing.T, s *server, link string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(link, subsBaseURL)
	if !ok {
		t.Fatalf("link %q is not under --mail-base-url %s", link, subsBaseURL)
	}
	return "http://" + s.Addr("web") + rest
}

// dsn is a delivery status notification (RFC 3464) of a permanent failure
// to deliver to rcpt, as an MTA sends it to the bounce address to.
func dsn(to, rcpt string) string {
	return "From: MAILER-DAEMON@mx.example.org\r\nTo: " + to + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 No such user\r\n\r\n--b1--\r\n"
}

func subscribersList(t *testing.T, db, state string) string {
	t.Helper()
	out, stderr, code := runQuotesd(t, nil, "--db", db, "subscribers", "export", "--state-dir", state)
	if code != 0 {
		t.Fatalf("quotesd subscribers export: exit %d: %s", code, stderr)
	}
	return out
}

func TestE2E_Subscriptions_SubscribeConfirmDailyMailUnsubscribeBounce(t *testing.T) {
	e2eTool(t, "swaks")
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
	db, state := smtpLibrary(t), t.TempDir()
	sink := smtptest.NewSink(t, smtptest.Options{})
	// The daily mail is due at 23:59: none goes out during the first run
	// (none is confirmed at its start, when a run already due would go).
	s := subsServe(t, db, state, sink.Addr, "23:59", "--smtp-dkim-key", keyFile, "--smtp-dkim-selector", "s1")
	addr := s.Addr("smtp")

	// Subscribe: one confirmation request each.
	swaksMail(t, addr, "alice@example.org", "quote@localhost", "subscribe poetry", "")
	swaksMail(t, addr, "bob@example.org", "quote@localhost", "subscribe", "")
	swaksMail(t, addr, "carol@example.org", "quote+subscribe@localhost", "please", "")
	reqA := waitMessageTo(t, sink, "alice@example.org", "Confirm your subscription")
	reqB := waitMessageTo(t, sink, "bob@example.org", "Confirm your subscription")
	reqC := waitMessageTo(t, sink, "carol@example.org", "Confirm your subscription")
	tokA, tokB := confirmToken(t, reqA), confirmToken(t, reqB)
	confirmToken(t, reqC)
	if reqA.From != "" {
		t.Errorf("confirmation request from <%s>, want the null reverse path (RFC 3834 §3.3)", reqA.From)
	}
	for k, want := range map[string]string{
		"Auto-Submitted": "auto-replied",
		"Reply-To":       `"Quote of the Day" <quote+confirm-` + tokA + `@localhost>`,
	} {
		if got := header(t, reqA, k); got != want {
			t.Errorf("confirmation request %s: %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(decodedText(t, reqA), subsBaseURL+"/subscriptions/confirm?token="+tokA) {
		t.Errorf("confirmation request lacks its link:\n%s", decodedText(t, reqA))
	}

	// A forged subscribe flood against a victim: one confirmation a day.
	for i := 0; i < 5; i++ {
		swaksMail(t, addr, "victim@example.org", "quote@localhost", "subscribe", "")
	}
	waitMessageTo(t, sink, "victim@example.org", "Confirm your subscription")
	s.WaitLog(10*time.Second, "smtp reply skipped", map[string]string{"reason": "confirmation_limit", "sender": "victim@example.org"})

	// Confirm: alice by replying (to the Reply-To, subject "Re: ..."),
	// carol by a reply that only names the request in In-Reply-To, bob
	// by the link.
	swaksMail(t, addr, "alice@example.org", "quote+confirm-"+tokA+"@localhost", "Re: "+header(t, reqA, "Subject"), "",
		"In-Reply-To: "+header(t, reqA, "Message-Id"))
	swaksMail(t, addr, "carol@example.org", "quote@localhost", "Re: that mail", "",
		"In-Reply-To: "+header(t, reqC, "Message-Id"))
	link := regexp.MustCompile(regexp.QuoteMeta(subsBaseURL) + `/subscriptions/confirm\?token=[0-9a-f]+`).FindString(decodedText(t, reqB))
	if link == "" {
		t.Fatalf("bob's confirmation request has no link:\n%s", decodedText(t, reqB))
	}
	for i := 0; i < 2; i++ { // opening it twice is harmless
		resp, err := http.Get(webURL(t, s, link))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "bob@example.org") {
			t.Fatalf("confirmation link: %d\n%s", resp.StatusCode, body)
		}
	}
	list := subscribersListWait(t, db, state, 3)
	for _, a := range []string{"alice@example.org", "bob@example.org", "carol@example.org"} {
		if !strings.Contains(list, a+",") || !regexp.MustCompile(regexp.QuoteMeta(a)+`,[^\n]*,confirmed`).MatchString(list) {
			t.Errorf("%s not confirmed:\n%s", a, list)
		}
	}
	if !regexp.MustCompile(`victim@example.org,[^\n]*,pending`).MatchString(list) {
		t.Errorf("victim not pending:\n%s", list)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if n := len(sinkMessagesTo(t, sink, "victim@example.org", "")); n != 1 {
		t.Errorf("victim got %d messages from 5 forged subscribes, want 1", n)
	}

	// The daily mail: started again with a time already past today, the
	// run is due at once (the injected time).
	s = subsServe(t, db, state, sink.Addr, "00:00", "--smtp-dkim-key", keyFile, "--smtp-dkim-selector", "s1")
	dailyA := waitMessageTo(t, sink, "alice@example.org", "Quote of the day")
	dailyB := waitMessageTo(t, sink, "bob@example.org", "Quote of the day")
	waitMessageTo(t, sink, "carol@example.org", "Quote of the day")
	if want := "quote+bounce-" + tokA + "@localhost"; dailyA.From != want {
		t.Errorf("daily mail's envelope sender <%s>, want %s (VERP)", dailyA.From, want)
	}
	if !strings.HasSuffix(header(t, dailyA, "Subject"), "(poetry)") {
		t.Errorf("alice's daily mail subject %q: want her tag", header(t, dailyA, "Subject"))
	}
	for k, want := range map[string]string{
		"List-Id":               `"Quote of the Day" <quote.localhost>`,
		"List-Unsubscribe":      "<mailto:quote+unsubscribe-" + tokB + "@localhost?subject=unsubscribe>, <" + subsBaseURL + "/subscriptions/unsubscribe?token=" + tokB + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Precedence":            "list",
		"Auto-Submitted":        "auto-generated",
		"To":                    "<bob@example.org>",
	} {
		if got := header(t, dailyB, k); got != want {
			t.Errorf("daily mail %s: %q, want %q", k, got, want)
		}
	}
	oneClick := subsBaseURL + "/subscriptions/unsubscribe?token=" + tokB
	checkDailyBody(t, dailyB)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(dailyB.Data), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
		},
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("DKIM verification of the daily mail: %v %+v", err, vs)
	}
	if h := strings.ToLower(header(t, dailyB, "Dkim-Signature")); !strings.Contains(h, "list-unsubscribe") || !strings.Contains(h, "list-unsubscribe-post") {
		t.Errorf("the DKIM signature does not cover List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §4): %s", h)
	}
	// A second start the same day sends no second daily mail.
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s = subsServe(t, db, state, sink.Addr, "00:00")
	addr = s.Addr("smtp")
	s.WaitLog(30*time.Second, "smtp daily mail queued", map[string]string{})
	time.Sleep(time.Second)
	for _, a := range []string{"alice@example.org", "bob@example.org", "carol@example.org"} {
		if n := len(sinkMessagesTo(t, sink, a, "Quote of the day")); n != 1 {
			t.Errorf("%s got %d daily mails after two starts on one day, want 1", a, n)
		}
	}

	// Unsubscribe: bob by RFC 8058 one-click, twice; carol by mail.
	for i := 0; i < 2; i++ {
		resp, err := http.Post(webURL(t, s, oneClick), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("one-click unsubscribe POST %d: %d, want 200", i+1, resp.StatusCode)
		}
	}
	swaksMail(t, addr, "carol@example.org", "quote@localhost", "unsubscribe", "")

	// Alice's address bounces, for good, three times.
	for i := 0; i < 3; i++ {
		swaksMail(t, addr, "<>", "quote+bounce-"+tokA+"@localhost", "", dsn("quote+bounce-"+tokA+"@localhost", "alice@example.org"))
	}
	s.WaitLog(10*time.Second, "smtp hard bounce counted", map[string]string{"state": "unsubscribed", "address": "alice@example.org"})
	list = subscribersList(t, db, state)
	for _, a := range []string{"alice@example.org", "bob@example.org", "carol@example.org"} {
		if !regexp.MustCompile(regexp.QuoteMeta(a) + `,[^\n]*,unsubscribed`).MatchString(list) {
			t.Errorf("%s not unsubscribed:\n%s", a, list)
		}
	}
	for _, m := range sink.Messages() {
		if m.To[0] == "carol@example.org" && strings.Contains(header(t, m, "Subject"), "unsubscribe") {
			t.Errorf("an unsubscribe mail was answered: %s", header(t, m, "Subject"))
		}
	}
}

// subscribersListWait waits until `quotesd subscribers list` shows n
// confirmed subscribers, and returns the list.
func subscribersListWait(t *testing.T, db, state string, n int) string {
	t.Helper()
	var list string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list = subscribersList(t, db, state)
		if strings.Count(list, ",confirmed") >= n {
			break
		}
	}
	return list
}

// decodedText returns the decoded text of every part of m, one after the
// other.
func decodedText(t *testing.T, m smtptest.Message) string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p.Body)
		b.Write(body)
	}
}

// checkDailyBody checks the body of a daily mail: plain text and HTML
// alternatives, the card image linked from the HTML, nothing attached.
func checkDailyBody(t *testing.T, m smtptest.Message) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	if typ, _, _ := mime.ParseMediaType(mr.Header.Get("Content-Type")); typ != "multipart/alternative" {
		t.Errorf("daily mail Content-Type %q, want multipart/alternative", typ)
	}
	var types []string
	var htmlBody string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Header.(*mail.AttachmentHeader); ok {
			t.Errorf("daily mail has an attachment")
		}
		typ, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, typ)
		b, _ := io.ReadAll(p.Body)
		if typ == "text/html" {
			htmlBody = string(b)
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("daily mail parts %v, want text/plain then text/html", types)
	}
	if !regexp.MustCompile(`<img src="` + regexp.QuoteMeta(subsBaseURL) + `/quotes/\d+\.png"`).MatchString(htmlBody) {
		t.Errorf("daily mail HTML does not link the card image:\n%s", htmlBody)
	}
}

// TestE2E_Subscriptions_TenThousandPacedAndKilledMidwayEachGetsOne drains a
// list of 10,000 subscribers on 100 domains at 300 messages a minute per
// domain (20 s for the lot), kills the server with SIGKILL a third of the
// way, starts it again, and checks that every subscriber got the daily
// mail, how many twice (a crash between the relay's 250 and the record
// of it sends that message again: at most once more, see the queue's
// sending marks), and that before the kill each domain got its mail no
// faster than the pace.
func TestE2E_Subscriptions_TenThousandPacedAndKilledMidwayEachGetsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("drains 10,000 messages (about 30 s)")
	}
	const (
		domains   = 100
		perDomain = 100
		rate      = 300 // per minute per domain: one every 200 ms
		interval  = time.Minute / rate
	)
	db, state := smtpLibrary(t), t.TempDir()
	q, err := queue.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// 64 adders at once share the queue's commits.
	var wg sync.WaitGroup
	addrs := make(chan string)
	errs := make(chan error, 64)
	for w := 0; w < 64; w++ {
		wg.Go(func() {
			for a := range addrs {
				if _, err := q.AddSubscriber(ctx, a, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for d := 0; d < domains; d++ {
		for i := 0; i < perDomain; i++ {
			addrs <- fmt.Sprintf("user%d@d%d.example.org", i, d)
		}
	}
	close(addrs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	sink := smtptest.NewSink(t, smtptest.Options{})
	rateArg := []string{"--mail-daily-rate", fmt.Sprint(rate)}
	started := time.Now()
	s := subsServe(t, db, state, sink.Addr, "00:00", rateArg...)
	s.WaitLog(30*time.Second, "smtp daily mail queued", map[string]string{})
	for len(sink.Messages()) < domains*perDomain/3 {
		time.Sleep(10 * time.Millisecond)
	}
	s.Kill()
	before := sink.Messages()

	subsServe(t, db, state, sink.Addr, "00:00", rateArg...)
	deadline := time.Now().Add(60 * time.Second)
	got := map[string]int{}
	for time.Now().Before(deadline) {
		clear(got)
		for _, m := range sink.Messages() {
			got[m.To[0]]++
		}
		if len(got) == domains*perDomain {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // time enough for a duplicate to arrive
	ms := sink.Messages()
	clear(got)
	for _, m := range ms {
		got[m.To[0]]++
	}
	if len(got) != domains*perDomain {
		t.Fatalf("%d subscribers got the daily mail, want %d", len(got), domains*perDomain)
	}
	dups := 0
	for rcpt, n := range got {
		if n > 2 {
			t.Errorf("%s got %d daily mails, want 1 (2 at most after a crash between send and record)", rcpt, n)
		}
		dups += n - 1
	}
	first, last := ms[0].At, ms[len(ms)-1].At
	t.Logf("%d subscribers, %d messages before the SIGKILL, %d in all: %d duplicates; drained in %v (the pace allows %v)",
		len(got), len(before), len(ms), dups, last.Sub(first).Round(time.Millisecond), (perDomain-1)*interval)
	if dups > 100 {
		t.Errorf("%d duplicates, want at most the messages in flight at the SIGKILL", dups)
	}

	// The pace, before the kill: the i-th message to a domain no sooner
	// than i intervals after the server started (a lower bound: the run
	// queues a domain's first message at once or later, and a loaded
	// machine may deliver late, in bursts, but never before a message is
	// due). After the restart, what fell due while the server was down
	// goes at once.
	byDomain := map[string][]time.Time{}
	for _, m := range before {
		d := m.To[0][strings.IndexByte(m.To[0], '@')+1:]
		byDomain[d] = append(byDomain[d], m.At)
	}
	for d, ts := range byDomain {
		for i, at := range ts {
			if early := time.Duration(i)*interval - at.Sub(started); early > 0 {
				t.Errorf("domain %s: message %d came %v after the server started, %v before the pace allows", d, i, at.Sub(started), early)
				break
			}
		}
	}
	if last.Sub(first) < (perDomain-1)*interval-time.Second {
		t.Errorf("drained in %v, faster than the pace allows (%v)", last.Sub(first), (perDomain-1)*interval)
	}
}

func TestE2E_Subscriptions_WebFormSendsTheSameSingleConfirmationAndIsGuarded(t *testing.T) {
	db, state := smtpLibrary(t), t.TempDir()
	sink := smtptest.NewSink(t, smtptest.Options{})
	s := subsServe(t, db, state, sink.Addr, "23:59", "--web-subscribe")
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	base := "http://" + s.Addr("web")
	post := func(form url.Values) (int, string) {
		t.Helper()
		resp, err := client.Get(base + "/subscribe")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("GET /subscribe: %d, no form token:\n%s", resp.StatusCode, page)
		}
		form.Set("csrf", string(m[1]))
		resp, err = client.PostForm(base+"/subscribe", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	for i := 0; i < 2; i++ {
		if code, body := post(url.Values{"address": {"dave@example.org"}, "tag": {"poetry"}}); code != 200 || !strings.Contains(body, "on its way") {
			t.Fatalf("POST /subscribe %d: %d\n%s", i+1, code, body)
		}
	}
	req := waitMessageTo(t, sink, "dave@example.org", "Confirm your subscription")
	if !strings.Contains(decodedText(t, req), `tagged "poetry"`) {
		t.Errorf("the confirmation request does not name the tag:\n%s", decodedText(t, req))
	}
	// The honeypot: the same answer, no mail.
	if code, body := post(url.Values{"address": {"erin@example.org"}, "website": {"http://spam.example"}}); code != 200 || !strings.Contains(body, "on its way") {
		t.Fatalf("POST /subscribe with the honeypot filled: %d\n%s", code, body)
	}
	// Not an address quotesd may write to.
	if code, _ := post(url.Values{"address": {"root@localhost"}}); code != 400 {
		t.Errorf("POST /subscribe for root@localhost: %d, want 400", code)
	}
	// The budget: five tries (this is the fifth), then 429.
	if code, _ := post(url.Values{"address": {"gina@example.org"}}); code != 200 {
		t.Errorf("fifth POST /subscribe from one client: %d, want 200", code)
	}
	waitMessageTo(t, sink, "gina@example.org", "Confirm your subscription")
	if code, _ := post(url.Values{"address": {"frank@example.org"}}); code != 429 {
		t.Errorf("sixth POST /subscribe from one client: %d, want 429", code)
	}
	time.Sleep(time.Second)
	if n := len(sinkMessagesTo(t, sink, "dave@example.org", "")); n != 1 {
		t.Errorf("dave got %d confirmation requests from two form posts, want 1", n)
	}
	for _, a := range []string{"erin@example.org", "frank@example.org"} {
		if n := len(sinkMessagesTo(t, sink, a, "")); n != 0 {
			t.Errorf("%s got %d messages, want none", a, n)
		}
	}
}

// Two replicas share the queue (and so the subscribers) in PostgreSQL and
// both run the day's mail when they start: each subscriber gets it once,
// whichever replica queued it (the key (subscriber, day) is taken by one
// transaction; the other's waits for it and finds it taken).
func TestE2E_Subscriptions_TwoReplicasOnPostgresSendEachDailyMailOnce(t *testing.T) {
	db := pgLibrary(t)
	q, err := queue.OpenPostgres(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 0; i < n; i++ {
		if _, err := q.AddSubscriber(context.Background(), fmt.Sprintf("reader%d@example.org", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	sink := smtptest.NewSink(t, smtptest.Options{})
	var replicas []*server
	for range 2 {
		replicas = append(replicas, subsServe(t, db, t.TempDir(), sink.Addr, "00:00", "--mail-daily-rate", "0"))
	}
	queued := 0
	for _, s := range replicas {
		l := s.WaitLog(30*time.Second, "smtp daily mail queued", map[string]string{})
		q, _ := l["queued"].(float64)
		queued += int(q)
	}
	if queued != n {
		t.Errorf("the replicas queued %d daily mails between them, want %d", queued, n)
	}
	sink.Wait(t, n, 60*time.Second)
	time.Sleep(time.Second) // time enough for a duplicate to arrive
	got := map[string]int{}
	for _, m := range sink.Messages() {
		got[m.To[0]]++
	}
	for i := 0; i < n; i++ {
		if a := fmt.Sprintf("reader%d@example.org", i); got[a] != 1 {
			t.Errorf("%s got %d daily mails, want 1", a, got[a])
		}
	}
}
