package qotd

import (
	"bytes"
	"context"
	"github.com/quotesd/quotesd/logs/logstest"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
	"github.com/quotesd/quotesd/reactor"
)

// logBuffer collects log output from several goroutines.
type logBuffer = logstest.Buffer

// fixedDay is the calendar day of every test that does not set its own.
var fixedDay = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// newTestServer returns a Server over q (the sample library if nil) whose
// calendar is fixed at fixedDay, and its log.
func newTestServer(t *testing.T, q quoter.Quoter, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	if q == nil {
		q = quotertest.NewLibrary(t)
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout // a test that hangs should fail, not wait forever
	}
	var buf logBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return fixedDay }}
	s := NewServer(q, cal, log, prometheus.NewRegistry(), cfg)
	return s, &buf
}

// serveTCP runs s's TCP service on a fresh listener on addr until the test
// ends, and returns the address.
func serveTCP(t *testing.T, s *Server, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.TCP(ln).Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	})
	return ln.Addr().String()
}

// fetch connects to addr, optionally writes input, and reads until EOF.
func fetch(t *testing.T, addr string, input string) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if input != "" {
		if _, err := io.WriteString(c, input); err != nil {
			t.Fatal(err)
		}
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the reply: %v (after %q)", err, b)
	}
	return b
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

// eventually returns a counter of s's metrics once it reaches want, or its
// value after a few seconds.
func eventually(t *testing.T, v *prometheus.CounterVec, want float64, labels ...string) float64 {
	t.Helper()
	n := counter(t, v, labels...)
	for deadline := time.Now().Add(5 * time.Second); n < want && time.Now().Before(deadline); n = counter(t, v, labels...) {
		time.Sleep(time.Millisecond)
	}
	return n
}

// wantToday returns what `quotesd today` gives for fixedDay, in wire form.
func wantToday(t *testing.T, q quoter.Quoter) []byte {
	t.Helper()
	qt, err := q.Today(context.Background(), quoter.DateOf(fixedDay), quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return encode(qt, false)
}

func TestQOTD_SendsQuoteAndCloses(t *testing.T) {
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Lang: "en"})
	s, _ := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	got := fetch(t, addr, "")
	want := "Simplify, simplify.\r\n    -- Henry David Thoreau, Walden (1854)\r\n"
	if string(got) != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	// The reply is counted once it is written in full, which the client
	// can see (the end of the stream) a moment before the count is made.
	if n := eventually(t, s.metrics.served, 1, "tcp"); n != 1 {
		t.Errorf("replies counted = %v, want 1", n)
	}
}

func TestQOTD_DailyModeIsTodaysQuote(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{Mode: Daily})
	addr := serveTCP(t, s, "127.0.0.1:0")
	want := wantToday(t, lib)
	if len(want) > MaxReply {
		t.Fatalf("fixedDay's quote does not fit 512 bytes; pick another day for this test")
	}
	for i := 0; i < 3; i++ {
		if got := fetch(t, addr, ""); !bytes.Equal(got, want) {
			t.Errorf("reply %d = %q, want today's quote %q", i, got, want)
		}
	}
}

func TestQOTD_IgnoresInput(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	want := wantToday(t, lib)
	for _, input := range []string{"hello\r\n", strings.Repeat("GET / HTTP/1.0\r\n", 500)} {
		if got := fetch(t, addr, input); !bytes.Equal(got, want) {
			t.Errorf("after sending %d bytes: reply = %q, want %q", len(input), got, want)
		}
	}
}

func TestQOTD_ReplyFitsIn512BytesEveryDay(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	n := len(quotertest.Sample())
	fitted := 0
	for i := 0; i < 2*n; i++ {
		day := quoter.DateOf(fixedDay).AddDays(i)
		s.calendar = &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return day.Time(time.UTC).Add(time.Hour) }}
		got, err := s.Reply(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", day, err)
		}
		if len(got) > MaxReply {
			t.Errorf("%s: reply is %d bytes, want at most %d", day, len(got), MaxReply)
		}
		if bytes.Contains(bytes.ReplaceAll(got, []byte("\r\n"), nil), []byte("\n")) || !bytes.HasSuffix(got, []byte("\r\n")) {
			t.Errorf("%s: reply %q has a bare LF or does not end in CRLF", day, got)
		}
		q, err := lib.Today(context.Background(), day, quoter.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if full := encode(q, false); len(full) <= MaxReply {
			if !bytes.Equal(got, full) {
				t.Errorf("%s: reply = %q, want the day's own quote %q (it fits)", day, got, full)
			}
		} else {
			fitted++
			if bytes.Contains(got, []byte(" ...\r\n")) {
				t.Errorf("%s: reply truncated although the library holds quotes that fit: %q", day, got)
			}
		}
	}
	if fitted == 0 {
		t.Error("no day's quote was too long for 512 bytes: the test does not exercise the length filter")
	}
}

func TestQOTD_LongestQuotesFitOverTCP(t *testing.T) {
	// Every quote of the library but one short one is too long.
	lib := quotertest.NewLibrary(t,
		quoter.Quote{Text: quotertest.Long, Author: "Jack Torrance", Lang: "en"},
		quoter.Quote{Text: quotertest.Gettysburg, Author: "Abraham Lincoln", Source: "Gettysburg Address", Year: 1863, Lang: "en"},
		quoter.Quote{Text: "Short and sweet.", Author: "Anonymous", Lang: "en"},
	)
	s, log := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	got := fetch(t, addr, "")
	if want := "Short and sweet.\r\n    -- Anonymous\r\n"; string(got) != want {
		t.Errorf("reply = %q, want the only quote that fits, %q", got, want)
	}
	if strings.Contains(log.String(), "cut on a word boundary") {
		t.Error("logged a truncation although a quote fits")
	}
}

func TestQOTD_TruncatesOnWordBoundaryOnlyWhenNothingFits(t *testing.T) {
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: quotertest.Gettysburg, Author: "Abraham Lincoln", Source: "Gettysburg Address", Year: 1863, Lang: "en"})
	s, log := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	got := string(fetch(t, addr, ""))
	if len(got) > MaxReply {
		t.Errorf("reply is %d bytes, want at most %d", len(got), MaxReply)
	}
	if !strings.HasSuffix(got, " ...\r\n    -- Abraham Lincoln, Gettysburg Address (1863)\r\n") {
		t.Errorf("reply %q does not end with an ellipsis and the attribution", got)
	}
	text, _, _ := strings.Cut(got, " ...\r\n")
	words := strings.Fields(text)
	orig := strings.Fields(quotertest.Gettysburg)
	for i, w := range words {
		if w != orig[i] {
			t.Fatalf("word %d = %q, want %q: cut mid-word", i, w, orig[i])
		}
	}
	if !strings.Contains(log.String(), "no quote in the library fits") {
		t.Errorf("log %q does not report the truncation", log.String())
	}
}

func TestQOTD_RandomModeSendsQuotesThatFit(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{Mode: Random})
	addr := serveTCP(t, s, "127.0.0.1:0")
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		got := fetch(t, addr, "")
		if len(got) == 0 || len(got) > MaxReply {
			t.Fatalf("reply of %d bytes, want 1..%d", len(got), MaxReply)
		}
		seen[string(got)] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 random replies gave %d distinct quotes, want several", len(seen))
	}
}

func TestQOTD_ASCIIModeSendsOnlyASCII(t *testing.T) {
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: "“Hope” is the thing with feathers —\nThat perches in the soul —", Author: "Emily Dickinson", Lang: "en"})
	s, _ := newTestServer(t, lib, Config{ASCII: true})
	got := string(fetch(t, serveTCP(t, s, "127.0.0.1:0"), ""))
	want := "\"Hope\" is the thing with feathers --\r\nThat perches in the soul --\r\n    -- Emily Dickinson\r\n"
	if got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
}

func TestQOTD_IPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("IPv6 loopback ::1 is not available on this machine: %v", err)
	}
	ln.Close()
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "[::1]:0")
	if got, want := fetch(t, addr, ""), wantToday(t, lib); !bytes.Equal(got, want) {
		t.Errorf("TCP over IPv6: reply = %q, want %q", got, want)
	}
	pc := serveUDP(t, s, "[::1]:0")
	c := udpClient(t, "[::1]:0")
	if got := udpAsk(t, c, pc, 500*time.Millisecond); !bytes.Equal(got, wantToday(t, lib)) {
		t.Errorf("UDP over IPv6: reply = %q, want today's quote", got)
	}
}

func TestQOTD_MaxConnsClosesExcessWithoutReply(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{MaxConns: 2})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := s.TCP(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	svc.acc.Active.Store(2) // two connections are being answered
	if got := fetch(t, ln.Addr().String(), ""); len(got) != 0 {
		t.Errorf("over the cap: got %q, want the connection closed without a reply", got)
	}
	if n := counter(t, s.metrics.rejected, "tcp", reasonMaxConns); n != 1 {
		t.Errorf("rejections counted = %v, want 1", n)
	}
	svc.acc.Active.Store(1)
	if got := fetch(t, ln.Addr().String(), ""); len(got) == 0 {
		t.Error("under the cap: no reply")
	}
}

func TestQOTD_ConnRateLimitsEachAddress(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{ConnRate: 0.1})
	addr := serveTCP(t, s, "127.0.0.1:0")
	if got := fetch(t, addr, ""); len(got) == 0 {
		t.Fatal("first connection: no reply")
	}
	if got := fetch(t, addr, ""); len(got) != 0 {
		t.Errorf("second connection within 10s at 1 per 10s: got %q, want no reply", got)
	}
	if n := counter(t, s.metrics.rejected, "tcp", reasonRate); n != 1 {
		t.Errorf("rate rejections counted = %v, want 1", n)
	}
}

// A reload (SetConfig, with the same or another rate) keeps what each
// client has spent.
func TestQOTD_ReloadKeepsEachClientsSpentConnRate(t *testing.T) {
	cfg := Config{ConnRate: 0.1}
	s, _ := newTestServer(t, nil, cfg)
	addr := serveTCP(t, s, "127.0.0.1:0")
	if got := fetch(t, addr, ""); len(got) == 0 {
		t.Fatal("first connection: no reply")
	}
	for _, rate := range []float64{0.1, 0.05, 0.2} {
		cfg.ConnRate = rate
		s.SetConfig(cfg)
		if got := fetch(t, addr, ""); len(got) != 0 {
			t.Errorf("after a reload at %v a second: got %q, want no reply (the client spent its budget)", rate, got)
		}
	}
	// Turning the limit off lets it in.
	s.SetConfig(Config{})
	if got := fetch(t, addr, ""); len(got) == 0 {
		t.Error("with the rate limit off: no reply")
	}
}

// settleGoroutines waits for the goroutine count to fall to at most want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQOTD_NoGoroutineOrMemoryLeakPerConnection(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	fetch(t, addr, "") // warm up: the cache, the database pool
	settleGoroutines(t, runtime.NumGoroutine())
	base := runtime.NumGoroutine()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := 0; i < 2000; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if i%2 == 0 {
				c.Write([]byte("noise\r\n"))
			}
			io.Copy(io.Discard, c)
		}()
	}
	wg.Wait()
	settleGoroutines(t, base)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes over 2000 connections, want < 4 MiB", grown)
	}
}

func TestQOTD_IdleClientsDoNotStopOthersBeingServed(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{MaxConns: 100})
	addr := serveTCP(t, s, "127.0.0.1:0")
	const idle = 2000 // the bench runs 10,000 in a separate process
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < idle; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("idle client %d: %v", i, err)
		}
		conns = append(conns, c) // never reads, never closes
	}
	// A dial returns once the kernel has queued the connection, before the
	// server took it: wait until it has answered (or, past MaxConns in the
	// burst, refused) every idle client, so that they hold nothing but
	// their own sockets when the others come.
	for deadline := time.Now().Add(20 * time.Second); counter(t, s.metrics.served, "tcp")+counter(t, s.metrics.rejected, "tcp", reasonMaxConns) < idle; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server took only %v of %d idle clients within 20s", counter(t, s.metrics.served, "tcp")+counter(t, s.metrics.rejected, "tcp", reasonMaxConns), idle)
		}
	}
	for i := 0; i < 20; i++ {
		if got := fetch(t, addr, ""); len(got) == 0 {
			t.Fatalf("client %d, with %d idle clients connected: no reply (rejected %v, errors %v, served %v)", i, idle, counter(t, s.metrics.rejected, "tcp", reasonMaxConns), counter(t, s.metrics.errors, "tcp"), counter(t, s.metrics.served, "tcp"))
		}
	}
}

func TestQOTD_GracefulShutdownWhile1000ClientsConnect(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	want := wantToday(t, lib)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.TCP(ln).Serve(ctx) }()

	const clients = 1000
	var wg sync.WaitGroup
	var mu sync.Mutex
	full, refused := 0, 0
	start := make(chan struct{})
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(c)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case bytes.Equal(got, want):
				full++
			case len(got) == 0:
				refused++ // accepted by the kernel, never by us: reset or closed
			default:
				t.Errorf("partial reply %q (err %v): a connection was cut while being answered", got, err)
			}
		}()
	}
	close(start)
	for deadline := time.Now().Add(10 * time.Second); counter(t, s.metrics.served, "tcp") < 100; {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 100 clients served within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	cancel() // while the others are still connecting
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of shutdown")
	}
	wg.Wait()
	t.Logf("%d clients served in full, %d refused", full, refused)
	if full+refused != clients {
		t.Errorf("served %d + refused %d, want %d in all", full, refused, clients)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after shutdown")
	}
}

// wantPermanentSoon waits for the result of a Serve whose socket at addr
// died and checks that it is a permanent error naming the address, so
// that the supervisor stops the process instead of restarting the service
// on a socket that can never serve again.
func wantPermanentSoon(t *testing.T, done <-chan error, addr net.Addr) {
	t.Helper()
	select {
	case err := <-done:
		if !reactor.IsPermanent(err) || !strings.Contains(err.Error(), addr.String()) {
			t.Errorf("Serve = %v, want a permanent error naming %s", err, addr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5s after its socket died")
	}
}

func TestQOTD_ListenerClosedUnderServeIsAPermanentFailure(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.TCP(ln).Serve(context.Background()) }()
	if got := fetch(t, ln.Addr().String(), ""); len(got) == 0 {
		t.Fatal("no reply before the listener was closed")
	}
	ln.Close()
	wantPermanentSoon(t, done, ln.Addr())
}

func TestQOTD_SetConfigAppliesLive(t *testing.T) {
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: "A “curly” one.", Author: "Anon", Lang: "en"})
	s, _ := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	if got := string(fetch(t, addr, "")); !strings.Contains(got, "“curly”") {
		t.Fatalf("reply %q, want UTF-8 quotes", got)
	}
	s.SetConfig(Config{ASCII: true})
	if got := string(fetch(t, addr, "")); !strings.Contains(got, `"curly"`) {
		t.Errorf("after SetConfig(ASCII): reply %q, want ASCII quotes", got)
	}
}

// panicQuoter panics on every call, as a bug in the library would.
type panicQuoter struct{ quoter.Quoter }

func (panicQuoter) Today(context.Context, quoter.Date, quoter.Filter) (*quoter.Quote, error) {
	panic("bug in the library")
}

func TestQOTD_PanicInOneConnectionIsLoggedWithStackAndServingGoesOn(t *testing.T) {
	s, log := newTestServer(t, panicQuoter{}, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	for i := 0; i < 2; i++ {
		if got := fetch(t, addr, ""); len(got) != 0 {
			t.Errorf("connection %d: got %q, want it closed without a reply", i, got)
		}
	}
	out := log.String()
	if strings.Count(out, "panic while serving a connection") != 2 || !strings.Contains(out, "bug in the library") || !strings.Contains(out, "stack=") {
		t.Errorf("log %q does not report both panics with their stack", out)
	}
	if n := counter(t, s.metrics.errors, "tcp"); n != 2 {
		t.Errorf("errors counted = %v, want 2", n)
	}
}

// flakyListener fails its first Accept calls with a temporary error, as
// accept(2) does when the process is out of file descriptors.
type flakyListener struct {
	net.Listener
	failures int
}

type tempError struct{}

func (tempError) Error() string   { return "accept: too many open files" }
func (tempError) Timeout() bool   { return false }
func (tempError) Temporary() bool { return true }

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures > 0 {
		l.failures--
		return nil, tempError{}
	}
	return l.Listener.Accept()
}

// noBuffers fails its first Accept calls with ENOBUFS, as accept(2) does
// under memory pressure: an error that does not say it is temporary, but
// after which the listener works again.
type noBuffers struct {
	net.Listener
	failures int
}

func (l *noBuffers) Accept() (net.Conn, error) {
	if l.failures > 0 {
		l.failures--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.ENOBUFS)}
	}
	return l.Listener.Accept()
}

func TestQOTD_AcceptRetriesErrorsThatLeaveTheListenerAlive(t *testing.T) {
	s, log := newTestServer(t, nil, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.TCP(&noBuffers{Listener: ln, failures: 2}).Serve(ctx) }()
	if got := fetch(t, ln.Addr().String(), ""); len(got) == 0 {
		t.Error("no reply after the accept errors")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if n := strings.Count(log.String(), "accept failed; retrying"); n != 2 {
		t.Errorf("logged %d accept retries, want 2", n)
	}
}

func TestQOTD_AcceptRetriesTemporaryErrors(t *testing.T) {
	s, log := newTestServer(t, nil, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.TCP(&flakyListener{Listener: ln, failures: 3}).Serve(ctx) }()
	if got := fetch(t, ln.Addr().String(), ""); len(got) == 0 {
		t.Error("no reply after the accept errors")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if n := strings.Count(log.String(), "accept failed; retrying"); n != 3 {
		t.Errorf("logged %d accept retries, want 3", n)
	}
}

// The day's quote is history: deleting it changes nothing, and a
// correction of its text shows at once (within the library's check).
func TestQOTD_DailyReplyFollowsCorrectionsOfTheQuote(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	ctx := context.Background()
	before, err := s.Reply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q, err := lib.Today(ctx, quoter.DateOf(fixedDay), quoter.Filter{MaxLen: MaxReply - 2})
	if err != nil {
		t.Fatal(err)
	}
	text := "Corrected: " + q.Text
	if _, err := lib.Update(ctx, q.ID, quoter.Update{Text: &text}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		after, err := s.Reply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(after, before) {
			if !bytes.Contains(after, []byte("Corrected: ")) {
				t.Errorf("after the correction: reply = %q, want the corrected text", after)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reply still shows the uncorrected text 10s later")
		}
	}
	if err := lib.Delete(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // past the library's check
	after, err := s.Reply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(after, []byte("Corrected: ")) {
		t.Errorf("after deleting the day's quote: reply = %q, want the day's quote still", after)
	}
}

func TestQOTD_EmptyLibraryClosesWithoutReplyAndLogsOnce(t *testing.T) {
	lib, err := sqlite.Open(filepath.Join(t.TempDir(), "empty.db"), sqlite.Create())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	s, log := newTestServer(t, lib, Config{})
	addr := serveTCP(t, s, "127.0.0.1:0")
	for i := 0; i < 5; i++ {
		if got := fetch(t, addr, ""); len(got) != 0 {
			t.Errorf("empty library: got %q, want no reply", got)
		}
	}
	if n := strings.Count(log.String(), "no quote to send"); n != 1 {
		t.Errorf("logged %d failures within a second, want 1:\n%s", n, log.String())
	}
	if n := counter(t, s.metrics.errors, "tcp"); n != 5 {
		t.Errorf("errors counted = %v, want 5", n)
	}
}

func TestQOTD_ReopenedLibraryIsServedAtOnce(t *testing.T) {
	first := quotertest.NewLibrary(t, quoter.Quote{Text: "First.", Author: "One", Lang: "en"})
	lib := reactor.NewLibrary(first, nil)
	s, _ := newTestServer(t, lib, Config{})
	ctx := context.Background()
	if got, _ := s.Reply(ctx); !bytes.HasPrefix(got, []byte("First.")) {
		t.Fatalf("reply %q, want the first library's quote", got)
	}
	lib.Swap(quotertest.NewLibrary(t, quoter.Quote{Text: "Second.", Author: "Two", Lang: "en"}), nil)
	if got, _ := s.Reply(ctx); !bytes.HasPrefix(got, []byte("Second.")) {
		t.Errorf("right after the swap: reply %q, want the new library's quote", got)
	}
}
