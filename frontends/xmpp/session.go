package xmpp

// The connection: one session from dial to disconnect, why it ended, and
// the check that the server is still there. A session's other jobs have a
// file each: handle.go (stanzas from the server), muc.go (rooms: joining,
// kicks, nicknames), output.go (the paced writer), reply.go (commands and
// the daily post).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sync"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/dial"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
)

// session is one connection to the server, from dial to disconnect. What
// must outlive a connection (the backoff, the daily post's record,
// cooldowns) lives in the Bot.
type session struct {
	b      *Bot
	xs     *xmpp.Session
	me     jid.JID         // our full address, as the server bound it
	ctx    context.Context // ends with the session
	cancel context.CancelFunc

	ctrl    chan string // presences: small, never dropped
	replies chan string // answers: dropped when full
	dailyC  chan struct{}

	mu    sync.Mutex
	err   error // why the session was ended from inside
	rooms map[string]*room
}

// session runs one connection until it breaks or ctx ends. It reports
// whether the session was established (authenticated and bound), and why
// it ended.
func (b *Bot) session(ctx context.Context) (established bool, err error) {
	b.stats.connects.Inc()
	origin := jid.MustParse(b.cfg.JID)
	cctx, ccancel := context.WithTimeout(ctx, b.cfg.ConnectWait)
	defer ccancel()
	conn, err := b.dial(cctx, origin)
	if err != nil {
		return false, err
	}
	features := []xmpp.StreamFeature{
		// Stronger mechanisms first; mellium negotiates SASL only once
		// the stream is encrypted (its SASL feature needs the Secure
		// state), so PLAIN, last, is never sent in the clear.
		xmpp.SASL("", b.cfg.Password, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain),
		xmpp.BindResource(),
	}
	if !b.cfg.DirectTLS {
		features = append([]xmpp.StreamFeature{xmpp.StartTLS(b.tlsConfig(origin))}, features...)
	}
	// A deadline on the handshake: mellium waits for the server as long
	// as the connection lets it.
	_ = conn.SetDeadline(time.Now().Add(b.cfg.ConnectWait))
	xs, err := xmpp.NewClientSession(cctx, origin, conn, features...)
	if err != nil {
		conn.Close()
		if isAuthFailure(err) {
			return false, permanent("xmpp server refused the account %s (not-authorized or disabled): %v", b.cfg.JID, err)
		}
		return false, fmt.Errorf("xmpp session with %s: %w", b.serverName(), err)
	}
	_ = conn.SetDeadline(time.Time{})
	if xs.State()&xmpp.Secure == 0 || xs.State()&xmpp.Authn == 0 {
		xs.Close()
		conn.Close()
		return false, fmt.Errorf("xmpp session with %s is not encrypted and authenticated: the server offers no TLS", b.serverName())
	}
	b.log.Info("xmpp connected", "server", b.serverName(), "jid", xs.LocalAddr().String(), "direct_tls", b.cfg.DirectTLS)
	b.stats.connected.Set(1)
	defer b.stats.connected.Set(0)

	sctx, cancel := context.WithCancel(context.Background())
	s := &session{
		b: b, xs: xs, me: xs.LocalAddr(), ctx: sctx, cancel: cancel,
		ctrl:    make(chan string, 64),
		replies: make(chan string, replyQueue),
		dailyC:  make(chan struct{}, 1),
		rooms:   make(map[string]*room),
	}
	defer cancel()
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	go func() {
		err := xs.Serve(xmpp.HandlerFunc(s.handle))
		serveErr <- err
		s.fail(fmt.Errorf("xmpp stream ended: %v", orClosed(err)))
	}()
	wg.Go(s.writer)
	wg.Go(s.pinger)
	if d := b.core.daily; d != nil {
		wg.Go(func() { d.Timer(sctx, s.checkDaily) })
	}
	s.control("<presence/>")
	s.joinAll()

	select {
	case <-ctx.Done():
		s.leaveAll()
	case <-sctx.Done():
	}
	cancel()
	wg.Wait()
	// A deadline on the close, set on the connection: mellium's
	// SetCloseDeadline replaces a context its Serve reads without a lock,
	// a data race with the reader goroutine, which may be running still.
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	_ = xs.Close()
	conn.Close()
	<-serveErr
	s.stopTimers()
	return true, s.firstErr(errors.New("connection closed"))
}

func orClosed(err error) error {
	if err == nil {
		return errors.New("closed by the server")
	}
	return err
}

// serverName is where the bot connects, for logs: --xmpp-server, or the
// JID's domain whose SRV records say where.
func (b *Bot) serverName() string {
	if b.cfg.Server != "" {
		return b.cfg.Server
	}
	return jid.MustParse(b.cfg.JID).Domainpart()
}

// tlsConfig is the TLS configuration for origin's server: certificates
// checked, against CAFile's when set, for the JID's domain (RFC 6120
// section 13.7.2: the domain, not the host connected to).
func (b *Bot) tlsConfig(origin jid.JID) *tls.Config {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.cfg.TLSConfig != nil {
		tc = b.cfg.TLSConfig.Clone()
	}
	if b.roots != nil && tc.RootCAs == nil {
		tc.RootCAs = b.roots
	}
	if tc.ServerName == "" {
		tc.ServerName = origin.Domainpart()
	}
	return tc
}

// loadRoots reads CAFile.
func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("xmpp CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("xmpp CA file %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// dial opens the connection: to --xmpp-server when set (never resolving
// the JID's domain), else where the domain's SRV records say (mellium's
// dialer, which falls back to the domain itself). With DirectTLS the TLS
// handshake is done here.
func (b *Bot) dial(ctx context.Context, origin jid.JID) (net.Conn, error) {
	tc := b.tlsConfig(origin)
	if b.cfg.Server == "" {
		d := dial.Dialer{NoTLS: !b.cfg.DirectTLS, TLSConfig: tc}
		d.Timeout = b.cfg.ConnectWait
		conn, err := d.Dial(ctx, "tcp", origin)
		if err != nil {
			return nil, fmt.Errorf("connecting to %s: %w", origin.Domainpart(), err)
		}
		return conn, nil
	}
	conn, err := b.cfg.Dial(ctx, "tcp", b.cfg.Server)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", b.cfg.Server, err)
	}
	if !b.cfg.DirectTLS {
		return conn, nil
	}
	tc.NextProtos = []string{"xmpp-client"} // XEP-0368's ALPN
	tlsConn := tls.Client(conn, tc)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", b.cfg.Server, err)
	}
	return tlsConn, nil
}

// isAuthFailure reports whether err is the server refusing our
// credentials (SASL not-authorized, account-disabled,
// credentials-expired), which reconnecting will not fix. mellium returns
// the server's SASL failure as a value of its internal saslerr.Error, whose
// text is the server's prose: its Condition field is read by reflection,
// the one way to it from outside mellium.
func isAuthFailure(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() != reflect.Struct || v.Type().PkgPath() != "mellium.im/xmpp/internal/saslerr" {
			continue
		}
		f := v.FieldByName("Condition")
		if !f.IsValid() || !f.CanInterface() {
			return false
		}
		c, ok := f.Interface().(fmt.Stringer)
		if !ok {
			return false
		}
		switch c.String() {
		case "not-authorized", "account-disabled", "credentials-expired":
			return true
		}
		return false
	}
	return false
}

// fail ends the session from inside, remembering why.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel()
}

// firstErr is the reason the session ended: the one given to fail, if any.
func (s *session) firstErr(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return err
}

// pinger pings the server (XEP-0199) every PingInterval; no answer within
// half as long ends the session, so a server or path that died in
// silence is noticed and the bot reconnects.
func (s *session) pinger() {
	t := time.NewTicker(s.b.cfg.PingInterval)
	defer t.Stop()
	server := s.me.Domain()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, s.b.cfg.PingInterval/2)
			err := ping.Send(ctx, s.xs, server)
			cancel()
			if err != nil && s.ctx.Err() == nil {
				s.fail(fmt.Errorf("xmpp server did not answer a ping within %v: %w", s.b.cfg.PingInterval/2, err))
				return
			}
		}
	}
}
