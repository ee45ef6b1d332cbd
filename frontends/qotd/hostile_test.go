package qotd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// serveTCPService is serveTCP that also returns the service, to look at
// the connections it holds.
func serveTCPService(t *testing.T, s *Server) (*TCPService, string) {
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

// A client that types before it reads (telnet, with a line typed fast)
// must get the whole quote and a clean end of stream, never a reset: the
// server ends its half of the stream right after the quote and drops the
// input until the client closes. Run with -race -count N: the input lands
// at a different moment of the server's reply each time.
func TestQOTD_ClientThatTypesFirstGetsWholeQuoteAndCleanClose(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	svc, addr := serveTCPService(t, s)
	want := wantToday(t, lib)
	const clients, workers = 400, 8
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < clients; i += workers {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					errs <- err
					continue
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				// Spread the moment the input lands over the server's reply.
				time.Sleep(time.Duration(i%5) * 50 * time.Microsecond)
				io.WriteString(c, "hello?\r\n")
				got, err := io.ReadAll(c)
				c.Close()
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("client %d: got %q, err %v; want the quote and EOF", i, got, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d clients that typed first did not get the quote and a clean close", n, clients)
	}
	waitIdle(t, svc, 5*time.Second, "after every client closed")
}

func TestQOTD_ClientThatNeverReadsNorClosesIsFreed(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	svc, addr := serveTCPService(t, s)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 50 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 { // typed something, then went silent: the server lingers, boundedly
			io.WriteString(c, "anyone there?\r\n")
		}
		conns = append(conns, c)
	}
	waitIdle(t, svc, oneshot.LingerTimeout+5*time.Second, "50 clients that never read nor close")
	if got := fetch(t, addr, ""); len(got) == 0 {
		t.Error("no reply to a new client afterwards")
	}
}

// Clients that type something and then hold their connections open are
// lingered over (see oneshot.WriteReply) only while at most half of MaxConns is in
// use: however many of them come, the other half stays free, and new
// clients are answered rather than closed unanswered for two seconds.
func TestQOTD_ClientsThatTypeAndHoldNeverTakeEverySlot(t *testing.T) {
	const maxConns = 8
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{MaxConns: maxConns})
	svc, addr := serveTCPService(t, s)
	want := wantToday(t, lib)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 4 * maxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "anyone there?\r\n")
		conns = append(conns, c)
	}
	time.Sleep(50 * time.Millisecond) // let the server take them all in
	if n := svc.acc.Active.Load(); n > maxConns/2 {
		t.Errorf("%d connections held for lingering, want at most %d (half of MaxConns %d)", n, maxConns/2, maxConns)
	}
	for i := range 20 {
		if got := fetch(t, addr, ""); !bytes.Equal(got, want) {
			t.Fatalf("new client %d, with %d clients holding after typing: reply %q, want %q", i, len(conns), got, want)
		}
	}
}

func TestQOTD_ClientSendingMegabytesIsCutAndOthersServed(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	svc, addr := serveTCPService(t, s)
	want := wantToday(t, lib)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	junk := bytes.Repeat([]byte("GET / HTTP/1.1\r\nX: y\r\n"), 1<<14) // 352 KiB a write
	written := 0
	for written < 16<<20 {
		n, err := c.Write(junk)
		written += n
		if err != nil {
			break // the server closed: broken pipe or reset
		}
	}
	got, _ := io.ReadAll(c) // a reset may end it: the bytes are what counts
	if !bytes.HasPrefix(want, got) {
		t.Errorf("the flooding client read %q, want a prefix of the quote %q", got, want)
	}
	t.Logf("the client wrote %d bytes before the server let go", written)
	waitIdle(t, svc, oneshot.LingerTimeout+5*time.Second, "after a client sent megabytes")
	if got := fetch(t, addr, ""); !bytes.Equal(got, want) {
		t.Errorf("next client: reply %q, want %q", got, want)
	}
}

func TestQOTD_ClientsThatConnectAndResetAreCountedAndServingGoesOn(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	svc, addr := serveTCPService(t, s)
	for range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetLinger(0) // close sends RST
		c.Close()
	}
	waitIdle(t, svc, 5*time.Second, "after 200 resets")
	if got, want := fetch(t, addr, ""), wantToday(t, lib); !bytes.Equal(got, want) {
		t.Errorf("after 200 resets: reply %q, want %q", got, want)
	}
}

// raiseNoFile raises the process's open file limit to its hard limit and
// fails the test if that is below n.
func raiseNoFile(t testing.TB, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < n {
		t.Fatalf("RLIMIT_NOFILE hard limit %d, want at least %d (ulimit -Hn)", lim.Max, n)
	}
	if lim.Cur < lim.Max {
		old := lim
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	}
}

// slowClientsEnv, when set to "ADDR COUNT", turns the test binary into the
// holder of the slow clients of TestQOTD_10000SlowClientsDoNotStopOthersBeingServed,
// so that their descriptors do not count against this process's limit.
const slowClientsEnv = "QOTD_TEST_SLOW_CLIENTS"

// TestMain runs the slow clients' holder when asked to, else the tests.
func TestMain(m *testing.M) {
	if v := os.Getenv(slowClientsEnv); v != "" {
		os.Exit(holdSlowClients(v))
	}
	os.Exit(m.Run())
}

// holdSlowClients connects COUNT clients to ADDR; each sends a byte and
// then neither reads nor closes. It prints "ready" and holds them until its
// stdin closes.
func holdSlowClients(spec string) int {
	var addr string
	var count int
	if _, err := fmt.Sscan(spec, &addr, &count); err != nil {
		fmt.Println("bad spec:", err)
		return 2
	}
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	conns := make([]net.Conn, 0, count)
	for i := range count {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			fmt.Printf("slow client %d: %v\n", i, err)
			return 1
		}
		c.Write([]byte("x"))
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	runtime.KeepAlive(conns) // else the collector may close them early
	return 0
}

// 10,000 clients that typed something and then hold their connections
// (each keeps the server lingering a while) must not stop new clients from
// being served. No speed is asserted: each new client must be served within
// the generous deadline of fetch.
func TestQOTD_10000SlowClientsDoNotStopOthersBeingServed(t *testing.T) {
	const slow = 10000
	raiseNoFile(t, slow+1024) // the server's ends of the slow connections
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	_, addr := serveTCPService(t, s)
	want := wantToday(t, lib)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), slowClientsEnv+"="+addr+" "+strconv.Itoa(slow))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		b, _ := bufio.NewReader(out).ReadString('\n')
		ready <- b
	}()
	// Served while the slow clients pile up...
	for served := 0; ; served++ {
		select {
		case line := <-ready:
			if line != "ready\n" {
				t.Fatalf("the slow clients' process: %q", line)
			}
			if served == 0 {
				t.Log("the slow clients connected before any other client was served")
			}
			// ...and once all of them are connected.
			for i := range 20 {
				if got := fetch(t, addr, ""); !bytes.Equal(got, want) {
					t.Fatalf("client %d, with %d slow clients connected: reply %q, want %q", i, slow, got, want)
				}
			}
			return
		case <-time.After(10 * time.Millisecond):
			if got := fetch(t, addr, ""); !bytes.Equal(got, want) {
				t.Fatalf("while slow clients connect: reply %q, want %q", got, want)
			}
		}
	}
}

func TestQOTD_UDPFloodFromOneSourceIsCappedAndOthersServed(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{UDPRate: 5, UDPGlobalRate: 10000})
	srv := serveUDP(t, s, "127.0.0.1:0")
	c := udpClient(t, "127.0.0.1:0")
	c.(*net.UDPConn).SetReadBuffer(1 << 20)
	const flood = 5000
	start := time.Now()
	for range flood {
		if _, err := c.WriteTo([]byte("x"), srv); err != nil {
			t.Fatal(err)
		}
	}
	replies := 0
	for udpRead(t, c, 300*time.Millisecond) != nil {
		replies++
	}
	elapsed := time.Since(start).Seconds()
	// A burst of 5, then 5 a second.
	if max := 5 + int(5*elapsed) + 1; replies == 0 || replies > max {
		t.Errorf("%d datagrams from one source in %.1fs: %d replies, want 1 to %d", flood, elapsed, replies, max)
	}
	// The kernel may drop part of the flood before the server reads it;
	// what the server read beyond the bucket it dropped and counted.
	dropped := counter(t, s.metrics.rejected, "udp", reasonRate)
	if int(dropped)+replies > flood || dropped == 0 {
		t.Errorf("rate drops counted = %v with %d replies, want the rest of %d, at least one", dropped, replies, flood)
	}
	if got := udpAsk(t, udpClient(t, "127.0.0.3:0"), srv, time.Second); got == nil {
		t.Error("another source got no reply during the flood's aftermath")
	}
}

// Many sources (127.0.0.0/8 is loopback on Linux): each gets its own
// bucket, and the global cap bounds the sum.
func TestQOTD_UDPFloodFromManySourcesIsCappedGlobally(t *testing.T) {
	const sources, each = 200, 10
	s, _ := newTestServer(t, nil, Config{UDPRate: 1, UDPGlobalRate: 50})
	srv := serveUDP(t, s, "127.0.0.1:0")
	conns := make([]net.PacketConn, sources)
	for i := range conns {
		conns[i] = udpClient(t, fmt.Sprintf("127.0.%d.%d:0", 1+i/250, 1+i%250))
	}
	start := time.Now()
	for range each {
		for _, c := range conns {
			if _, err := c.WriteTo([]byte("x"), srv); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond) // a flood, but not one the kernel's own buffer drops
	}
	time.Sleep(200 * time.Millisecond) // the replies arrive
	// A burst of 1, plus a token a second while the server takes the flood
	// in: one more on an idle machine, more only if a loaded one stretches it.
	perSource := 2 + int(time.Since(start).Seconds())
	total := 0
	for _, c := range conns {
		n := 0
		for udpRead(t, c, 5*time.Millisecond) != nil {
			n++
		}
		if n > perSource {
			t.Errorf("source %s: %d replies to %d datagrams, want at most %d", c.LocalAddr(), n, each, perSource)
		}
		total += n
	}
	elapsed := time.Since(start).Seconds()
	if max := 50 + int(50*elapsed) + 1; total == 0 || total > max {
		t.Errorf("%d sources x %d datagrams in %.1fs: %d replies, want 1 to %d (global cap 50/s)", sources, each, elapsed, total, max)
	}
	// The kernel may drop some of the flood before the server reads it.
	if n := counter(t, s.metrics.rejected, "udp", reasonGlobalRate) + counter(t, s.metrics.rejected, "udp", reasonRate); n < float64(sources*each/2) || int(n)+total > sources*each {
		t.Errorf("drops counted %v + replies %d, want most of the %d datagrams counted as dropped", n, total, sources*each)
	}
}

// Every loop port that can be bound here gets no reply (ports 7, 9, 13,
// 17, 19 and 37: echo, discard, daytime, qotd, chargen, time).
func TestQOTD_UDPDropsDatagramsFromEveryLoopPort(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{UDPRate: 100, UDPGlobalRate: 1000})
	srv := serveUDP(t, s, "127.0.0.1:0")
	bound := 0
	var errs []error
	for _, p := range loopPorts[1:] {
		// 127.0.0.9: a source address no other test binds low ports on.
		pc, err := net.ListenPacket("udp", "127.0.0.9:"+strconv.Itoa(int(p)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		bound++
		if got := udpAsk(t, pc, srv, 200*time.Millisecond); got != nil {
			t.Errorf("from loop port %d: got a reply %q, want none", p, got)
		}
		pc.Close()
	}
	if bound == 0 {
		if errors.Is(errs[0], syscall.EACCES) {
			t.Fatalf("cannot bind a port below 1024: run the tests as root or with CAP_NET_BIND_SERVICE: %v", errs)
		}
		t.Fatalf("no loop port could be bound: %v", errs)
	}
	if n := counter(t, s.metrics.rejected, "udp", reasonLoopPort); int(n) != bound {
		t.Errorf("loop-port drops counted = %v, want %d", n, bound)
	}
}
