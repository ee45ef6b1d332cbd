package smtp_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/reactor"
)

// serveUntil runs a server with cfg (and a queue, without delivery) and
// returns its address, and a function that ends its context and waits up
// to d for Serve to return.
func serveUntil(t *testing.T, cfg smtpfe.ServerConfig) (addr string, stop func(d time.Duration) error) {
	t.Helper()
	q, err := queue.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtpfe.New(ln, cfg, &smtpfe.Composer{Quoter: quotertest.NewLibrary(t), LocalPart: "quote"}, q, prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(cancel)
	return srv.Addr().String(), func(d time.Duration) error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(d):
			t.Fatalf("Serve did not return within %v of the end of its context", d)
			return nil
		}
	}
}

// An idle session over TLS is told 421 4.3.2 at shutdown, over TLS, and
// closed: the reply is not written in plain text into the TLS stream.
func TestSMTP_ShutdownClosesIdleTLSSessionWith421OverTLS(t *testing.T) {
	files := smtptest.WriteSelfSigned(t, t.TempDir(), 1)
	cert, err := smtpfe.LoadCertificate(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig("quotes.test")
	cfg.TLS = cert
	addr, stop := serveUntil(t, cfg)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	plain := textproto.NewConn(raw)
	step := func(c *textproto.Conn, cmd string, code int) {
		t.Helper()
		if cmd != "" {
			if err := c.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, msg, err := c.ReadResponse(code); err != nil {
			t.Fatalf("%q: %v (%s), want %d", cmd, err, msg, code)
		}
	}
	step(plain, "", 220)
	step(plain, "EHLO client.test", 250)
	step(plain, "STARTTLS", 220)
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	encrypted := textproto.NewConn(tc)
	step(encrypted, "EHLO client.test", 250)

	if err := stop(3 * time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
	code, msg, err := encrypted.ReadResponse(421)
	if err != nil || !strings.HasPrefix(msg, "4.3.2 ") {
		t.Errorf("idle TLS session at shutdown: %d %q (err %v), want 421 4.3.2 over TLS", code, msg, err)
	}
	if line, err := encrypted.ReadLine(); err == nil {
		t.Errorf("after the 421: %q, want the connection closed", line)
	}
}

// A listener closed under the server can never accept again: Serve tells
// the idle sessions 421, as at shutdown, and returns a permanent error
// naming the listener, so that the process stops rather than restart the
// frontend on a dead socket.
func TestSMTP_DeadListenerClosesSessionsAndFailsPermanently(t *testing.T) {
	q, err := queue.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig("quotes.test")
	srv := smtpfe.New(ln, cfg, &smtpfe.Composer{Quoter: quotertest.NewLibrary(t), LocalPart: "quote"}, q, prometheus.NewRegistry())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := textproto.NewConn(raw)
	if _, msg, err := c.ReadResponse(220); err != nil {
		t.Fatalf("greeting: %v (%s)", err, msg)
	}
	if err := c.PrintfLine("EHLO client.test"); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadResponse(250); err != nil {
		t.Fatalf("EHLO: %v (%s)", err, msg)
	}

	ln.Close()
	select {
	case err := <-done:
		if !reactor.IsPermanent(err) || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("Serve = %v, want a permanent error naming %s", err, ln.Addr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5s after its listener died")
	}
	if code, msg, err := c.ReadResponse(421); err != nil || !strings.HasPrefix(msg, "4.3.2 ") {
		t.Errorf("idle session when the listener died: %d %q (err %v), want 421 4.3.2", code, msg, err)
	}
}

// noBuffers fails its first Accept calls with ENOBUFS, as accept(2) does
// under memory pressure: go-smtp would return such an error (it retries
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

func TestSMTP_AcceptErrorsThatLeaveTheListenerAliveAreRetried(t *testing.T) {
	q, err := queue.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig("quotes.test")
	srv := smtpfe.New(&noBuffers{Listener: ln, failures: 3}, cfg, &smtpfe.Composer{Quoter: quotertest.NewLibrary(t), LocalPart: "quote"}, q, prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := textproto.NewConn(c).ReadResponse(220); err != nil {
		t.Errorf("greeting after the accept errors: %v (%s), want 220", err, msg)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil after its context ended", err)
	}
}
