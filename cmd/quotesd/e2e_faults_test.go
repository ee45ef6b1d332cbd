package main

// Faults while loaded, through the real binary: SIGHUP drops no
// connection; SIGTERM lets every request in flight finish.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// loadResult counts what a load generator saw.
type loadResult struct {
	ok       atomic.Int64
	refused  atomic.Int64 // connection refused: only once the server stopped accepting
	mu       sync.Mutex
	failures []string
}

func (r *loadResult) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) < 20 {
		r.failures = append(r.failures, fmt.Sprintf(format, args...))
	}
}

func (r *loadResult) report(t *testing.T, what string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.failures {
		t.Errorf("%s: %s", what, f)
	}
	t.Logf("%s: %d complete, %d refused", what, r.ok.Load(), r.refused.Load())
}

// qotdLoad connects to addr again and again until ctx ends; each client
// must get want and a clean end of stream. Half of them type first.
func qotdLoad(ctx context.Context, addr, want string, r *loadResult) {
	for i := 0; ctx.Err() == nil; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			// Refused, or reset before any response: a keep-alive
			// connection the server closed as idle at shutdown just as
			// the next request reached it, which the server never read
			// (a request in flight that is cut shows in the body's read).
			if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
				r.refused.Add(1)
			} else {
				r.fail("dial: %v", err)
			}
			continue
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if i%2 == 1 {
			io.WriteString(c, "hi\r\n")
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != want {
			r.fail("QOTD reply %q, err %v; want %q", got, err, want)
			continue
		}
		r.ok.Add(1)
	}
}

// httpLoad GETs url again and again until ctx ends, over keep-alive
// connections; each answer must be a 200 whose body passes check.
func httpLoad(ctx context.Context, client *http.Client, url string, check func(string) error, r *loadResult) {
	for ctx.Err() == nil {
		resp, err := client.Get(url)
		if err != nil {
			// Refused, or reset before any response: a keep-alive
			// connection the server closed as idle at shutdown just as
			// the next request reached it, which the server never read
			// (a request in flight that is cut shows in the body's read).
			if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
				r.refused.Add(1)
				time.Sleep(time.Millisecond)
			} else {
				r.fail("GET %s: %v", url, err)
			}
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			r.fail("GET %s: %d, %d bytes, err %v", url, resp.StatusCode, len(body), err)
			continue
		}
		if err := check(string(body)); err != nil {
			r.fail("GET %s: %v", url, err)
			continue
		}
		r.ok.Add(1)
	}
}

func TestFaults_SIGHUPUnderLoadDropsNoConnection(t *testing.T) {
	dir := t.TempDir()
	db := writeLibrary(t, filepath.Join(dir, "quotes.db"), shortQuotes...)
	s := startServe(t, db, []string{"qotd", "web"}, append([]string{
		"--qotd-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0", "--web-rate", "0",
		"--web-access-log=false", "--log-level", "info", "--state-dir", t.TempDir()}, offExcept("qotd", "web")...)...)
	want := todaysReply(t, db, "")
	base := "http://" + s.Addr("web")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var qr, hr loadResult
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for range 3 {
		wg.Add(2)
		go func() { defer wg.Done(); qotdLoad(ctx, s.Addr("qotd"), want, &qr) }()
		go func() {
			defer wg.Done()
			httpLoad(ctx, client, base+"/api/v1/today", func(b string) error {
				if !strings.Contains(b, `"text"`) {
					return fmt.Errorf("body %q is not a quote", b)
				}
				return nil
			}, &hr)
		}()
	}
	// Reload again and again under load; once with the library file
	// replaced by a copy, as an operator shipping a new library does.
	for i := range 5 {
		time.Sleep(150 * time.Millisecond)
		if i == 2 {
			b, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db+".new", b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(db+".new", db); err != nil {
				t.Fatal(err)
			}
		}
		s.Signal(syscall.SIGHUP)
		s.WaitLog(10*time.Second, "reloaded", nil)
	}
	time.Sleep(150 * time.Millisecond)
	cancel()
	wg.Wait()
	qr.report(t, "QOTD clients across 5 reloads")
	hr.report(t, "HTTP clients across 5 reloads")
	if qr.refused.Load()+hr.refused.Load() != 0 {
		t.Errorf("connections refused during reloads: %d QOTD, %d HTTP; want none", qr.refused.Load(), hr.refused.Load())
	}
	if qr.ok.Load() == 0 || hr.ok.Load() == 0 {
		t.Errorf("no load got through: %d QOTD, %d HTTP", qr.ok.Load(), hr.ok.Load())
	}
	if err := s.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}

// SIGTERM under load: every request in flight completes (a slow client
// reading a big response, and many concurrent clients), new connections
// are refused, and the process exits 0.
func TestFaults_GracefulShutdownUnderLoadCompletesRequestsInFlight(t *testing.T) {
	dir := t.TempDir()
	// Long quotes, so a page of 100 is a response of some 400 KB.
	qs := quotertest.Sample()
	for i := range 300 {
		qs = append(qs, quoter.Quote{Text: fmt.Sprintf("Long quote %d. %s", i, strings.Repeat("All work and no play makes a long response. ", 90)), Author: "Load", Lang: "en"})
	}
	db := writeLibrary(t, filepath.Join(dir, "quotes.db"), qs...)
	s := startServe(t, db, []string{"web"}, append([]string{
		"--web-addr", "127.0.0.1:0", "--web-rate", "0", "--web-access-log=false", "--log-level", "info",
		"--shutdown-timeout", "30s", "--state-dir", t.TempDir()}, offExcept("web")...)...)
	addr := s.Addr("web")
	base := "http://" + addr

	// The slow reader: a small receive buffer, 2 KiB every 5 ms.
	slow, err := (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}).Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET /api/v1/quotes?limit=100&sort=length&order=desc HTTP/1.1\r\nHost: quotes.test\r\nConnection: close\r\n\r\n")
	slowDone := make(chan string, 1)
	started := make(chan struct{})
	go func() {
		slow.SetReadDeadline(time.Now().Add(60 * time.Second))
		var b strings.Builder
		buf := make([]byte, 2048)
		for first := true; ; first = false {
			n, err := slow.Read(buf)
			b.Write(buf[:n])
			if first {
				close(started)
			}
			if err != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		slowDone <- b.String()
	}()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var hr loadResult
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for i := range 16 {
		wg.Add(1)
		url := base + "/api/v1/random?limit=50"
		if i%2 == 0 {
			url = base + "/api/v1/quotes?limit=100&page=2"
		}
		go func() {
			defer wg.Done()
			httpLoad(ctx, client, url, func(b string) error {
				if !json.Valid([]byte(b)) {
					return fmt.Errorf("body of %d bytes is not whole JSON: ...%q", len(b), b[max(0, len(b)-40):])
				}
				return nil
			}, &hr)
		}()
	}
	time.Sleep(300 * time.Millisecond)
	s.Signal(syscall.SIGTERM)
	s.WaitLog(10*time.Second, "shutting down: no new connections; finishing those in flight", nil)
	// New connections are refused from now on.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts 10s after SIGTERM")
		}
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	hr.report(t, "concurrent HTTP clients across SIGTERM")
	if hr.ok.Load() == 0 {
		t.Error("no request completed")
	}

	var body string
	select {
	case body = <-slowDone:
	case <-time.After(60 * time.Second):
		t.Fatal("the slow reader did not finish within 60s")
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(body)), nil)
	if err != nil {
		t.Fatalf("slow reader: %v in %d bytes", err, len(body))
	}
	payload, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(payload) || len(payload) < 100<<10 {
		t.Errorf("slow reader got %d, %d bytes of body (err %v), want the whole 200 response", resp.StatusCode, len(payload), err)
	}
	if err := s.Wait(40 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}
