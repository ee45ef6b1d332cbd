package qotd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter/quotertest"
)

// serveUDP runs s's UDP service on addr until the test ends.
func serveUDP(t *testing.T, s *Server, addr string) net.Addr {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.UDP(pc).Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	})
	return pc.LocalAddr()
}

func udpClient(t *testing.T, addr string) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// udpAsk sends one datagram from c to srv and returns the reply, or nil if
// none came within wait.
func udpAsk(t *testing.T, c net.PacketConn, srv net.Addr, wait time.Duration) []byte {
	t.Helper()
	if _, err := c.WriteTo([]byte("\r\n"), srv); err != nil {
		t.Fatal(err)
	}
	return udpRead(t, c, wait)
}

func udpRead(t *testing.T, c net.PacketConn, wait time.Duration) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(wait))
	n, _, err := c.ReadFrom(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func TestQOTD_UDPRepliesWithOneDatagram(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	s, _ := newTestServer(t, lib, Config{})
	srv := serveUDP(t, s, "127.0.0.1:0")
	c := udpClient(t, "127.0.0.1:0")
	got := udpAsk(t, c, srv, time.Second)
	if want := wantToday(t, lib); !bytes.Equal(got, want) {
		t.Errorf("reply = %q, want %q", got, want)
	}
	if len(got) > MaxReply {
		t.Errorf("datagram of %d bytes, want at most %d", len(got), MaxReply)
	}
	if extra := udpRead(t, c, 100*time.Millisecond); extra != nil {
		t.Errorf("a second datagram came: %q", extra)
	}
}

func TestQOTD_UDPRateCapDropsExcessSilently(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{UDPRate: 0.1, UDPGlobalRate: 1000})
	srv := serveUDP(t, s, "127.0.0.1:0")
	c := udpClient(t, "127.0.0.1:0")
	for i := 0; i < 5; i++ {
		if _, err := c.WriteTo([]byte("x"), srv); err != nil {
			t.Fatal(err)
		}
	}
	replies := 0
	for udpRead(t, c, 300*time.Millisecond) != nil {
		replies++
	}
	if replies != 1 {
		t.Errorf("5 requests at 1 per 10s: %d replies, want 1", replies)
	}
	if n := counter(t, s.metrics.rejected, "udp", reasonRate); n != 4 {
		t.Errorf("rate drops counted = %v, want 4", n)
	}
	// Another source address has its own bucket.
	if got := udpAsk(t, udpClient(t, "127.0.0.2:0"), srv, time.Second); got == nil {
		t.Error("a second source address got no reply")
	}
}

func TestQOTD_UDPGlobalCapDropsAcrossSources(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{UDPRate: 100, UDPGlobalRate: 0.1})
	srv := serveUDP(t, s, "127.0.0.1:0")
	replies := 0
	for i := 0; i < 3; i++ {
		if udpAsk(t, udpClient(t, "127.0.0.1:0"), srv, 300*time.Millisecond) != nil {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("3 sources at a global 1 per 10s: %d replies, want 1", replies)
	}
	if n := counter(t, s.metrics.rejected, "udp", reasonGlobalRate); n != 2 {
		t.Errorf("global drops counted = %v, want 2", n)
	}
}

func TestQOTD_UDPDropsDatagramsFromLoopPorts(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	srv := serveUDP(t, s, "127.0.0.1:0")
	// Bind a port of one of the small services; that needs root (or
	// CAP_NET_BIND_SERVICE), which the test suite runs with.
	var c net.PacketConn
	var errs []error
	for _, p := range loopPorts[1:] {
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(int(p)))
		if err == nil {
			c = pc
			break
		}
		errs = append(errs, err)
	}
	if c == nil {
		if errors.Is(errs[0], syscall.EACCES) {
			t.Fatalf("cannot bind a port below 1024 (uid %d): run the tests as root or with CAP_NET_BIND_SERVICE: %v", os.Getuid(), errs)
		}
		t.Fatalf("every loop port is in use on 127.0.0.1: %v", errs)
	}
	defer c.Close()
	if got := udpAsk(t, c, srv, 300*time.Millisecond); got != nil {
		t.Errorf("from %s: got a reply %q, want none", c.LocalAddr(), got)
	}
	if n := counter(t, s.metrics.rejected, "udp", reasonLoopPort); n != 1 {
		t.Errorf("loop-port drops counted = %v, want 1", n)
	}
	// The same server answers an ordinary port.
	if got := udpAsk(t, udpClient(t, "127.0.0.1:0"), srv, time.Second); got == nil {
		t.Error("no reply to an ordinary source port")
	}
}

// A reload (SetConfig, with the same or another rate) keeps what each
// source has spent: it must not forgive a flood that was being limited.
func TestQOTD_UDPReloadKeepsEachClientsSpentRate(t *testing.T) {
	cfg := Config{UDPRate: 0.1, UDPGlobalRate: 1000}
	s, _ := newTestServer(t, nil, cfg)
	srv := serveUDP(t, s, "127.0.0.1:0")
	c := udpClient(t, "127.0.0.1:0")
	if udpAsk(t, c, srv, time.Second) == nil {
		t.Fatal("first request: no reply")
	}
	for _, rate := range []float64{0.1, 0.05, 0.2} {
		cfg.UDPRate = rate
		s.SetConfig(cfg)
		if got := udpAsk(t, c, srv, 300*time.Millisecond); got != nil {
			t.Errorf("after a reload at %v a second: got a reply, want none (the source spent its budget)", rate)
		}
	}
	if got := udpAsk(t, udpClient(t, "127.0.0.2:0"), srv, time.Second); got == nil {
		t.Error("another source got no reply")
	}
}

func TestQOTD_UDPSocketClosedUnderServeIsAPermanentFailure(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.UDP(pc).Serve(context.Background()) }()
	if got := udpAsk(t, udpClient(t, "127.0.0.1:0"), pc.LocalAddr(), 5*time.Second); len(got) == 0 {
		t.Fatal("no reply before the socket was closed")
	}
	pc.Close()
	wantPermanentSoon(t, done, pc.LocalAddr())
}
