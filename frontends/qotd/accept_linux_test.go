//go:build linux

package qotd

import (
	"bytes"
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
)

// acceptedFD returns the raw socket of a connection accepted from a new
// client, and the client's end.
func acceptedFD(t *testing.T) (int, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	rc, err := server.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	rc.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) })
	if err != nil {
		t.Fatal(err)
	}
	return fd, client
}

func TestQOTD_ConnectionThatMustWaitIsFinishedByItsOwnGoroutine(t *testing.T) {
	s, _ := newTestServer(t, nil, Config{})
	tcp := s.TCP(nil)
	fd, client := acceptedFD(t)
	// A reply far past what the socket takes at once, the client not
	// reading yet: the accept loop must hand the rest to a goroutine.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	reply := bytes.Repeat([]byte("the rest of the quote\r\n"), 1<<15)
	tcp.acc.Active.Add(1) // admitted
	tcp.answerFD(context.Background(), fd, oneshot.AddrPortOf(nil), reply)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("reading the reply: %v (after %d bytes)", err, len(got))
	}
	if !bytes.Equal(got, reply) {
		t.Errorf("client got %d bytes, want the %d of the reply and the end of the stream", len(got), len(reply))
	}
	tcp.acc.Wait()
	if n := tcp.acc.Active.Load(); n != 0 {
		t.Errorf("%d connections still counted active after the goroutine finished, want 0", n)
	}
	if n := counter(t, s.metrics.served, "tcp"); n != 1 {
		t.Errorf("served counted %v, want 1", n)
	}
}

// stopListening takes ln's socket out of the listening state, as an
// outside hand can: shutdown(2) on a listening socket does that on Linux,
// and accept(2) on it then fails with EINVAL, at once and forever.
func stopListening(t *testing.T, ln net.Listener) {
	t.Helper()
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_RD) })
	if serr != nil {
		t.Fatalf("shutdown(2) on the listener: %v", serr)
	}
}

// Whether the socket stops listening while Serve waits in the netpoller or
// before Serve's own accept4(2) finds it so, Serve fails for good.
func TestQOTD_ListenerThatStopsListeningIsAPermanentFailure(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before bool
	}{{"while serving", false}, {"before serving", true}} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, nil, Config{})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if tt.before {
				stopListening(t, ln)
			}
			done := make(chan error, 1)
			go func() { done <- s.TCP(ln).Serve(context.Background()) }()
			if !tt.before {
				if got := fetch(t, ln.Addr().String(), ""); len(got) == 0 {
					t.Fatal("no reply before the listener stopped listening")
				}
				stopListening(t, ln)
			}
			wantPermanentSoon(t, done, ln.Addr())
		})
	}
}
