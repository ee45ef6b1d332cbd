package finger

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// A query sent in pieces, after a pause (the acceptor finds nothing to
// read and hands the connection to a goroutine), is answered as one.
func TestFinger_QuerySentLateAndInPiecesIsAnswered(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	_, addr := serve(t, s)
	want := today(t, lib, quoter.Filter{})
	for _, pieces := range [][]string{{"\r\n"}, {"\r", "\n"}, {"ra", "nd", "om\r\n"}} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		for _, p := range pieces {
			time.Sleep(30 * time.Millisecond)
			io.WriteString(c, p)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("pieces %q: %v", pieces, err)
		}
		if pieces[0] == "ra" {
			if len(got) == 0 || bytes.Contains(got, []byte("finger:")) {
				t.Errorf("pieces %q: reply %q, want a random quote", pieces, got)
			}
		} else if string(got) != want {
			t.Errorf("pieces %q: reply %q, want today's quote %q", pieces, got, want)
		}
	}
}

// A client that never ends its line is cut at the read deadline, with a
// line saying so, and holds no slot afterwards; others are served
// meanwhile.
func TestFinger_SlowClientWithoutNewlineIsCutAtTheReadDeadline(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	const timeout = 300 * time.Millisecond
	s, _ := newTestServer(t, lib, Config{ReadTimeout: timeout})
	svc, addr := serve(t, s)
	for _, typed := range []string{"", "rand"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		// One byte now and then, never a line end: slowloris.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.WriteString(c, typed)
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					if _, err := io.WriteString(c, "x"); err != nil {
						return
					}
				}
			}
		}()
		if got := finger(t, addr, "\r\n"); got != today(t, lib, quoter.Filter{}) {
			t.Errorf("another client, meanwhile: %q, want today's quote", got)
		}
		got, _ := io.ReadAll(c)
		took := time.Since(start)
		close(stop)
		wg.Wait()
		if !strings.Contains(string(got), "no query line") || strings.Count(string(got), "\r\n") != 1 {
			t.Errorf("typed %q then a byte every 50ms: got %q, want one line saying the time is up", typed, got)
		}
		if took < timeout || took > timeout+2*time.Second {
			t.Errorf("cut after %v, want at the %v read deadline", took, timeout)
		}
	}
	waitIdle(t, svc, oneshot.LingerTimeout+5*time.Second, "after two slow clients")
	if n := counter(t, s.metrics.refused, reasonTimeout); n != 2 {
		t.Errorf("timeouts counted = %v, want 2", n)
	}
}

// A line of 1 MiB is refused after its first 258 bytes; the server reads
// no more than it must, frees the connection, and serves the next client.
func TestFinger_OneMiBLineIsRefusedAndOthersServed(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	svc, addr := serve(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	line := append(bytes.Repeat([]byte("x"), 1<<20), '\r', '\n')
	written := make(chan int, 1)
	go func() {
		n, _ := c.Write(line) // stops at the server's close: broken pipe or reset
		written <- n
	}()
	got, _ := io.ReadAll(c) // a reset may end it: the bytes are what counts
	want := "finger: query refused: longer than 256 bytes\r\n"
	if !strings.HasPrefix(want, string(got)) {
		t.Errorf("the client read %q, want (a prefix of) %q", got, want)
	}
	t.Logf("the client wrote %d bytes before the server let go, and read %q", <-written, got)
	waitIdle(t, svc, oneshot.LingerTimeout+5*time.Second, "after a 1 MiB line")
	if got := finger(t, addr, "\r\n"); got != today(t, lib, quoter.Filter{}) {
		t.Errorf("next client: reply %q, want today's quote", got)
	}
	if n := counter(t, s.metrics.refused, reasonTooLong); n != 1 {
		t.Errorf("too-long refusals counted = %v, want 1", n)
	}
}

// A client that sends more after its line (a second line, a paste) gets
// its whole reply and a clean end of stream: the server lingers over the
// rest rather than closing on unread input, which would be a reset.
func TestFinger_InputAfterTheLineGetsWholeReplyAndCleanClose(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	svc, addr := serve(t, s)
	want := today(t, lib, quoter.Filter{})
	for i := range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "\r\nsecond line\r\n"+strings.Repeat("pasted ", 1000))
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != want {
			t.Fatalf("client %d: reply %q, %v; want today's quote and a clean end of stream", i, got, err)
		}
	}
	waitIdle(t, svc, oneshot.LingerTimeout+5*time.Second, "after clients that sent more")
}

// Many clients that connect and send nothing hold their slots for the
// read timeout at most, and never stop others being served.
func TestFinger_SilentClientsDoNotStopOthersBeingServed(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{ReadTimeout: time.Second, MaxConns: 256})
	svc, addr := serve(t, s)
	var conns []net.Conn
	for range 100 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	want := today(t, lib, quoter.Filter{})
	for i := range 20 {
		if got := finger(t, addr, "\r\n"); got != want {
			t.Fatalf("client %d beside 100 silent ones: %q, want today's quote", i, got)
		}
	}
	waitIdle(t, svc, 5*time.Second, "100 silent clients past the read timeout")
}
