package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestListenerFailed_ClosedListenerIsPermanent(t *testing.T) {
	ln := listenLoopback(t)
	ln.Close()
	_, aerr := ln.Accept()
	err := ListenerFailed(ln.Addr(), aerr)
	if !IsPermanent(err) {
		t.Fatalf("ListenerFailed(%v) = %v, not permanent", aerr, err)
	}
	want := "listener " + ln.Addr().String() + " died: accept: use of closed network connection"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !errors.Is(err, net.ErrClosed) {
		t.Errorf("error %q does not wrap net.ErrClosed", err)
	}
}

// Errors after which the socket accepts again are not permanent: the
// service is restarted, and serves.
func TestListenerFailed_PassingErrorsAreNotPermanent(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 17}
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.EPERM, syscall.ECONNABORTED, syscall.EPROTO} {
		aerr := &net.OpError{Op: "accept", Net: "tcp", Addr: addr, Err: os.NewSyscallError("accept4", errno)}
		err := ListenerFailed(addr, aerr)
		if IsPermanent(err) {
			t.Errorf("ListenerFailed(%v) is permanent, want a restart", aerr)
		}
		if want := fmt.Sprintf("listener 127.0.0.1:17 failed: accept: accept4: %v", errno); err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	}
}

func TestPermanent_NilIsNil(t *testing.T) {
	if err := Permanent(nil); err != nil {
		t.Errorf("Permanent(nil) = %v, want nil", err)
	}
}

// A service whose listener dies is not restarted in a loop: the
// supervisor stops everything at once and says which service and why.
func TestSupervisor_DeadListenerStopsInsteadOfRestarting(t *testing.T) {
	log, buf := testLogger(t)
	ln := listenLoopback(t)
	var runs atomic.Int32
	sup := &Supervisor{Log: log, ShutdownTimeout: time.Second}
	sup.Add("echo", serviceFunc(func(ctx context.Context) error {
		runs.Add(1)
		for {
			c, err := ln.Accept()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return ListenerFailed(ln.Addr(), err)
			}
			c.Close()
		}
	}))
	done := make(chan error, 1)
	go func() { done <- sup.Serve(context.Background()) }()
	c, err := net.Dial("tcp", ln.Addr().String()) // served: the service is up
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ln.Close()
	select {
	case err := <-done:
		want := "echo cannot be restarted: listener " + ln.Addr().String() + " died: accept: use of closed network connection"
		if err == nil || err.Error() != want {
			t.Errorf("Serve = %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Serve still running 5s after the listener died (%d runs)", runs.Load())
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("service ran %d times, want once: a dead listener is not restarted", n)
	}
	logs := buf.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "service=echo") || !strings.Contains(logs, "died") {
		t.Errorf("log does not report the dead listener as an error naming the service:\n%s", logs)
	}
}

// failingListener fails each Accept with the next of errs, then accepts
// from its Listener.
type failingListener struct {
	net.Listener
	errs []error
}

func (l *failingListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	return l.Listener.Accept()
}

// net/http and go-smtp retry only the Accept errors that say they are
// temporary: through KeepAccepting, every error that leaves the listener
// alive says so, keeping its cause, and a dead listener's does not.
func TestKeepAccepting_OnlyADeadListenerEndsAccepting(t *testing.T) {
	ln := listenLoopback(t)
	acceptErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "accept", Net: "tcp", Addr: ln.Addr(), Err: os.NewSyscallError("accept4", errno)}
	}
	passing := []syscall.Errno{syscall.ENOBUFS, syscall.EPERM, syscall.EPROTO, syscall.EMFILE}
	var errs []error
	for _, errno := range passing {
		errs = append(errs, acceptErr(errno))
	}
	kl := KeepAccepting(&failingListener{Listener: ln, errs: append(errs, acceptErr(syscall.EINVAL))})
	for _, errno := range passing {
		_, err := kl.Accept()
		var ne net.Error
		//lint:ignore SA1019 Temporary is what net/http and go-smtp ask
		if !errors.As(err, &ne) || !ne.Temporary() || !errors.Is(err, errno) {
			t.Errorf("Accept failing with %v: %v, want a temporary error wrapping it", errno, err)
		}
	}
	_, err := kl.Accept()
	var ne net.Error
	//lint:ignore SA1019 Temporary is what net/http and go-smtp ask
	if !errors.As(err, &ne) || ne.Temporary() || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Accept on a socket no longer listening: %v, want EINVAL, not temporary", err)
	}
}
