// Package smtptest provides a real SMTP server that keeps what it receives,
// for tests of quotesd's mail frontend: the relay or MX host replies are
// delivered to. It listens on loopback only.
package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/internal/testcert"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the sink accepted.
type Message struct {
	From string // reverse path; "" for MAIL FROM:<>
	To   []string
	Data []byte
	TLS  bool      // received over TLS
	User string    // the AUTH user, "" without AUTH
	At   time.Time // when the sink accepted it (the end of DATA)
}

// Options configure a sink.
type Options struct {
	// Addr to listen on; "" means 127.0.0.1:0.
	Addr string
	// TLS, when set, offers STARTTLS with this configuration, or with
	// Implicit, speaks TLS from the first byte.
	TLS      *tls.Config
	Implicit bool
	// Username and Password, when set, require AUTH PLAIN with them
	// before MAIL.
	Username, Password string
	// Reject, when set, is asked about each recipient; a non-nil error
	// (an *smtp.SMTPError) is the answer to RCPT.
	Reject func(rcpt string) error
}

// Sink is a running SMTP server that records messages.
type Sink struct {
	Addr string
	opts Options
	srv  *smtp.Server
	mu   sync.Mutex
	msgs []Message
	// names given in HELO or EHLO, in order: the first of each session,
	// and the first after STARTTLS
	greetings []string
	more      chan struct{}
	done      chan struct{}
}

// NewSink starts a sink and stops it when the test ends.
func NewSink(tb testing.TB, opts Options) *Sink {
	tb.Helper()
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // a port just freed may linger briefly
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("smtptest: listening on %s: %v", addr, err)
	}
	if opts.TLS != nil && opts.Implicit {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s := &Sink{Addr: ln.Addr().String(), opts: opts, more: make(chan struct{}, 1), done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		s.mu.Lock()
		s.greetings = append(s.greetings, c.Hostname())
		s.mu.Unlock()
		return &sinkSession{s: s, tls: isTLS || opts.Implicit}, nil
	}))
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.ErrorLog = nopLogger{}
	if !opts.Implicit {
		s.srv.TLSConfig = opts.TLS
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the sink; the address becomes free (the "relay down" of a
// test).
func (s *Sink) Close() {
	if err := s.srv.Close(); errors.Is(err, smtp.ErrServerClosed) {
		return
	}
	<-s.done
}

// Messages returns what the sink accepted so far, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Greetings returns the names clients gave in HELO or EHLO so far, in
// order: the first greeting of each connection, and the first after
// STARTTLS.
func (s *Sink) Greetings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.greetings...)
}

// Wait waits up to d for at least n messages and returns all received.
func (s *Sink) Wait(tb testing.TB, n int, d time.Duration) []Message {
	tb.Helper()
	deadline := time.After(d)
	for {
		if ms := s.Messages(); len(ms) >= n {
			return ms
		}
		select {
		case <-s.more:
		case <-deadline:
			tb.Fatalf("smtptest: got %d messages within %v, want %d", len(s.Messages()), d, n)
		}
	}
}

type sinkSession struct {
	s    *Sink
	tls  bool
	user string
	msg  Message
}

func (ss *sinkSession) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.msg = Message{From: from, TLS: ss.tls, User: ss.user}
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.opts.Reject != nil {
		if err := ss.s.opts.Reject(to); err != nil {
			return err
		}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data, ss.msg.At = b, time.Now()
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.msg)
	ss.s.mu.Unlock()
	select {
	case ss.s.more <- struct{}{}:
	default:
	}
	return nil
}

func (ss *sinkSession) Reset()        { ss.msg = Message{From: "", TLS: ss.tls, User: ss.user} }
func (ss *sinkSession) Logout() error { return nil }

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// SelfSignedTLS returns a server configuration with a fresh certificate for
// 127.0.0.1 and localhost, and a pool that trusts it, for the client side.
func SelfSignedTLS(tb testing.TB) (*tls.Config, *x509.CertPool) {
	tb.Helper()
	der, key := testcert.SelfSigned(tb, 1, "localhost", "127.0.0.1")
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// FreeAddr returns a loopback address nothing listens on (just now): the
// address of a relay that is down, to be started there later.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
