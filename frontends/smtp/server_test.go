package smtp_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// fixedDay is "now" for every test: replies are deterministic.
var fixedDay = time.Date(2026, 5, 17, 10, 0, 0, 0, time.UTC)

// harness is a running mail frontend: library, queue, delivery to a sink
// acting as relay, and the SMTP server on 127.0.0.1:0.
type harness struct {
	addr string
	srv  *smtpfe.Server
	lib  quoter.Quoter
	cal  *quoter.Calendar
	q    *queue.Queue
	sink *smtptest.Sink
	reg  *prometheus.Registry
	mu   sync.Mutex
	logs bytes.Buffer
}

type setup struct {
	// queueDB, when set, is the PostgreSQL database of the mail queue;
	// by default the queue is an SQLite file in a temporary directory.
	queueDB string
	cfg     smtpfe.ServerConfig
	limits  queue.Limits
	dkim    *smtpfe.DKIM
	relay   string                            // "" for a sink started by the harness
	wrap    func(quoter.Quoter) quoter.Quoter // if set, what the composer gets instead of the library
	// listen, when not nil, makes the server's listener; by default it
	// listens on 127.0.0.1:0.
	listen func(testing.TB) net.Listener
	// subscriptions turns mail subscriptions on (see withSubscriptions).
	subscriptions bool
}

// withSubscriptions turns mail subscriptions on, with the queue as their
// store and links to https://quotes.test.
func withSubscriptions(s *setup) { s.subscriptions = true }

func (h *harness) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.Write(p)
}

func (h *harness) Logs() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.String()
}

// serverConfig returns the server's options of the default settings, with
// mail accepted for quote@ at domains.
func serverConfig(domains ...string) smtpfe.ServerConfig {
	c := smtpfe.DefaultConfig()
	c.Domains = strings.Join(domains, ",")
	return c.ServerConfig()
}

func newHarness(t testing.TB, opts ...func(*setup)) *harness {
	t.Helper()
	s := setup{cfg: serverConfig("quotes.test", "localhost")}
	s.cfg.IPRate = 0 // tests send many messages from one address; those of the rate set one
	for _, o := range opts {
		o(&s)
	}
	h := &harness{
		lib: quotertest.NewLibrary(t),
		cal: &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return fixedDay }},
		reg: prometheus.NewRegistry(),
	}
	log := slog.New(slog.NewJSONHandler(h, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if s.queueDB != "" {
		h.q, err = queue.OpenPostgres(context.Background(), s.queueDB, queue.WithLimits(s.limits))
	} else {
		h.q, err = queue.Open(t.TempDir(), queue.WithLimits(s.limits))
	}
	if err != nil {
		t.Fatal(err)
	}
	relay := s.relay
	if relay == "" {
		h.sink = smtptest.NewSink(t, smtptest.Options{})
		relay = h.sink.Addr
	}
	d := queue.NewDelivery(h.q, queue.Config{Relay: &queue.Relay{Addr: relay, TLS: queue.TLSNone},
		Concurrency: smtpfe.DefaultDeliveryConcurrency, MaxAge: smtpfe.DefaultMaxAge,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second, Log: log})
	var ln net.Listener
	if s.listen != nil {
		ln = s.listen(t)
	} else if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.cfg.Log = log
	s.cfg.Now = func() time.Time { return fixedDay }
	lib := h.lib
	if s.wrap != nil {
		lib = s.wrap(lib)
	}
	c := &smtpfe.Composer{Quoter: lib, Calendar: h.cal, LocalPart: "quote", DKIM: s.dkim}
	if cur, ok := h.lib.(quoter.Curator); ok {
		c.Collections = cur.Collections
	}
	srv := smtpfe.New(ln, s.cfg, c, h.q, h.reg)
	if s.subscriptions {
		srv.SetSubscriptions(&smtpfe.Subscriptions{Store: h.q, Composer: c, Addresses: s.cfg.Addresses,
			BaseURL: "https://quotes.test", BounceLimit: smtpfe.DefaultBounceLimit, Log: log})
	}
	h.srv = srv
	h.addr = srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
	go func() { defer wg.Done(); _ = d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("logs:\n%s", h.Logs())
		}
	})
	return h
}

// send runs one SMTP transaction with a go-smtp client and returns the
// first error the server answered with.
func send(t *testing.T, addr, from string, to []string, msg string) error {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, strings.ReplaceAll(msg, "\n", "\r\n")); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func mustSend(t *testing.T, addr, from string, to []string, msg string) {
	t.Helper()
	if err := send(t, addr, from, to, msg); err != nil {
		t.Fatalf("sending from %s to %v: %v", from, to, err)
	}
}

func wantCode(t *testing.T, err error, code int, enhanced gosmtp.EnhancedCode) {
	t.Helper()
	var se *gosmtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want SMTP %d", err, code)
	}
	if se.Code != code || (enhanced != gosmtp.EnhancedCode{} && se.EnhancedCode != enhanced) {
		t.Errorf("reply = %d %v %q, want %d %v", se.Code, se.EnhancedCode, se.Message, code, enhanced)
	}
}

// request is a minimal mail to quote@, with extra header lines.
func request(subject string, extra ...string) string {
	return "From: Alice <alice@example.org>\nTo: quote@quotes.test\nSubject: " + subject +
		"\nMessage-ID: <req-1@example.org>\nDate: Sun, 17 May 2026 09:00:00 +0000\n" +
		strings.Join(append(extra, ""), "\n") + "\nPlease send a quote.\n"
}

// reply is a delivered reply, parsed.
type reply struct {
	env    smtptest.Message
	header mail.Header
	raw    string
	text   string
	html   string
	ptype  []string // content types of the parts
}

func parseReply(t *testing.T, m smtptest.Message) reply {
	t.Helper()
	r := reply{env: m, raw: string(m.Data)}
	mr, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parsing reply: %v\n%s", err, m.Data)
	}
	r.header = mr.Header
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("reading reply part: %v", err)
		}
		ct := p.Header.Get("Content-Type")
		r.ptype = append(r.ptype, ct)
		b, _ := io.ReadAll(p.Body)
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		if strings.HasPrefix(ct, "text/plain") {
			r.text = string(b)
		} else if strings.HasPrefix(ct, "text/html") {
			r.html = string(b)
		}
	}
	return r
}

// exchange sends msg from alice to rcpt and returns the one reply.
func (h *harness) exchange(t *testing.T, rcpt, msg string) reply {
	t.Helper()
	before := len(h.sink.Messages())
	mustSend(t, h.addr, "alice@example.org", []string{rcpt}, msg)
	ms := h.sink.Wait(t, before+1, 10*time.Second)
	return parseReply(t, ms[before])
}

func (h *harness) today(t *testing.T) *quoter.Quote {
	t.Helper()
	q, err := h.lib.Today(context.Background(), h.cal.Today(), quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// counter returns the value of a counter on the registry: of its series
// with the given reason label, or, with reason "", the sum of all its
// series (each known one exists from the start, at zero).
func (h *harness) counter(t *testing.T, name, reason string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if reason == "" {
				sum += m.GetCounter().GetValue()
				continue
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func (h *harness) queued(t *testing.T) int {
	t.Helper()
	a, b, c, err := h.q.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return a + b + c
}

func TestSMTP_RepliesWithTodaysQuoteAndExactHeaders(t *testing.T) {
	h := newHarness(t)
	r := h.exchange(t, "quote@quotes.test", request("today"))

	if r.env.From != "" || len(r.env.To) != 1 || r.env.To[0] != "alice@example.org" {
		t.Errorf("envelope: MAIL FROM:<%s> RCPT TO:%v, want <> and [alice@example.org]", r.env.From, r.env.To)
	}
	want := map[string]string{
		"From":           `"Quote of the Day" <quote@quotes.test>`,
		"To":             "<alice@example.org>",
		"Subject":        "Re: today",
		"In-Reply-To":    "<req-1@example.org>",
		"References":     "<req-1@example.org>",
		"Auto-Submitted": "auto-replied",
		"Mime-Version":   "1.0",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if ct, params, _ := r.header.ContentType(); ct != "multipart/alternative" || params["boundary"] == "" {
		t.Errorf("Content-Type %q %v, want multipart/alternative with a boundary", ct, params)
	}
	if id := r.header.Get("Message-Id"); !regexp.MustCompile(`^<[0-9a-z.]+@quotes\.test>$`).MatchString(id) {
		t.Errorf("Message-ID %q, want a fresh id at quotes.test", id)
	}
	if d, err := r.header.Date(); err != nil || !d.Equal(fixedDay) {
		t.Errorf("Date %v (%v), want %v", d, err, fixedDay)
	}
	if len(r.ptype) != 2 || r.ptype[0] != "text/plain; charset=utf-8" || r.ptype[1] != "text/html; charset=utf-8" {
		t.Errorf("parts %q, want text/plain then text/html, both utf-8", r.ptype)
	}
	if !strings.Contains(r.raw, "Content-Transfer-Encoding: quoted-printable") {
		t.Error("parts are not quoted-printable")
	}
	if today := h.today(t); !strings.Contains(r.text, today.Render()) {
		t.Errorf("text part does not hold today's quote %q:\n%s", today.Render(), r.text)
	}
}

func TestSMTP_EmptySubjectMeansToday(t *testing.T) {
	h := newHarness(t)
	r := h.exchange(t, "quote@localhost", request(""))
	if today := h.today(t); !strings.Contains(r.text, today.Render()) {
		t.Errorf("reply to an empty subject lacks today's quote:\n%s", r.text)
	}
	if got := r.header.Get("Subject"); got != "Re: (no subject)" {
		t.Errorf("Subject %q, want %q", got, "Re: (no subject)")
	}
	if got := r.header.Get("From"); got != `"Quote of the Day" <quote@localhost>` {
		t.Errorf("From %q: the reply must come from the domain the request was sent to", got)
	}
}

func TestSMTP_SubjectCommands(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		subject string
		want    []string
	}{
		{"random", []string{"A random quote:", "    -- "}},
		{"search Lincoln", []string{`quotes match "Lincoln"`, "Abraham Lincoln"}},
		{"search zzyzx", []string{`No quote matches "zzyzx".`, h.today(t).Render()}},
		{"help", []string{"Here is what I can do.", "search WORDS"}},
		{"Re: HELP", []string{"Here is what I can do."}},
		{"hello there", []string{h.today(t).Render(), `Unknown command "hello".`, "random"}},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			r := h.exchange(t, "quote@quotes.test", request(tt.subject))
			for _, w := range tt.want {
				if !strings.Contains(r.text, w) {
					t.Errorf("reply to %q lacks %q:\n%s", tt.subject, w, r.text)
				}
			}
		})
	}
}

func TestSMTP_LongSearchIsCutOnACharacterBoundary(t *testing.T) {
	h := newHarness(t)
	r := h.exchange(t, "quote@quotes.test", request("search "+strings.Repeat("日", 100)))
	if !strings.Contains(r.text, `No quote matches "日日`) || strings.Contains(r.text, `\x`) {
		t.Errorf("reply to a long search echoes it with a broken character:\n%s", r.text)
	}
}

func TestSMTP_PlusAddressCommands(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		rcpt, subject string
		want          string
	}{
		{"quote+random@quotes.test", "anything", "A random quote:"},
		{"Quote+Help@Quotes.Test", "", "Here is what I can do."},
		{"quote+search@localhost", "Wilde", `quotes match "Wilde"`},
		{"quote+today@localhost", "random", h.today(t).Render()},
		{"quote+nonsense@localhost", "", `Unknown command "nonsense".`},
	}
	for _, tt := range tests {
		t.Run(tt.rcpt, func(t *testing.T) {
			r := h.exchange(t, tt.rcpt, request(tt.subject))
			if !strings.Contains(r.text, tt.want) {
				t.Errorf("reply to %s lacks %q:\n%s", tt.rcpt, tt.want, r.text)
			}
		})
	}
}

func TestSMTP_HTMLPartEscapesQuoteText(t *testing.T) {
	h := newHarness(t)
	r := h.exchange(t, "quote@quotes.test", request("search ampersands"))
	if !strings.Contains(r.text, quotertest.Script) {
		t.Fatalf("text part lacks the markup quote verbatim:\n%s", r.text)
	}
	if strings.Contains(r.html, "<script>") || strings.Contains(r.html, "<b>quotes</b>") {
		t.Errorf("HTML part carries quote markup unescaped:\n%s", r.html)
	}
	if !strings.Contains(r.html, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(r.html, "&amp; ampersands") {
		t.Errorf("HTML part does not escape the quote:\n%s", r.html)
	}
}

func TestSMTP_NonASCIISubjectIsEncoded(t *testing.T) {
	h := newHarness(t)
	r := h.exchange(t, "quote@quotes.test", request("=?utf-8?q?caf=C3=A9_=E2=80=9Cau_lait=E2=80=9D?="))
	raw := rawHeader(r.raw, "Subject")
	for _, c := range raw {
		if c > 0x7e {
			t.Fatalf("raw Subject %q is not ASCII", raw)
		}
	}
	if got, _ := new(mime.WordDecoder).DecodeHeader(raw); got != "Re: café “au lait”" {
		t.Errorf("decoded Subject %q, want %q", got, "Re: café “au lait”")
	}
}

func TestSMTP_SubjectInALegacyCharsetIsDecoded(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct{ subject, want string }{
		{"=?windows-1252?q?random_=96_caf=E9?=", "Re: random – café"},
		{"=?koi8-r?b?8NLJ18XU?=", "Re: Привет"},
		{"=?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=", "Re: 日本語"},
	} {
		r := h.exchange(t, "quote@quotes.test", request(tt.subject))
		if got, _ := r.header.Subject(); got != tt.want {
			t.Errorf("Subject %q: reply Subject %q, want %q", tt.subject, got, tt.want)
		}
	}
	// The command is read from the decoded subject.
	r := h.exchange(t, "quote@quotes.test", request("=?windows-1252?q?random_=96_caf=E9?="))
	if !strings.Contains(r.text, "A random quote:") {
		t.Errorf("a windows-1252 subject starting with random did not get a random quote:\n%s", r.text)
	}
}

func TestSMTP_LongEncodedSubjectIsFoldedIntoShortLines(t *testing.T) {
	h := newHarness(t)
	// Encoded words in the request, non-ASCII text, and text that looks
	// like an encoded word: each makes the reply's Subject encoded words,
	// whose lines RFC 2047 §2 caps at 76 characters.
	for _, subject := range []string{
		"=?utf-8?q?" + strings.Repeat("=C3=A9", 40) + "?= " + strings.Repeat("déjà vu ", 20),
		strings.Repeat("日本語のテキスト", 10),
		strings.Repeat("=?x?q?y?= looks encoded ", 10),
	} {
		r := h.exchange(t, "quote@quotes.test", request(subject))
		lines := rawFieldLines(r.raw, "Subject")
		if len(lines) < 2 {
			t.Errorf("Subject of %d bytes is not folded: %q", len(strings.Join(lines, "")), lines)
		}
		for _, l := range lines {
			if len(l) > 76 {
				t.Errorf("Subject line of %d characters, want at most 76: %q", len(l), l)
			}
		}
		got, err := r.header.Subject()
		if err != nil {
			t.Fatal(err)
		}
		want := "Re: " + smtpfe.SanitizeSubject(decodeSubject(subject))
		if got != want {
			t.Errorf("decoded Subject\n%q, want\n%q", got, want)
		}
	}
}

// decodeSubject decodes the encoded words of a request's subject as the
// frontend does: one it cannot decode stays as it is.
func decodeSubject(s string) string {
	var h mail.Header
	h.Set("Subject", s)
	if d, err := h.Subject(); err == nil {
		return d
	}
	return s
}

// rawFieldLines returns the lines of a header field as written, the first
// with its name.
func rawFieldLines(msg, key string) []string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	var lines []string
	for _, line := range strings.Split(head, "\r\n") {
		switch {
		case len(lines) > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
			lines = append(lines, line)
		case len(lines) > 0:
			return lines
		case strings.HasPrefix(strings.ToLower(line), strings.ToLower(key)+":"):
			lines = append(lines, line)
		}
	}
	return lines
}

// rawHeader returns the unfolded raw value of a header field.
func rawHeader(msg, key string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	head = strings.ReplaceAll(head, "\r\n ", " ")
	head = strings.ReplaceAll(head, "\r\n\t", " ")
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestSMTP_SubjectHeaderInjectionIsNeutralised(t *testing.T) {
	h := newHarness(t)
	// An encoded CR LF, a raw folded line and a very long subject.
	subject := "=?utf-8?q?hi=0D=0ABcc:_victim@example.org=0D=0A=0D=0Abody?= " + strings.Repeat("x", 500)
	r := h.exchange(t, "quote@quotes.test", request(subject))
	if r.header.Has("Bcc") || strings.Contains(r.raw, "\r\nBcc:") {
		t.Fatalf("injected Bcc header in the reply:\n%s", r.raw)
	}
	got, err := r.header.Subject()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > len("Re: ")+smtpfe.MaxSubjectLen+len("…") {
		t.Errorf("Subject is %d bytes, want at most %d", len(got), len("Re: ")+smtpfe.MaxSubjectLen+len("…"))
	}
	if !strings.HasPrefix(got, "Re: hi Bcc: victim@example.org body x") {
		t.Errorf("Subject %q, want the original on one line", got)
	}
}

func TestSMTP_FromHeaderInjectionIsIgnored(t *testing.T) {
	h := newHarness(t)
	msg := "From: =?utf-8?q?Eve=0D=0ABcc:_victim@example.org?= <eve@example.org>\nReply-To: victim@example.org\n" +
		"Subject: today\n\nhi\n"
	r := h.exchange(t, "quote@quotes.test", msg)
	if r.header.Has("Bcc") || strings.Contains(r.raw, "\r\nBcc:") {
		t.Fatalf("injected Bcc header in the reply:\n%s", r.raw)
	}
	if got := r.header.Get("To"); got != "<alice@example.org>" {
		t.Errorf("To %q: a reply goes to the envelope sender, never to From or Reply-To", got)
	}
	if len(r.env.To) != 1 || r.env.To[0] != "alice@example.org" {
		t.Errorf("RCPT TO %v, want [alice@example.org]", r.env.To)
	}
}

func TestSMTP_MalformedMessageIDIsNotEchoed(t *testing.T) {
	h := newHarness(t)
	msg := "Subject: today\nMessage-ID: <broken\n\nhi\n"
	r := h.exchange(t, "quote@quotes.test", msg)
	if r.header.Has("In-Reply-To") || r.header.Has("References") {
		t.Errorf("In-Reply-To %q References %q from a malformed Message-ID", r.header.Get("In-Reply-To"), r.header.Get("References"))
	}
}

// noReply sends a message that must be accepted (250) but not answered,
// and checks that the decision was recorded, counted and logged.
func noReply(t *testing.T, h *harness, from, rcpt, msg, reason string) {
	t.Helper()
	before := h.counter(t, "quotesd_smtp_replies_skipped_total", reason)
	queued := h.queued(t)
	mustSend(t, h.addr, from, []string{rcpt}, msg)
	if n := h.queued(t) - queued; n != 0 {
		t.Errorf("%d replies queued, want none", n)
	}
	if got := h.counter(t, "quotesd_smtp_replies_skipped_total", reason); got != before+1 {
		t.Errorf("skipped{reason=%q} = %v, want %v", reason, got, before+1)
	}
	if !strings.Contains(h.Logs(), `"msg":"smtp reply skipped","reason":"`+reason+`"`) {
		t.Errorf("no log line for the skipped reply with reason %q", reason)
	}
}

func TestSMTP_NoReplyToNullSender(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, "", "quote@quotes.test", request("today"), smtpfe.SkipNullSender)
}

func TestSMTP_NoReplyToAutoSubmitted(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, "alice@example.org", "quote@quotes.test", request("today", "Auto-Submitted: auto-replied"), smtpfe.SkipAutoSubmitted)
}

func TestSMTP_NoReplyToBulkPrecedence(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, "alice@example.org", "quote@quotes.test", request("today", "Precedence: bulk"), smtpfe.SkipPrecedence)
}

func TestSMTP_NoReplyToMailingLists(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, "alice@example.org", "quote@quotes.test", request("today", "List-Id: Announcements <announce.example.org>"), smtpfe.SkipMailingList)
	noReply(t, h, "alice@example.org", "quote@quotes.test", request("today", "List-Unsubscribe: <mailto:leave@example.org>"), smtpfe.SkipMailingList)
}

func TestSMTP_NoReplyWhenAutoResponseSuppressed(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, "alice@example.org", "quote@quotes.test", request("today", "X-Auto-Response-Suppress: OOF, AutoReply"), smtpfe.SkipSuppress)
}

func TestSMTP_NoReplyToRoleSenders(t *testing.T) {
	h := newHarness(t)
	for _, from := range []string{"MAILER-DAEMON@example.org", "postmaster@example.org", "list-request@example.org",
		"owner-list@example.org", "noreply@example.org", "no-reply@example.org"} {
		noReply(t, h, from, "quote@quotes.test", request("today"), smtpfe.SkipRoleSender)
	}
}

func TestSMTP_NoReplyToOwnAddress(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, "quote+random@localhost", "quote@quotes.test", request("today"), smtpfe.SkipOwnAddress)
}

func TestSMTP_NoReplyToUnsafeSender(t *testing.T) {
	h := newHarness(t)
	noReply(t, h, `"a b"@example.org`, "quote@quotes.test", request("today"), smtpfe.SkipInvalidSender)
}

// A sender at an IP address or an internal name would have quotesd open an
// SMTP session to a host inside its own network (issue #14): no reply.
func TestSMTP_NoReplyToSenderAtNonPublicDomain(t *testing.T) {
	h := newHarness(t)
	for _, from := range []string{"x@127.0.0.1", "x@10.0.0.1", "x@192.168.1.1", "x@localhost",
		"x@127.1", "x@2130706433", "x@0x7f000001", "x@[127.0.0.1]", "x@mail.internal", "x@nas.local"} {
		t.Run(from, func(t *testing.T) {
			noReply(t, h, from, "quote@quotes.test", request("today"), smtpfe.SkipNonPublicDomain)
		})
	}
}

func TestSMTP_ReplyLimitPerRecipient(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.limits.PerRecipient = 2 })
	for i := 0; i < 2; i++ {
		h.exchange(t, "quote@quotes.test", request("today"))
	}
	noReply(t, h, "Alice@Example.org", "quote@quotes.test", request("today"), queue.SkipRecipientLimit)
	mustSend(t, h.addr, "bob@example.org", []string{"quote@quotes.test"}, request("today"))
	h.sink.Wait(t, 3, 10*time.Second)
}

func TestSMTP_ReplyLimitPerIP(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.limits.PerIP = 2 })
	for i := 0; i < 2; i++ {
		mustSend(t, h.addr, fmt.Sprintf("user%d@example.org", i), []string{"quote@quotes.test"}, request("today"))
	}
	before := h.queued(t)
	mustSend(t, h.addr, "user3@example.org", []string{"quote@quotes.test"}, request("today"))
	if h.queued(t) != before {
		t.Error("a third reply was queued for the same client IP")
	}
	if got := h.counter(t, "quotesd_smtp_replies_skipped_total", queue.SkipIPLimit); got != 1 {
		t.Errorf("skipped{reason=ip_limit} = %v, want 1", got)
	}
}

func TestSMTP_ReplyIsQueuedBefore250(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.relay = smtptest.FreeAddr(t) }) // relay down
	mustSend(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today"))
	if queued, _, _, _ := h.q.Counts(context.Background()); queued != 1 {
		t.Errorf("after 250: %d replies queued, want 1", queued)
	}
}

func TestSMTP_RejectsOtherRecipients(t *testing.T) {
	h := newHarness(t)
	for _, rcpt := range []string{"bob@quotes.test", "quotes@localhost", "quote@example.org",
		"quote@quotes.test.example.org", "victim@gmail.example", "quote%example.org@localhost", "postmaster@localhost"} {
		err := send(t, h.addr, "alice@example.org", []string{rcpt}, request("today"))
		wantCode(t, err, 550, gosmtp.EnhancedCode{5, 1, 1})
	}
	if h.queued(t) != 0 {
		t.Error("a reply was queued for mail to someone else")
	}
}

func TestSMTP_RejectsOversizeMessage(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxMessageBytes = 4096 })
	err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today")+strings.Repeat("padding line\n", 1000))
	wantCode(t, err, 552, gosmtp.EnhancedCode{5, 3, 4})
	if h.queued(t) != 0 {
		t.Error("a reply was queued for an oversize message")
	}
}

func TestSMTP_LimitsRecipients(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxRecipients = 2 })
	err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test", "quote@localhost", "quote+random@localhost"}, request("today"))
	wantCode(t, err, 452, gosmtp.EnhancedCode{4, 5, 3})
}

func TestSMTP_OneReplyPerMessageWhateverTheRecipients(t *testing.T) {
	h := newHarness(t)
	mustSend(t, h.addr, "alice@example.org", []string{"quote+help@quotes.test", "quote@localhost"}, request("today"))
	if n := h.queued(t); n != 1 {
		t.Errorf("%d replies for one message, want 1", n)
	}
}

func TestSMTP_RejectsLoopingMessage(t *testing.T) {
	h := newHarness(t)
	var received []string
	for i := 0; i < smtpfe.MaxReceived+1; i++ {
		received = append(received, fmt.Sprintf("Received: from hop%d.example.org by hop%d.example.org; Sun, 17 May 2026 09:00:00 +0000", i, i+1))
	}
	err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today", received...))
	wantCode(t, err, 554, gosmtp.EnhancedCode{5, 4, 6})
	// Exactly the limit is still fine.
	mustSend(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today", received[1:]...))
}

func TestSMTP_LimitsMessageRatePerIP(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.IPRate, s.cfg.IPBurst = rate.Every(time.Hour), 2 })
	for i := 0; i < 2; i++ {
		mustSend(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today"))
	}
	err := send(t, h.addr, "alice@example.org", []string{"quote@quotes.test"}, request("today"))
	wantCode(t, err, 450, gosmtp.EnhancedCode{4, 7, 1})
}

// Zero is no bound, as for every limit of quotesd (the settings refuse it
// for these): not a default, and not "no connection at all".
func TestSMTP_ZeroConnectionCapsAreNoCaps(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxConns, s.cfg.MaxClientConns = 0, 0 })
	for i := 0; i < smtpfe.DefaultMaxConnsPerClient+2; i++ {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := readLine(t, c); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("connection %d got %q, want 220: there is no cap", i+1, got)
		}
	}
}

func TestSMTP_LimitsConcurrentConnections(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxConns = 2 })
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readLine(t, c) // 220
		held = append(held, c)
	}
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := readLine(t, c); !strings.HasPrefix(got, "421 4.7.0") {
		t.Errorf("third connection got %q, want 421 4.7.0", got)
	}
	held[0].Close()
	// The freed slot takes a new client.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		got := readLine(t, c)
		c.Close()
		if strings.HasPrefix(got, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a client left, a new one still gets %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dialFrom connects to addr from the local address ip (a loopback alias
// such as 127.0.0.2: Linux routes all of 127.0.0.0/8 to lo), and skips the
// test where the system has no such alias.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		var se *net.OpError
		if errors.As(err, &se) && se.Op == "dial" && strings.Contains(err.Error(), "bind") {
			t.Skipf("cannot connect from %s here: %v", ip, err)
		}
		t.Fatalf("dial %s from %s: %v", addr, ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantClosed checks that the server closes c without sending more.
func wantClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the 421: read %d bytes, err %v; want the connection closed (EOF)", n, err)
	}
}

// One client holding idle connections must not take every
// --smtp-max-conns slot (issue #14): past its own cap (10 by default) it
// gets 421 and is closed, and another client still gets its greeting.
func TestSMTP_OneClientCannotStarveAnother(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxConns = 20 })
	dialFrom(t, "127.0.0.2", h.addr).Close() // skips where there is no alias
	greeted, refused := 0, 0
	for i := 0; i < 20; i++ {
		c := dialFrom(t, "127.0.0.1", h.addr)
		switch got := readLine(t, c); {
		case strings.HasPrefix(got, "220 "):
			greeted++
		case strings.HasPrefix(got, "421 4.7.0 Too many connections from your address"):
			refused++
			wantClosed(t, c)
		default:
			t.Fatalf("connection %d from 127.0.0.1 got %q, want 220 or 421 4.7.0", i+1, got)
		}
	}
	if greeted != 10 || refused != 10 {
		t.Errorf("20 connections from one client: %d greeted and %d refused, want 10 and 10", greeted, refused)
	}
	if got := readLine(t, dialFrom(t, "127.0.0.2", h.addr)); !strings.HasPrefix(got, "220 ") {
		t.Errorf("another client got %q, want its 220 greeting", got)
	}
	if got := h.counter(t, "quotesd_smtp_rejected_total", "max_conns_per_client"); got != 10 {
		t.Errorf("rejected{reason=max_conns_per_client} = %v, want 10", got)
	}
}

// A client's connection that ends frees its place under the cap.
func TestSMTP_ClientCapFreesPlaceWhenConnectionCloses(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxClientConns = 2 })
	first := dialFrom(t, "127.0.0.1", h.addr)
	readLine(t, first)
	readLine(t, dialFrom(t, "127.0.0.1", h.addr))
	c := dialFrom(t, "127.0.0.1", h.addr)
	if got := readLine(t, c); !strings.HasPrefix(got, "421 4.7.0 Too many connections from your address") {
		t.Fatalf("third connection under a cap of 2 got %q, want 421 4.7.0", got)
	}
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dialFrom(t, "127.0.0.1", h.addr)
		got := readLine(t, c)
		c.Close()
		if strings.HasPrefix(got, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one of its connections closed, the client still gets %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := c.Read(one)
		if err != nil {
			return string(b)
		}
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimRight(string(b), "\r")
			}
			b = append(b, one[0])
		}
	}
}

func TestSMTP_RejectsOverlongLine(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxLineLength = 200 })
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readLine(t, c)
	fmt.Fprintf(c, "HELO %s\r\n", strings.Repeat("a", 300))
	if got := readLine(t, c); !strings.HasPrefix(got, "500 5.4.0") {
		t.Errorf("overlong line got %q, want 500 5.4.0", got)
	}
}

func TestSMTP_ClosesIdleConnection(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.ReadTimeout = 200 * time.Millisecond })
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readLine(t, c)
	if got := readLine(t, c); !strings.HasPrefix(got, "421 4.4.2") {
		t.Errorf("idle client got %q, want 421 4.4.2", got)
	}
}

func TestSMTP_DKIMSignedReplyVerifies(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(s *setup) { s.dkim = &smtpfe.DKIM{Signer: priv, Selector: "qotd"} })
	r := h.exchange(t, "quote@quotes.test", request("today"))
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	var asked []string
	vs, err := dkim.VerifyWithOptions(strings.NewReader(r.raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			asked = append(asked, domain)
			if domain == "qotd._domainkey.quotes.test" {
				return []string{record}, nil
			}
			return nil, fmt.Errorf("no TXT record for %s", domain)
		},
	})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "quotes.test" {
		t.Fatalf("verifications %+v (asked %v), want one valid signature by quotes.test", vs, asked)
	}
	for _, k := range []string{"from", "to", "subject", "date", "message-id", "auto-submitted"} {
		found := false
		for _, hk := range vs[0].HeaderKeys {
			found = found || strings.EqualFold(hk, k)
		}
		if !found {
			t.Errorf("signature does not cover %s (covers %v)", k, vs[0].HeaderKeys)
		}
	}
	// A changed body no longer verifies.
	tampered := strings.Replace(r.raw, "\r\n\r\n", "\r\n\r\nTampered.\r\n", 1)
	vs, _ = dkim.VerifyWithOptions(strings.NewReader(tampered), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{record}, nil },
	})
	if len(vs) == 1 && vs[0].Err == nil {
		t.Error("a tampered reply still verifies")
	}
}

// A message whose data stops arriving gets a reply in quotesd's words,
// not the text of a Go error, which names the socket's addresses.
func TestSMTP_StalledDataGetsNoGoErrorText(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.ReadTimeout = 300 * time.Millisecond })
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readLine(t, c)
	for _, cmd := range []string{"HELO client.test", "MAIL FROM:<alice@example.org>", "RCPT TO:<quote@quotes.test>", "DATA"} {
		fmt.Fprintf(c, "%s\r\n", cmd)
		readLine(t, c)
	}
	fmt.Fprintf(c, "Subject: today\r\n\r\nand then nothing more")
	got := readLine(t, c)
	if !strings.HasPrefix(got, "4") || strings.Contains(got, "127.0.0.1") || strings.Contains(got, "i/o timeout") || strings.Contains(got, "read tcp") {
		t.Errorf("stalled DATA got %q, want a 4xx in our own words", got)
	}
}

// stalledLibrary is a library stuck in every lookup (a disk that stopped
// answering, a lock never released): each call waits until its context
// ends, then asks the real library with that ended context, which answers
// as it does when a caller gives up.
type stalledLibrary struct{ quoter.Quoter }

func (l stalledLibrary) Today(ctx context.Context, day quoter.Date, f quoter.Filter) (*quoter.Quote, error) {
	<-ctx.Done()
	return l.Quoter.Today(ctx, day, f)
}

func (l stalledLibrary) Random(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
	<-ctx.Done()
	return l.Quoter.Random(ctx, f)
}

// A library that stalls while a reply is composed costs the sender a 451
// after ComposeTimeout, and nothing is queued; the session is not held for
// ever and goes on.
func TestSMTP_StalledLibraryGets451AfterComposeTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h := newHarness(t, func(s *setup) {
		s.cfg.ComposeTimeout = timeout
		s.wrap = func(q quoter.Quoter) quoter.Quoter { return stalledLibrary{q} }
	})
	c, err := gosmtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	err = c.SendMail("alice@example.org", []string{"quote@quotes.test"}, strings.NewReader(request("today")))
	took := time.Since(start)
	wantCode(t, err, 451, gosmtp.EnhancedCode{4, 3, 0})
	if took < timeout || took > timeout+5*time.Second {
		t.Errorf("the 451 came after %v, want it after the %v compose timeout", took, timeout)
	}
	if n := h.queued(t); n != 0 {
		t.Errorf("%d replies queued, want none", n)
	}
	if !strings.Contains(h.Logs(), "smtp reply not composed") || !strings.Contains(h.Logs(), "deadline exceeded") {
		t.Errorf("log does not say the reply was not composed in time:\n%s", h.Logs())
	}
	if err := c.Quit(); err != nil {
		t.Errorf("QUIT after the 451: %v, want the session still going", err)
	}
}
