package finger

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
	"github.com/quotesd/quotesd/logs/logstest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// fixedDay is the calendar day of every test.
var fixedDay = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// newTestServer returns a Server on q (the sample library when nil) whose
// calendar is fixed at fixedDay, and its log.
func newTestServer(t *testing.T, q quoter.Quoter, cfg Config) (*Server, *logstest.Buffer) {
	t.Helper()
	if q == nil {
		q = quotertest.NewLibrary(t)
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout // a test that hangs should fail, not wait forever
	}
	var buf logstest.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return fixedDay }}
	return NewServer(q, cal, log, prometheus.NewRegistry(), cfg), &buf
}

// serve runs s's service on a fresh listener on 127.0.0.1:0 until the test
// ends, and returns it and its address.
func serve(t *testing.T, s *Server) (*TCPService, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := s.TCP(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	})
	return svc, ln.Addr().String()
}

// finger sends query to addr as is and returns all it reads back.
func finger(t *testing.T, addr, query string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, query); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("query %q: reading the reply: %v (after %q)", query, err, b)
	}
	return string(b)
}

// rejectedOrEmpty sends query to addr and returns what it reads back
// before the end of the stream or a reset: a connection closed unanswered
// holds the unread query, so its close is a reset.
func rejectedOrEmpty(t *testing.T, addr, query string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, query)
	b, _ := io.ReadAll(c)
	return string(b)
}

// wire is q's text and attribution as Finger sends them.
func wire(q *quoter.Quote) string { return string(oneshot.Encode(q, nil)) }

func today(t *testing.T, lib quoter.Quoter, f quoter.Filter) string {
	t.Helper()
	q, err := lib.Today(context.Background(), quoter.DateOf(fixedDay), f)
	if err != nil {
		t.Fatal(err)
	}
	return wire(q)
}

// counter returns the value of a counter of s's metrics.
func counter(t *testing.T, v *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var m dto.Metric
	if err := v.WithLabelValues(labels...).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// eventually returns a counter once it reaches want, or its value after a
// few seconds: a reply is counted a moment after the client has it all.
func eventually(t *testing.T, v *prometheus.CounterVec, want float64, labels ...string) float64 {
	t.Helper()
	n := counter(t, v, labels...)
	for deadline := time.Now().Add(5 * time.Second); n < want && time.Now().Before(deadline); n = counter(t, v, labels...) {
		time.Sleep(time.Millisecond)
	}
	return n
}

// waitIdle waits until svc holds no connection, or fails the test after d.
func waitIdle(t *testing.T, svc *TCPService, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for svc.acc.Active.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the server still holds %d connections after %v", what, svc.acc.Active.Load(), d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFinger_EmptyQueryIsTodaysQuote(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	_, addr := serve(t, s)
	want := today(t, lib, quoter.Filter{})
	for i := range 3 { // the first from the library, the others from the cache
		if got := finger(t, addr, "\r\n"); got != want {
			t.Errorf("query %d: reply = %q, want today's quote %q", i, got, want)
		}
	}
	if got := finger(t, addr, "\n"); got != want {
		t.Errorf("a bare LF: reply = %q, want today's quote", got)
	}
	if n := eventually(t, s.metrics.replies, 4, "today"); n != 4 {
		t.Errorf("today's replies counted = %v, want 4", n)
	}
}

func TestFinger_RandomIsAQuoteOfTheLibrary(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	_, addr := serve(t, s)
	all := map[string]bool{}
	for _, q := range quotertest.Sample() {
		all[wire(&q)] = true
	}
	seen := map[string]bool{}
	for range 20 {
		got := finger(t, addr, "random\r\n")
		if len(got) > MaxReply || !strings.HasSuffix(got, "\r\n") {
			t.Fatalf("reply of %d bytes %q, want CRLF text of at most %d", len(got), got, MaxReply)
		}
		if !all[got] && !strings.Contains(got, " ...\r\n") {
			t.Errorf("reply %q is no quote of the library", got)
		}
		seen[got] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 random queries gave %d distinct quotes, want several", len(seen))
	}
}

func TestFinger_TagIsTodaysQuoteOfThatTag(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	_, addr := serve(t, s)
	for _, tag := range []string{"wit", "poetry"} {
		want := today(t, lib, quoter.Filter{Tag: tag})
		if got := finger(t, addr, tag+"\r\n"); got != want {
			t.Errorf("tag %s: reply = %q, want %q", tag, got, want)
		}
		if got := finger(t, addr, strings.ToUpper(tag)+"\r\n"); got != want {
			t.Errorf("tag %s in capitals: reply = %q, want %q", tag, got, want)
		}
	}
	for _, tag := range []string{"no-such-tag", "not a tag", strings.Repeat("x", 100)} {
		got := finger(t, addr, tag+"\r\n")
		if strings.Count(got, "\r\n") != 1 || !strings.Contains(got, "no quote is tagged") {
			t.Errorf("unknown tag %q: reply = %q, want one line saying so", tag, got)
		}
	}
}

func TestFinger_HelpListsQueriesAndTags(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	_, addr := serve(t, s)
	got := finger(t, addr, "help\r\n")
	for _, want := range []string{"finger @HOST", "random@HOST", "TAG@HOST", "help@HOST", "poetry", "wit"} {
		if !strings.Contains(got, want) {
			t.Errorf("help = %q, want it to mention %q", got, want)
		}
	}
	if strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\n") || !strings.HasSuffix(got, "\r\n") || len(got) > MaxReply {
		t.Errorf("help = %q, want CRLF lines, at most %d bytes", got, MaxReply)
	}
}

func TestFinger_HelpFitsWithManyTags(t *testing.T) {
	var qs []quoter.Quote
	for i := range 400 {
		qs = append(qs, quoter.Quote{Text: "Quote number " + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Author: "A",
			Tags: []string{"tag-with-a-long-name-" + string(rune('a'+i%26)) + string(rune('a'+i/26))}})
	}
	s, _ := newTestServer(t, quotertest.NewLibrary(t, qs...), Config{})
	got, _ := s.help(context.Background())
	if len(got) > MaxReply || !bytes.HasSuffix(got, []byte("\r\n")) {
		t.Errorf("help with 400 tags: %d bytes, want at most %d, ending in CRLF", len(got), MaxReply)
	}
}

func TestFinger_LongestQuotesFitIn4KiB(t *testing.T) {
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: strings.Repeat("word ", quoter.MaxTextLen/5), Author: strings.Repeat("A", quoter.MaxAuthorLen), Source: "S"})
	s, logs := newTestServer(t, lib, Config{})
	_, addr := serve(t, s)
	for _, query := range []string{"\r\n", "random\r\n"} {
		got := finger(t, addr, query)
		if len(got) > MaxReply || !strings.HasSuffix(got, "\r\n") || !strings.Contains(got, " ...\r\n") {
			t.Errorf("query %q: %d bytes ending %q, want a quote cut to at most %d bytes", query, len(got), got[max(0, len(got)-20):], MaxReply)
		}
	}
	if !strings.Contains(logs.String(), "4 KiB") {
		t.Errorf("log = %q, want the cut said", logs.String())
	}
}

func TestFinger_VerboseAndForwardingAreRefusedInOneLine(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	_, addr := serve(t, s)
	for _, tt := range []struct{ query, want, reason string }{
		{"/W\r\n", "/W", reasonVerbose},
		{"/W random\r\n", "/W", reasonVerbose},
		{"user@host\r\n", "forwarding refused", reasonForwarding},
		{"user@host@host2\r\n", "forwarding refused", reasonForwarding},
		{"@127.0.0.1\r\n", "forwarding refused", reasonForwarding},
	} {
		got := finger(t, addr, tt.query)
		if strings.Count(got, "\r\n") != 1 || !strings.HasSuffix(got, "\r\n") || !strings.Contains(got, tt.want) {
			t.Errorf("query %q: reply = %q, want one line with %q", tt.query, got, tt.want)
		}
	}
	if n := counter(t, s.metrics.refused, reasonForwarding); n != 3 {
		t.Errorf("forwarding refusals counted = %v, want 3", n)
	}
}

func TestFinger_NonUTF8AndControlCharactersAreRefused(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	_, addr := serve(t, s)
	for _, tt := range []struct{ query, want string }{
		{"caf\xe9\r\n", "not UTF-8"},
		{"\xff\xfe\xfd\r\n", "not UTF-8"},
		{"wit\x1b[2J\r\n", "control characters"},
		{"wit\x00\r\n", "control characters"},
		{"wit\rrandom\r\n", "control characters"},
	} {
		got := finger(t, addr, tt.query)
		if strings.Count(got, "\r\n") != 1 || !strings.Contains(got, tt.want) {
			t.Errorf("query %q: reply = %q, want one line saying %q", tt.query, got, tt.want)
		}
	}
}

func TestFinger_QueryWithoutLineEndBeforeEOFIsAnswered(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	_, addr := serve(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "wit")
	c.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	if want := today(t, lib, quoter.Filter{Tag: "wit"}); string(got) != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
}

func TestFinger_MaxConnsClosesExcessWithoutReply(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{MaxConns: 2})
	svc, addr := serve(t, s)
	svc.acc.Active.Store(2) // two connections are being answered
	if got := rejectedOrEmpty(t, addr, "\r\n"); got != "" {
		t.Errorf("over the cap: got %q, want the connection closed without a reply", got)
	}
	if n := counter(t, s.metrics.rejected, oneshot.ReasonMaxConns); n != 1 {
		t.Errorf("rejections counted = %v, want 1", n)
	}
	svc.acc.Active.Store(1)
	if got := finger(t, addr, "\r\n"); got == "" {
		t.Error("under the cap: no reply")
	}
}

func TestFinger_ConnRateLimitsEachAddressAndSurvivesReload(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{ConnRate: 0.1})
	_, addr := serve(t, s)
	if got := finger(t, addr, "\r\n"); got == "" {
		t.Fatal("first connection: no reply")
	}
	if got := rejectedOrEmpty(t, addr, "\r\n"); got != "" {
		t.Errorf("second connection within 10s at 1 per 10s: got %q, want no reply", got)
	}
	cfg := s.Config()
	s.SetConfig(cfg) // a reload with the same rate keeps what the client spent
	if got := rejectedOrEmpty(t, addr, "\r\n"); got != "" {
		t.Errorf("after a reload: got %q, want no reply still", got)
	}
	if n := counter(t, s.metrics.rejected, oneshot.ReasonRate); n != 2 {
		t.Errorf("rate rejections counted = %v, want 2", n)
	}
}
