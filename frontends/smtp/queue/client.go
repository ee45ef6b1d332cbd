package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Resolver is the part of *net.Resolver that direct delivery needs. Tests
// inject one that answers with loopback addresses, so no test ever asks the
// real DNS.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// TLS modes of a relay connection.
const (
	TLSNone     = "none"     // plain SMTP (a relay on localhost)
	TLSStartTLS = "starttls" // STARTTLS, required and verified (submission, port 587)
	TLSImplicit = "tls"      // TLS from the first byte (submissions, port 465)
)

// Relay is a smarthost all replies go through.
type Relay struct {
	Addr     string // host:port
	TLS      string // TLSNone, TLSStartTLS or TLSImplicit
	Username string // AUTH PLAIN when not empty
	Password string
	// TLSConfig verifies the relay; nil means the system roots and the
	// host of Addr as server name.
	TLSConfig *tls.Config
}

// undeliverableError marks a destination that will never take mail: its
// replies are dropped. (Not reactor.Permanent, which stops the process.)
type undeliverableError struct{ error }

func (e undeliverableError) Unwrap() error { return e.error }

// outbound is the outbound SMTP client as the delivery code (deliver.go)
// sees it: something that opens sessions with the next hop. Scheduling and
// recording replies is one job, speaking SMTP to relays and MX hosts
// (DNS, address checks, TLS, AUTH) another; each can be read, and
// changed, without the other. smtpClient, on go-smtp, is the one
// implementation.
type outbound interface {
	// open opens a session with the next hop for replies to rcpt: the
	// relay, or the first MX host of rcpt's domain that answers. A
	// undeliverableError says that the domain will never take mail (its
	// replies are dropped); any other error is temporary.
	open(ctx context.Context, rcpt string) (session, error)
}

// session is an SMTP session with the next hop, greeted (and encrypted
// and authenticated as configured), ready for mail transactions.
type session interface {
	// send runs one mail transaction, t from the reverse path from ("":
	// the null reverse path) to rcpt. An *smtp.SMTPError is the next hop's refusal, after which
	// reset readies the session for the next; any other error means the
	// connection is lost.
	send(from, rcpt string, t text) error
	// reset ends a refused transaction (RSET).
	reset() error
	// pipeline returns a writer of pipelined transactions (RFC 2920) on
	// the session's connection, or nil when the next hop does not offer
	// PIPELINING or the connection cannot be written directly (after
	// STARTTLS). Once it is used, send and reset are not.
	pipeline() *pipeline
	// quit ends the session with QUIT; close closes the connection, and
	// is called in any case, last.
	quit() error
	close() error
}

// smtpClient is the outbound SMTP client on go-smtp. It makes its own
// connections (Config.Dial, after the address checks of mxguard.go) and
// runs go-smtp's Client on them (NewClient), never go-smtp's SendMail,
// which dials by itself and insists on STARTTLS: a relay on localhost
// speaks plain SMTP, and an MX host without STARTTLS still gets its mail
// (opportunistic TLS, RFC 7435).
type smtpClient struct {
	// cfg is the delivery's Config with its defaults; the client uses
	// Relay, Resolver, MXPort, HeloName, Timeout, Dial and allowAddr.
	cfg Config
}

var _ outbound = (*smtpClient)(nil)

// open opens a session with the next hop for rcpt (see outbound).
func (cl *smtpClient) open(ctx context.Context, rcpt string) (session, error) {
	c, conn, err := cl.connect(ctx, rcpt)
	if err != nil {
		return nil, err
	}
	return &smtpSession{c: c, p: newPipeline(c, conn, cl.cfg.Timeout)}, nil
}

// smtpSession is a session of smtpClient: go-smtp's Client, and the
// pipelined writer on its connection when there is one.
type smtpSession struct {
	c *smtp.Client
	p *pipeline
}

// send runs one mail transaction. Replies have the null reverse path, as
// RFC 3834 §3.3 recommends for automatic replies: nothing bounces back to
// us; the daily mail of subscriptions has a bounce address (VERP).
func (s *smtpSession) send(from, rcpt string, t text) error {
	if err := s.c.Mail(from, nil); err != nil {
		return err
	}
	if err := s.c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := s.c.Data()
	if err != nil {
		return err
	}
	for _, part := range [][]byte{t.head, t.shared} {
		if _, err := w.Write(part); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

func (s *smtpSession) reset() error { return s.c.Reset() }

func (s *smtpSession) pipeline() *pipeline { return s.p }

// quit and close clear the pipeline's deadline first: go-smtp's Client
// takes the connection back.
func (s *smtpSession) quit() error {
	if s.p != nil {
		s.p.done()
	}
	return s.c.Quit()
}

func (s *smtpSession) close() error {
	if s.p != nil {
		s.p.done()
	}
	return s.c.Close()
}

// connect opens an SMTP session to the relay, or to the MX of rcpt's domain.
//
// conn is the connection the client speaks on when quotesd can write to it
// directly (see pipeline), nil after STARTTLS.
func (cl *smtpClient) connect(ctx context.Context, rcpt string) (c *smtp.Client, conn net.Conn, err error) {
	if cl.cfg.Relay != nil {
		return cl.connectRelay(ctx, cl.cfg.Relay)
	}
	domain := domainOf(rcpt)
	hosts, err := cl.mxHosts(ctx, domain)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	refusedAll := true // every address found is one direct delivery must not connect to
	for _, host := range hosts {
		addrs, err := cl.cfg.Resolver.LookupHost(ctx, host)
		var dnsErr *net.DNSError
		if len(hosts) == 1 && host == domain && errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			// No MX and no address record either: the domain takes no
			// mail (RFC 5321 §5.1), now or after any retry.
			return nil, nil, undeliverableError{fmt.Errorf("%s has neither MX nor address records: %w", domain, err)}
		}
		if err != nil {
			errs, refusedAll = append(errs, fmt.Errorf("looking up %s: %w", host, err)), false
			continue
		}
		for _, a := range addrs {
			if err := cl.mxAllowed(a); err != nil {
				errs = append(errs, fmt.Errorf("mail host %s: %w", host, err))
				continue
			}
			c, conn, err := cl.connectMX(ctx, host, net.JoinHostPort(a, cl.cfg.MXPort))
			if err == nil {
				return c, conn, nil
			}
			errs = append(errs, err)
			// The dialler's own check (mxDialer) fails with the same error.
			refusedAll = refusedAll && errors.Is(err, errNonPublicAddress)
		}
	}
	if len(errs) == 0 {
		return nil, nil, fmt.Errorf("no address for the mail hosts of %s", domain)
	}
	if refusedAll {
		// No retry makes such a domain one quotesd may deliver to: the
		// reply is dropped, as for a domain that takes no mail.
		return nil, nil, undeliverableError{fmt.Errorf("%s: no mail host at a public address: %w", domain, errors.Join(errs...))}
	}
	return nil, nil, errors.Join(errs...)
}

// mxHosts returns the hosts that take mail for domain, best first: its MX
// records, or the domain itself when it has none (RFC 5321 §5.1).
func (cl *smtpClient) mxHosts(ctx context.Context, domain string) ([]string, error) {
	mxs, err := cl.cfg.Resolver.LookupMX(ctx, domain)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return nil, fmt.Errorf("looking up MX of %s: %w", domain, err)
	}
	if len(mxs) == 0 {
		return []string{domain}, nil
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	hosts := make([]string, 0, len(mxs))
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" {
			continue // a null MX (RFC 7505) names no host
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, undeliverableError{fmt.Errorf("%s accepts no mail (null MX, RFC 7505)", domain)}
	}
	return hosts, nil
}

// connectMX connects to one MX address with opportunistic STARTTLS: TLS
// when the host offers it, without verifying the certificate (without DANE
// or MTA-STS nothing says which certificate to expect; encryption still
// defeats passive eavesdropping, RFC 7435), and plain SMTP on a new
// connection when the TLS attempt fails.
func (cl *smtpClient) connectMX(ctx context.Context, host, addr string) (*smtp.Client, net.Conn, error) {
	conn, err := cl.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	c, tlsErr := cl.startTLS(ctx, conn, cfg)
	if tlsErr == nil {
		if err := cl.hello(c); err != nil {
			c.Close()
			return nil, nil, err
		}
		return c, nil, nil
	}
	conn, err = cl.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	c = cl.client(conn)
	if err := cl.hello(c); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("%s (%s): %w", host, addr, err)
	}
	return c, conn, nil
}

func (cl *smtpClient) connectRelay(ctx context.Context, r *Relay) (*smtp.Client, net.Conn, error) {
	conn, err := cl.cfg.Dial(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("relay %s: %w", r.Addr, err)
	}
	cfg := r.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(r.Addr)
	}
	var c *smtp.Client
	raw := conn // what the client speaks on, when not after STARTTLS
	switch r.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, cfg)
		_ = tc.SetDeadline(time.Now().Add(cl.cfg.Timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("relay %s: TLS: %w", r.Addr, err)
		}
		_ = tc.SetDeadline(time.Time{})
		c, raw = cl.client(tc), tc
	case TLSStartTLS:
		c, err = cl.startTLS(ctx, conn, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("relay %s: STARTTLS: %w", r.Addr, err)
		}
		raw = nil
	default:
		c = cl.client(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = cl.cfg.Timeout, cl.cfg.Timeout
	if err := cl.hello(c); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("relay %s: %w", r.Addr, err)
	}
	if r.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("relay %s: AUTH PLAIN as %s: %w", r.Addr, r.Username, err)
		}
	}
	return c, raw, nil
}

// startTLS greets the server on conn and upgrades the session with
// STARTTLS (RFC 3207), within Timeout, and returns a client on the
// encrypted connection; hello greets again there. It does by hand what
// go-smtp's NewClientStartTLS does, because that one greets as
// "localhost" (its Client takes no name before STARTTLS): a name that a
// relay or an MX may refuse, or hold against the mail, from another host.
// On an error conn is closed.
func (cl *smtpClient) startTLS(ctx context.Context, conn net.Conn, cfg *tls.Config) (*smtp.Client, error) {
	c, err := cl.startTLSConn(ctx, conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (cl *smtpClient) startTLSConn(ctx context.Context, conn net.Conn, cfg *tls.Config) (*smtp.Client, error) {
	_ = conn.SetDeadline(time.Now().Add(cl.cfg.Timeout))
	// Nothing is read past the reply to STARTTLS: what the server sent
	// after it, if anything, stays in this reader and is dropped.
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := tp.PrintfLine("EHLO %s", cl.cfg.HeloName); err != nil {
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	if !hasExtension(msg, "STARTTLS") {
		return nil, errors.New("smtp: server doesn't support STARTTLS")
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fmt.Errorf("STARTTLS: %w", err)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	// The session starts over, without a greeting from the server (RFC
	// 3207 §4.2); go-smtp's Client reads one first, so it is given one.
	return cl.client(&greetedConn{Conn: tc, greeting: []byte("220 TLS session\r\n")}), nil
}

// hasExtension reports whether the text of an EHLO reply (its lines after
// the first are the extensions, as textproto returns them) names ext.
func hasExtension(ehlo, ext string) bool {
	lines := strings.Split(ehlo, "\n")
	for _, line := range lines[1:] {
		if name, _, _ := strings.Cut(line, " "); strings.EqualFold(name, ext) {
			return true
		}
	}
	return false
}

// greetedConn is a connection whose first bytes read are greeting, then
// what the connection carries.
type greetedConn struct {
	net.Conn
	greeting []byte
}

func (c *greetedConn) Read(p []byte) (int, error) {
	if len(c.greeting) > 0 {
		n := copy(p, c.greeting)
		c.greeting = c.greeting[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (cl *smtpClient) client(conn net.Conn) *smtp.Client {
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = cl.cfg.Timeout, cl.cfg.Timeout
	return c
}

// hello greets with our name; after STARTTLS, where the client must greet
// again (RFC 3207 §4.2), this is the second greeting.
func (cl *smtpClient) hello(c *smtp.Client) error {
	c.CommandTimeout, c.SubmissionTimeout = cl.cfg.Timeout, cl.cfg.Timeout
	return c.Hello(cl.cfg.HeloName)
}
