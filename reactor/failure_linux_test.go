package reactor

import (
	"errors"
	"net"
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
