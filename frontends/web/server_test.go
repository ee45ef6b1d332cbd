package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/reactor"
)

// slowToday is a library whose Today waits for a signal, to hold a request
// in flight.
type slowToday struct {
	quoter.Library
	entered chan struct{}
	release chan struct{}
}

func (s *slowToday) Today(ctx context.Context, d quoter.Date, f quoter.Filter) (*quoter.Quote, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Library.Today(ctx, d, f)
}

// serveOnLoopback starts h on 127.0.0.1:0 and returns its base URL and a
// function that stops it and returns Serve's result.
func serveOnLoopback(t *testing.T, h *web.Handler) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(ln, h, nil, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return "http://" + srv.Addr().String(), stop
}

func TestServer_ServesCurlOnARealListener(t *testing.T) {
	e := newEnv(t)
	base, stop := serveOnLoopback(t, e.handler)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != e.todays(today).Render()+"\n" {
		t.Errorf("GET / = %d %q, want today's quote as text", resp.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Errorf("Serve returned %v, want nil after its context ended", err)
	}
}

// Every quote resource is sent with its length, never chunked, whether
// the server sets Content-Length itself (HEAD, long bodies) or net/http
// measures the body.
func TestServer_SendsContentLengthNotChunks(t *testing.T) {
	e := newEnv(t)
	var longest string // the sample's longest quote, near 4 KiB: over net/http's buffer
	for _, q := range quotertest.Sample() {
		if len(q.Text) > len(longest) {
			longest = q.Text
		}
	}
	long := e.quoteWithText(longest)
	base, _ := serveOnLoopback(t, e.handler)
	for _, c := range []struct{ method, target, accept string }{
		{"GET", "/api/v1/today", ""},
		{"HEAD", "/api/v1/today", ""},
		{"GET", "/", "*/*"},
		{"GET", "/", browserAccept},
		{"HEAD", "/", browserAccept},
		{"GET", fmt.Sprintf("/quotes/%d", long.ID), "application/json"},
		{"GET", fmt.Sprintf("/quotes/%d", long.ID), browserAccept},
	} {
		req, _ := http.NewRequest(c.method, base+c.target, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		// Offering no coding: Go's client would offer gzip and hide the
		// length of what it decompresses (TestCompress_* test those).
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cl := resp.Header.Get("Content-Length")
		if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) > 0 || cl == "" {
			t.Errorf("%s %s (Accept %q) = %d, Transfer-Encoding %q, Content-Length %q; want 200 with a length",
				c.method, c.target, c.accept, resp.StatusCode, resp.TransferEncoding, cl)
			continue
		}
		if c.method == "GET" && cl != strconv.Itoa(len(body)) {
			t.Errorf("%s %s: Content-Length %s, body %d bytes", c.method, c.target, cl, len(body))
		}
	}
}

func TestServer_DrainsRequestsInFlight(t *testing.T) {
	slow := &slowToday{Library: quotertest.NewLibrary(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnvWith(t, slow)
	base, stop := serveOnLoopback(t, e.handler)

	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/api/v1/today")
		if err != nil {
			got <- result{err: err}
			return
		}
		resp.Body.Close()
		got <- result{status: resp.StatusCode}
	}()
	<-slow.entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(slow.release)
	if r := <-got; r.err != nil || r.status != http.StatusOK {
		t.Errorf("request in flight during shutdown: %d, %v; want 200", r.status, r.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

func TestServer_RejectsHugeHeaders(t *testing.T) {
	e := newEnv(t)
	base, _ := serveOnLoopback(t, e.handler)
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("X-Huge", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB header: %d, want 431", resp.StatusCode)
	}
}

func TestServer_ClientIPIsTheTCPPeer(t *testing.T) {
	e := newEnv(t)
	base, _ := serveOnLoopback(t, e.handler)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/today", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.66")
	req.Header.Set("X-Real-IP", "203.0.113.67")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	logs := e.logs.String()
	if !strings.Contains(logs, `"client_ip":"127.0.0.1"`) || strings.Contains(logs, "203.0.113.6") {
		t.Errorf("access log does not carry the TCP peer as client:\n%s", logs)
	}
}

// A listener closed under the server can never accept again: Serve lets
// the request in flight finish, then returns a permanent error naming the
// listener, so that the process stops rather than restart the frontend on
// a dead socket.
func TestServer_DeadListenerDrainsThenFailsPermanently(t *testing.T) {
	slow := &slowToday{Library: quotertest.NewLibrary(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnvWith(t, slow)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(ln, e.handler, nil, 5*time.Second)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/api/v1/today")
		if err != nil {
			t.Errorf("request in flight when the listener died: %v", err)
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-slow.entered
	ln.Close()
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(slow.release)
	if status := <-got; status != http.StatusOK {
		t.Errorf("request in flight when the listener died: %d, want 200", status)
	}
	select {
	case err := <-done:
		if !reactor.IsPermanent(err) || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("Serve = %v, want a permanent error naming %s", err, ln.Addr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5s after its listener died and the request in flight ended")
	}
}

// noBuffers fails its first Accept calls with ENOBUFS, as accept(2) does
// under memory pressure: net/http would return such an error (it retries
// only those that say they are temporary), but the listener works again.
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

func TestServer_AcceptErrorsThatLeaveTheListenerAliveAreRetried(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(&noBuffers{Listener: ln, failures: 3}, e.handler, nil, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/api/v1/today")
	if err != nil {
		t.Fatalf("GET /api/v1/today after the accept errors: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/today after the accept errors: %d, want 200", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil after its context ended", err)
	}
}
