package smtp_test

// Bad input from clients on the open internet: every case gets a clear SMTP
// error or is dropped in silence, never a crash or a hang, and never a
// reply it should not get.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"
	gosmtp "github.com/emersion/go-smtp"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
)

// rawSession writes script to a fresh connection in one go, without
// waiting for any reply (not even the greeting), then reads every reply
// line until the server closes or 10 s pass. It returns the reply lines.
func rawSession(t *testing.T, addr, script string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	errc := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, script)
		errc <- err
	}()
	var lines []string
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if time.Now().After(deadline) {
		t.Fatalf("server neither answered nor closed within 10 s; got %d lines, last %q", len(lines), last(lines))
	}
	<-errc // a write error is fine: the server may close on a flood
	return lines
}

func last(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

// codes returns the reply codes of lines, multi-line replies counted once.
func codes(lines []string) []string {
	var out []string
	for _, l := range lines {
		if len(l) >= 4 && l[3] == ' ' {
			out = append(out, l[:3])
		}
	}
	return out
}

// stillServes checks that the server answers a normal client afterwards.
func stillServes(t *testing.T, h *harness) {
	t.Helper()
	mustSend(t, h.addr, "carol@example.org", []string{"quote@quotes.test"}, request("today"))
}

func TestSMTP_ClientTalkingBeforeTheGreetingGetsOrderlyReplies(t *testing.T) {
	h := newHarness(t)
	msg := strings.ReplaceAll(request("today"), "\n", "\r\n")
	lines := rawSession(t, h.addr, "EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<quote@quotes.test>\r\n"+
		"DATA\r\n"+msg+".\r\nQUIT\r\n")
	got := strings.Join(codes(lines), " ")
	// One reply per command, in order: the greeting first.
	if got != "220 250 250 250 354 250 221" {
		t.Errorf("reply codes %q, want 220 250 250 250 354 250 221\n%s", got, strings.Join(lines, "\n"))
	}
	h.sink.Wait(t, 1, 10*time.Second)
}

func TestSMTP_HELOClientPipeliningWithoutTheExtensionIsServedInOrder(t *testing.T) {
	h := newHarness(t)
	msg := strings.ReplaceAll(request("today"), "\n", "\r\n")
	// HELO, not EHLO: PIPELINING was never offered, yet the client sends
	// everything at once.
	lines := rawSession(t, h.addr, "HELO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<quote@quotes.test>\r\n"+
		"RCPT TO:<victim@example.com>\r\nDATA\r\n"+msg+".\r\nQUIT\r\n")
	if got := strings.Join(codes(lines), " "); got != "220 250 250 250 550 354 250 221" {
		t.Errorf("reply codes %q, want 220 250 250 250 550 354 250 221\n%s", got, strings.Join(lines, "\n"))
	}
	ms := h.sink.Wait(t, 1, 10*time.Second)
	if len(ms[0].To) != 1 || ms[0].To[0] != "alice@example.org" {
		t.Errorf("reply went to %v, want alice only", ms[0].To)
	}
}

func TestSMTP_CommandFloodIsAnsweredOrCutNeverHangs(t *testing.T) {
	h := newHarness(t)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.WriteString("NOOP\r\n")
		if i%7 == 0 {
			b.WriteString("XYZZY plugh\r\n")
		}
		if i%11 == 0 {
			b.WriteString("RCPT TO:<quote@quotes.test>\r\n") // out of sequence
		}
	}
	b.WriteString("QUIT\r\n")
	lines := rawSession(t, h.addr, b.String())
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "220 ") {
		t.Fatalf("first line %q, want the 220 greeting", lines)
	}
	for _, c := range codes(lines) {
		if c[0] != '2' && c[0] != '4' && c[0] != '5' {
			t.Fatalf("reply code %s in %q", c, lines)
		}
	}
	if h.queued(t) != 0 {
		t.Error("a command flood queued a reply")
	}
	stillServes(t, h)
}

func TestSMTP_PipelinedTransactionsAreEachAnswered(t *testing.T) {
	h := newHarness(t)
	msg := strings.ReplaceAll(request("today"), "\n", "\r\n")
	var b strings.Builder
	b.WriteString("EHLO client.test\r\n")
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&b, "MAIL FROM:<user%d@example.org>\r\nRCPT TO:<quote@quotes.test>\r\nDATA\r\n%s.\r\n", i, msg)
	}
	b.WriteString("QUIT\r\n")
	lines := rawSession(t, h.addr, b.String())
	if n := strings.Count(strings.Join(codes(lines), " "), "354"); n != 5 {
		t.Errorf("%d DATA go-aheads for 5 pipelined transactions:\n%s", n, strings.Join(lines, "\n"))
	}
	h.sink.Wait(t, 5, 10*time.Second)
}

func TestSMTP_OverlongDataLineIsRefusedAndNotAnswered(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxLineLength = 200 })
	err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test"},
		request("today")+strings.Repeat("x", 5000)+"\n")
	var se *gosmtp.SMTPError
	if err == nil || (errorsAs(err, &se) && se.Code < 500) {
		t.Fatalf("overlong DATA line: err %v, want a 5xx", err)
	}
	if h.queued(t) != 0 {
		t.Error("a reply was queued for a message with an overlong line")
	}
	stillServes(t, h)
}

func TestSMTP_EightBitJunkInCommands(t *testing.T) {
	h := newHarness(t)
	lines := rawSession(t, h.addr, "EHLO \xff\xfe\x00junk\r\n"+
		"RCPT TO:<quote@quotes.test>\r\n"+ // before MAIL
		"MAIL FROM:<\xc3\x28\xff@example.org>\r\n"+
		"RCPT TO:<quote\xff@quotes.test>\r\n"+
		"RCPT TO:<quote@quotes.test\x00.evil.example>\r\n"+
		"\x80\x81\x82 \x1b[2J\r\n"+
		"QUIT\r\n")
	got := codes(lines)
	if len(got) < 2 || got[0] != "220" || got[len(got)-1] != "221" {
		t.Fatalf("replies %q: want the greeting first and QUIT answered last\n%s", got, strings.Join(lines, "\n"))
	}
	// greeting, EHLO, RCPT, MAIL, RCPT, RCPT, junk, QUIT: one reply each.
	if len(got) != 8 {
		t.Fatalf("%d replies %q for 7 commands\n%s", len(got), got, strings.Join(lines, "\n"))
	}
	for i, c := range []int{2, 4, 5} {
		if got[c] == "250" {
			t.Errorf("junk recipient %d was accepted: %q", i+1, got)
		}
	}
	if got[6][0] != '5' {
		t.Errorf("a junk command got %s, want a 5xx", got[6])
	}
	if h.queued(t) != 0 {
		t.Error("junk commands queued a reply")
	}
	stillServes(t, h)
}

func TestSMTP_EightBitJunkSenderGetsNoReply(t *testing.T) {
	h := newHarness(t)
	for _, from := range []string{"\xc3\x28@example.org", "al\xffice@example.org", "alice@ex\xe2\x80\x8bample.org"} {
		// Refused by the parser (5xx), or accepted and not answered.
		err := send(t, h.addr, from, []string{"quote@quotes.test"}, request("today"))
		var se *gosmtp.SMTPError
		if err != nil && (!errorsAs(err, &se) || se.Code < 500) {
			t.Errorf("MAIL FROM:<%q>: %v, want 250 or a 5xx", from, err)
		}
	}
	if n := h.queued(t); n != 0 {
		t.Errorf("%d replies queued for 8-bit senders, want none", n)
	}
}

func TestSMTP_EightBitJunkInHeadersStillGetsACleanReply(t *testing.T) {
	h := newHarness(t)
	msg := "From: \xff\xfe <alice@example.org>\nSubject: \xc3\x28 random \x1b[31m\x00\nX-Junk: \x80\x81\nMessage-ID: <\xe2\x80\x9c@example.org>\n\n\xff body\n"
	r := h.exchange(t, "quote@quotes.test", msg)
	checkReplyFields(t, r.raw)
	subject, err := r.header.Subject()
	if err != nil || strings.ContainsAny(subject, "\x00\x1b\r\n") || !strings.HasPrefix(subject, "Re: ") {
		t.Errorf("Subject %q (%v): want Re: and no control characters", subject, err)
	}
}

// checkReplyFields parses a reply's raw header and fails unless it holds
// exactly the fields of a reply, each once: nothing a request said has
// become a header line of its own.
func checkReplyFields(t *testing.T, raw string) {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("reply header does not parse: %v\n%s", err, raw)
	}
	allowed := map[string]bool{"auto-submitted": true, "content-type": true, "date": true, "from": true,
		"in-reply-to": true, "message-id": true, "mime-version": true, "references": true, "subject": true, "to": true}
	seen := map[string]int{}
	for f := h.Fields(); f.Next(); {
		k := strings.ToLower(f.Key())
		seen[k]++
		if !allowed[k] || seen[k] > 1 {
			t.Fatalf("reply has an unexpected or repeated %q field:\n%s", f.Key(), raw)
		}
	}
}

func TestSMTP_MalformedMessagesAreAcceptedAndAnsweredOrSkippedCleanly(t *testing.T) {
	h := newHarness(t)
	tests := map[string]string{
		"NoBlankLineAfterHeader":   "Subject: today\nFrom: alice@example.org",
		"HeaderLineWithoutColon":   "Subject today\nthis is not a header\n\nbody\n",
		"MultipartWithoutBoundary": "Subject: today\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\n\nbody\n",
		"UnterminatedMultipart":    "Subject: today\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n",
		"BadTransferEncoding":      "Subject: today\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n",
		"UnknownCharset":           "Subject: =?x-klingon?q?qapla?=\nContent-Type: text/plain; charset=x-klingon\n\nhi\n",
		"EmptyMessage":             "",
		"OnlyBody":                 "\nno header at all\n",
		"HugeHeaderField":          "Subject: today\nX-Big: " + strings.Repeat("y", 1900) + "\n\nhi\n",
		"ManyFoldedLines":          "Subject: today" + strings.Repeat("\n x", 500) + "\n\nhi\n",
		"ContinuationFirst":        " folded first line\nSubject: today\n\nhi\n",
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			before := h.queued(t)
			skippedBefore := h.counter(t, "quotesd_smtp_replies_skipped_total", smtpfe.SkipMalformed)
			if err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, msg); err != nil {
				// A clean refusal is fine too.
				var se *gosmtp.SMTPError
				if !errorsAs(err, &se) {
					t.Fatalf("not an SMTP reply: %v", err)
				}
				return
			}
			queued := h.queued(t) - before
			skipped := h.counter(t, "quotesd_smtp_replies_skipped_total", smtpfe.SkipMalformed) - skippedBefore
			if queued+int(skipped) != 1 {
				t.Errorf("queued %d, skipped as malformed %v: want one decision", queued, skipped)
			}
		})
	}
	// Every reply that did go out is well formed.
	for _, m := range h.sink.Wait(t, 1, 10*time.Second) {
		checkReplyFields(t, string(m.Data))
	}
	stillServes(t, h)
}

func TestSMTP_HeaderInjectionThroughMessageIDAndEncodedWords(t *testing.T) {
	h := newHarness(t)
	tests := map[string]string{
		"MessageIDWithCRLF":      "Subject: today\nMessage-ID: <a@b>\r\nBcc: victim@example.org\n\nhi\n",
		"MessageIDFoldedHeader":  "Subject: today\nMessage-ID: <a@b\n Bcc: victim@example.org>\n\nhi\n",
		"MessageIDEncodedCRLF":   "Subject: today\nMessage-ID: =?utf-8?q?<a=0D=0ABcc:_v@example.org>?=\n\nhi\n",
		"NestedEncodedWord":      "Subject: =?utf-8?q?=3D=3Futf-8=3Fq=3Fa=3D0D=3D0ABcc=3A_victim=40example.org=3F=3D?=\n\nhi\n",
		"UnknownCharsetSubject":  "Subject: =?x-unknown?q?a=0D=0ABcc:_v@example.org?=\n\nhi\n",
		"FromDisplayNameNewline": "From: \"Eve\r\nBcc: victim@example.org\" <eve@example.org>\nSubject: today\n\nhi\n",
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(h.sink.Messages())
			mustSend(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, msg)
			ms := h.sink.Wait(t, before+1, 10*time.Second)
			r := parseReply(t, ms[before])
			checkReplyFields(t, r.raw)
			subject, err := r.header.Subject()
			if err != nil || strings.ContainsAny(subject, "\r\n") {
				t.Errorf("decoded Subject %q (%v): want one line", subject, err)
			}
			for _, k := range []string{"In-Reply-To", "References"} {
				if v := r.header.Get(k); strings.ContainsAny(v, " \t\r\n") {
					t.Errorf("%s %q carries white space", k, v)
				}
			}
		})
	}
}

func TestSMTP_HundredsOfRecipientsGet452PastTheLimitAndOneReply(t *testing.T) {
	h := newHarness(t)
	c, err := gosmtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("alice@example.org", nil); err != nil {
		t.Fatal(err)
	}
	accepted, limited := 0, 0
	for i := 0; i < 300; i++ {
		err := c.Rcpt(fmt.Sprintf("quote+%d@quotes.test", i), nil)
		var se *gosmtp.SMTPError
		switch {
		case err == nil:
			accepted++
		case errorsAs(err, &se) && se.Code == 452:
			limited++
		default:
			t.Fatalf("RCPT %d: %v, want 250 or 452", i, err)
		}
	}
	if accepted != 10 || limited != 290 {
		t.Errorf("accepted %d, 452 for %d; want 10 and 290 (default MaxRecipients)", accepted, limited)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, strings.ReplaceAll(request("today"), "\n", "\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := h.queued(t); n != 1 {
		t.Errorf("%d replies queued for one message to 300 recipients, want 1", n)
	}
}

func TestSMTP_RelayAttemptsAreRefusedNeverQueued(t *testing.T) {
	h := newHarness(t)
	rcpts := []string{
		"victim@example.com", "quote@example.com", "quote@quotes.test.evil.example",
		"quote@[127.0.0.1]", "quote@[IPv6:::1]", "@quotes.test:victim@example.com",
		"victim%example.com@quotes.test", "victim!example.com@quotes.test", `"victim@example.com"@quotes.test`,
		"quote@localhost.", "quote@evil.example,quote@quotes.test", "quote@quotes.test@evil.example",
		"QUOTE@QUOTES.TEST.", "postmaster", "quote",
	}
	for _, rcpt := range rcpts {
		err := send(t, h.addr, "alice@example.org", []string{rcpt}, request("today"))
		var se *gosmtp.SMTPError
		if err == nil {
			// Our own address in an odd spelling: a reply is fine, to the sender only.
			if !strings.EqualFold(strings.TrimSuffix(rcpt, "."), "quote@quotes.test") && !strings.EqualFold(strings.TrimSuffix(rcpt, "."), "quote@localhost") {
				t.Errorf("RCPT TO:<%s> was accepted", rcpt)
			}
			continue
		}
		if !errorsAs(err, &se) || se.Code < 500 {
			t.Errorf("RCPT TO:<%s>: %v, want a 5xx", rcpt, err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, m := range h.sink.Messages() {
		if len(m.To) != 1 || m.To[0] != "alice@example.org" {
			t.Errorf("a message went to %v: relayed", m.To)
		}
	}
}

// RFC 5321 4.1.1.3 lets RCPT TO name <Postmaster> without a domain; go-smtp
// (since v0.26.0) parses it and asks the session, which refuses it as any
// address not one of ours: 550, no relay, never a reply queued.
func TestSMTP_BarePostmasterIsRefusedAsNotOurs(t *testing.T) {
	h := newHarness(t)
	for _, rcpt := range []string{"Postmaster", "postmaster"} {
		err := send(t, h.addr, "alice@example.org", []string{rcpt}, request("today"))
		var se *gosmtp.SMTPError
		if !errorsAs(err, &se) || se.Code != 550 {
			t.Errorf("RCPT TO:<%s>: %v, want 550", rcpt, err)
		}
	}
	if n := h.queued(t); n != 0 {
		t.Errorf("%d replies queued, want 0", n)
	}
}

func TestSMTP_FloodFromOneIPGets450PastTheBurst(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.IPRate, s.cfg.IPBurst = 1.0/3600, 5 })
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, limited := 0, 0
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := send(t, h.addr, fmt.Sprintf("user%d@example.org", i), []string{"quote@quotes.test"}, request("today"))
			mu.Lock()
			defer mu.Unlock()
			var se *gosmtp.SMTPError
			switch {
			case err == nil:
				ok++
			case errorsAs(err, &se) && (se.Code == 450 || se.Code == 421):
				limited++
			default:
				t.Errorf("client %d: %v, want 250, 450 or 421", i, err)
			}
		}(i)
	}
	wg.Wait()
	if ok != 5 || limited != 35 {
		t.Errorf("%d accepted, %d refused; want 5 and 35", ok, limited)
	}
	if n := h.queued(t); n != 5 {
		t.Errorf("%d replies queued, want 5", n)
	}
}

func TestSMTP_FloodForOneForgedSenderHoldsTheDailyCap(t *testing.T) {
	// 30 sessions at once, as from many hosts; here all from 127.0.0.1,
	// so the per-client connection cap is lifted.
	h := newHarness(t, func(s *setup) { s.limits.PerRecipient = 3; s.cfg.MaxClientConns = 30 })
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// The victim's address in varying case: one mailbox.
			from := "victim@example.org"
			if i%2 == 1 {
				from = "Victim@Example.ORG"
			}
			if err := send(t, h.addr, from, []string{"quote@quotes.test"}, request("today")); err != nil {
				t.Errorf("message %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if n := h.queued(t); n != 3 {
		t.Errorf("%d replies queued for one forged sender, want the cap of 3", n)
	}
	if got := h.counter(t, "quotesd_smtp_replies_skipped_total", "recipient_limit"); got != 27 {
		t.Errorf("skipped{reason=recipient_limit} = %v, want 27", got)
	}
	h.sink.Wait(t, 3, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := len(h.sink.Messages()); n != 3 {
		t.Errorf("the victim got %d replies, want 3", n)
	}
}

func errorsAs(err error, target **gosmtp.SMTPError) bool {
	for err != nil {
		if se, ok := err.(*gosmtp.SMTPError); ok {
			*target = se
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
