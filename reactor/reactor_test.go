package reactor

import (
	"context"
	"errors"
	"github.com/quotesd/quotesd/logs/logstest"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// logBuffer collects log output from several goroutines.
type logBuffer = logstest.Buffer

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	var buf logBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func TestSockets_BindsAddressAndLogsListening(t *testing.T) {
	log, buf := testLogger(t)
	s := newSockets(log, nil)
	l, err := s.Listen("qotd", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := "msg=listening listener=qotd addr=" + l.Addr().String()
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log = %q, want it to contain %q", buf.String(), want)
	}
	pc, err := s.ListenPacket("qotd-udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if want := "listener=qotd-udp addr=" + pc.LocalAddr().String(); !strings.Contains(buf.String(), want) {
		t.Errorf("log = %q, want it to contain %q", buf.String(), want)
	}
}

func TestSockets_BusyAddressErrorNamesListenerAndAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := newSockets(nil, nil)
	_, err = s.Listen("qotd", busy.Addr().String())
	if err == nil {
		t.Fatal("Listen on a busy address succeeded")
	}
	for _, want := range []string{"qotd", busy.Addr().String(), "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestSockets_MalformedAddressFails(t *testing.T) {
	_, err := newSockets(nil, nil).Listen("web", "127.0.0.1")
	if err == nil || !strings.Contains(err.Error(), "web") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("err = %v, want one naming web and 127.0.0.1", err)
	}
}

// inheritedFile returns a dup of a bound socket's descriptor named as
// systemd's FileDescriptorName would name it.
func inheritedFile(t *testing.T, name string, sock interface{ File() (*os.File, error) }) *os.File {
	t.Helper()
	f, err := sock.File()
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(f.Fd(), name)
}

func TestSockets_InheritedSocketWinsOverAddress(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	log, buf := testLogger(t)
	s := newSockets(log, []*os.File{inheritedFile(t, "qotd", ln), inheritedFile(t, "qotd-udp", uc)})
	if !s.Inherited("qotd") {
		t.Error(`Inherited("qotd") = false, want true`)
	}
	got, err := s.Listen("qotd", "this address is ignored")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Addr().String() != ln.Addr().String() {
		t.Errorf("inherited listener addr = %s, want %s", got.Addr(), ln.Addr())
	}
	pc, err := s.ListenPacket("qotd-udp", "")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if pc.LocalAddr().String() != uc.LocalAddr().String() {
		t.Errorf("inherited packet conn addr = %s, want %s", pc.LocalAddr(), uc.LocalAddr())
	}
	if !strings.Contains(buf.String(), "systemd=true") {
		t.Errorf("log %q does not say the socket came from systemd", buf.String())
	}
	if s.Inherited("qotd") {
		t.Error("a claimed socket is still reported as inherited")
	}
}

func TestSockets_CloseUnusedReportsUnclaimedSockets(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	log, buf := testLogger(t)
	s := newSockets(log, []*os.File{inheritedFile(t, "smtp", ln)})
	if got := s.CloseUnused(); len(got) != 1 || got[0] != "smtp" {
		t.Errorf("CloseUnused() = %v, want [smtp]", got)
	}
	if !strings.Contains(buf.String(), "listener=smtp") {
		t.Errorf("log %q does not warn about the unused smtp socket", buf.String())
	}
}

// serviceFunc adapts a function to Service.
type serviceFunc func(ctx context.Context) error

func (f serviceFunc) Serve(ctx context.Context) error { return f(ctx) }

func TestSupervisor_RestartsFailedService(t *testing.T) {
	log, buf := testLogger(t)
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	sup := &Supervisor{Log: log, ShutdownTimeout: time.Second}
	sup.Add("flaky", serviceFunc(func(ctx context.Context) error {
		if runs.Add(1) < 3 {
			return errors.New("link lost")
		}
		cancel()
		<-ctx.Done()
		return nil
	}))
	if err := sup.Serve(ctx); err != nil {
		t.Fatalf("Serve = %v, want nil after a clean stop", err)
	}
	if got := runs.Load(); got != 3 {
		t.Errorf("service ran %d times, want 3", got)
	}
	if !strings.Contains(buf.String(), "link lost") {
		t.Errorf("log %q does not report the failure", buf.String())
	}
}

func TestSupervisor_PermanentErrorStopsEverything(t *testing.T) {
	log, buf := testLogger(t)
	var otherStopped atomic.Bool
	sup := &Supervisor{Log: log, ShutdownTimeout: time.Second}
	sup.Add("other", serviceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		otherStopped.Store(true)
		return nil
	}))
	sup.Add("irc", serviceFunc(func(ctx context.Context) error {
		return Permanent(errors.New("bad nickname"))
	}))
	err := sup.Serve(context.Background())
	if want := "irc cannot be restarted: bad nickname"; err == nil || err.Error() != want {
		t.Fatalf("Serve = %v, want %q", err, want)
	}
	if IsPermanent(err) {
		t.Error("Serve's error still carries the Permanent marker")
	}
	if !otherStopped.Load() {
		t.Error("the other service was not stopped")
	}
	want := `level=ERROR msg="service failed, and a restart cannot fix it: stopping every service" service=irc err="bad nickname"`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log %q lacks %q", buf.String(), want)
	}
}

func TestSupervisor_RecoversPanicAndRestarts(t *testing.T) {
	log, buf := testLogger(t)
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	sup := &Supervisor{Log: log}
	sup.Add("buggy", serviceFunc(func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			panic("boom")
		}
		cancel()
		return nil
	}))
	if err := sup.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 2 {
		t.Errorf("runs = %d, want 2 (restart after the panic)", runs.Load())
	}
	if !strings.Contains(buf.String(), "boom") || !strings.Contains(buf.String(), "stack=") {
		t.Errorf("log %q lacks the panic and its stack", buf.String())
	}
}

func TestSupervisor_ShutdownIsBounded(t *testing.T) {
	log, buf := testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	sup := &Supervisor{Log: log, ShutdownTimeout: 100 * time.Millisecond}
	stuck := make(chan struct{})
	defer close(stuck)
	sup.Add("stuck", serviceFunc(func(ctx context.Context) error {
		<-stuck // ignores ctx: a drain that never ends
		return nil
	}))
	done := make(chan error, 1)
	go func() { done <- sup.Serve(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of a 100ms shutdown timeout")
	}
	if !strings.Contains(buf.String(), "did not stop within the shutdown timeout") {
		t.Errorf("log %q does not report the abandoned service", buf.String())
	}
}

// countingQuoter is a quoter.Quoter whose Today blocks until released and
// which records its own Close.
type countingQuoter struct {
	quoter.Library // nil: methods other than Today are not called
	name           string
	entered        chan struct{}
	release        chan struct{}
	closed         atomic.Bool
}

func (c *countingQuoter) Today(ctx context.Context, day quoter.Date, f quoter.Filter) (*quoter.Quote, error) {
	if c.closed.Load() {
		return nil, errors.New("used after close")
	}
	if c.entered != nil {
		c.entered <- struct{}{}
		<-c.release
	}
	return &quoter.Quote{Text: c.name}, nil
}

func (c *countingQuoter) Close() error {
	c.closed.Store(true)
	return nil
}

func TestLibrary_SwapWaitsForCallsInFlightThenClosesOld(t *testing.T) {
	old := &countingQuoter{name: "old", entered: make(chan struct{}), release: make(chan struct{})}
	lib := NewLibrary(old, old)
	got := make(chan string)
	go func() {
		q, err := lib.Today(context.Background(), quoter.Date{}, quoter.Filter{})
		if err != nil {
			got <- err.Error()
			return
		}
		got <- q.Text
	}()
	<-old.entered // a call is in flight on the old library
	next := &countingQuoter{name: "new"}
	swapped := make(chan error)
	go func() { swapped <- lib.Swap(next, next) }()
	select {
	case <-swapped:
		t.Fatal("Swap returned while a call was still using the old library")
	case <-time.After(50 * time.Millisecond):
	}
	close(old.release)
	if g := <-got; g != "old" {
		t.Errorf("in-flight call got %q, want %q", g, "old")
	}
	if err := <-swapped; err != nil {
		t.Fatal(err)
	}
	if !old.closed.Load() {
		t.Error("old library not closed after the swap")
	}
	q, err := lib.Today(context.Background(), quoter.Date{}, quoter.Filter{})
	if err != nil || q.Text != "new" {
		t.Errorf("after swap Today = %v, %v; want the new library's quote", q, err)
	}
	if lib.Generation() != 1 {
		t.Errorf("Generation = %d, want 1", lib.Generation())
	}
	if err := lib.Close(); err != nil || !next.closed.Load() {
		t.Errorf("Close = %v, closed = %v; want the current library closed", err, next.closed.Load())
	}
	if _, err := lib.Today(context.Background(), quoter.Date{}, quoter.Filter{}); quoter.ErrorCode(err) != quoter.EINTERNAL {
		t.Errorf("Today after Close: err = %v, want EINTERNAL", err)
	}
}

func TestSockets_ListenOneShotServesLikeListen(t *testing.T) {
	log, buf := testLogger(t)
	s := newSockets(log, nil)
	l, err := ListenOneShot(s, "qotd", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.Contains(buf.String(), "listener=qotd addr="+l.Addr().String()) {
		t.Errorf("log %q lacks the listening line", buf.String())
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make([]byte, 2)
	if _, err := c.Read(got); err != nil || string(got) != "ok" {
		t.Errorf("read %q, %v; want ok", got, err)
	}
}

// Down is what the systemd watchdog asks: a service that keeps failing,
// so that the supervisor backs off instead of restarting it, is down; a
// running one is not, and neither is one down for less than the grace.
func TestSupervisor_DownNamesAServiceNotRunningForLong(t *testing.T) {
	log, _ := testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	sup := &Supervisor{Log: log, ShutdownTimeout: time.Second, FailureThreshold: 1, FailureBackoff: time.Hour}
	started := make(chan struct{})
	sup.Add("steady", serviceFunc(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return nil
	}))
	sup.Add("broken", serviceFunc(func(ctx context.Context) error { return errors.New("cannot") }))
	done := make(chan error, 1)
	go func() { done <- sup.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	<-started
	if err := sup.Down(time.Hour); err != nil {
		t.Errorf("Down(1h) = %v, want nil: no service has been down that long", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := sup.Down(50 * time.Millisecond)
		if err != nil {
			if !strings.Contains(err.Error(), "broken") {
				t.Errorf("Down = %v, want it to name the broken service", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Down never reported the service the supervisor stopped restarting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
