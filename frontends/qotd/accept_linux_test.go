//go:build linux

package qotd

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
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
	tcp.active.Add(1) // admitted
	if !tcp.finish(context.Background(), fd, addrPortOf(nil), func(conn net.Conn) error {
		return writeReply(conn, []byte("the rest of the quote\r\n"), time.Second, tcp.mayLinger)
	}) {
		t.Fatal("finish did not take the connection")
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("reading the reply: %v (after %q)", err, got)
	}
	if string(got) != "the rest of the quote\r\n" {
		t.Errorf("client got %q, want the rest of the reply and the end of the stream", got)
	}
	tcp.wg.Wait()
	if n := tcp.active.Load(); n != 0 {
		t.Errorf("%d connections still counted active after the goroutine finished, want 0", n)
	}
	if n := counter(t, s.metrics.served, "tcp"); n != 1 {
		t.Errorf("served counted %v, want 1", n)
	}
}
