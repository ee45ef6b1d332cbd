package reactor

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// killListener makes ln's socket stop listening, as an outside hand
// would: shutdown(2) on a listening socket takes it out of the listening
// state, and an Accept blocked on it returns EINVAL.
func killListener(t *testing.T, ln net.Listener) {
	t.Helper()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_RD) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatalf("shutdown(2) on the listener: %v", serr)
	}
}

func TestListenerFailed_SocketNoLongerListeningIsPermanent(t *testing.T) {
	ln := listenLoopback(t)
	killListener(t, ln)
	_, aerr := ln.Accept()
	err := ListenerFailed(ln.Addr(), aerr)
	if !IsPermanent(err) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("ListenerFailed(%v) = %v, want permanent, wrapping EINVAL", aerr, err)
	}
	if want := "listener " + ln.Addr().String() + " died: accept: accept4: invalid argument"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// A connected socket where a listener is expected (systemd passes one per
// connection to a .socket unit with Accept=yes) fails the start, naming
// the listener, rather than every Accept after it.
func TestSockets_InheritedConnectionIsRefusedAtStart(t *testing.T) {
	ln := listenLoopback(t)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := newSockets(nil, []*os.File{inheritedFile(t, "qotd", conn.(*net.TCPConn))})
	l, err := s.Listen("qotd", "")
	if err == nil {
		l.Close()
		t.Fatal("Listen took a connected socket for a listener")
	}
	for _, want := range []string{"listener qotd", "not listening", "Accept=yes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
