package irc

// The connection: one session from dial to disconnect, why it ended, and
// the check that the server is still there. A session's other jobs have a
// file each: dispatch.go (messages from the server), nick.go,
// membership.go (channels), roster.go (who is in them: operators and
// accounts), intake.go (commands), reply.go (answers), curate.go (changes
// to the library), output.go (the writer) and daily.go (the daily post).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
)

// session is one connection to the server, from dial to disconnect. Every
// reconnect makes a new session with a new irc.v4 client; what must
// outlive a connection (the backoff, the daily post memory, cooldowns)
// lives in the Bot.
type session struct {
	b      *Bot
	lc     *lineConn
	client *ircv4.Client
	ctx    context.Context // ends with the session
	cancel context.CancelFunc

	ctrl   chan *ircv4.Message // JOIN, NICK, ...: small, never dropped
	jobs   chan job            // commands waiting to be answered
	dailyC chan struct{}       // "check whether the daily post is due"

	mu         sync.Mutex
	err        error // why the session was ended from inside
	registered bool
	nick       string            // our nick as the server knows it
	userhost   string            // our user@host as the server relays it ("" until our first JOIN echo)
	joined     map[string]string // lower-cased channel -> name
	nickTries  int
	nickBad    bool            // the server refused the wanted nick as erroneous: stop asking for it
	caps       map[string]bool // IRCv3 capabilities enabled on this connection

	roster *roster // who is in our channels: operators, accounts
}

// session runs one connection until it breaks or ctx ends. It reports
// whether registration completed, and why the connection ended.
func (b *Bot) session(ctx context.Context) (registered bool, err error) {
	b.stats.connects.Inc()
	conn, err := b.dial(ctx)
	if err != nil {
		return false, err
	}
	defer b.stats.connected.Set(0)
	b.log.Info("irc connected", "server", b.cfg.Server, "tls", b.cfg.TLS)
	lc := newLineConn(conn, b.log, b.cfg.PingInterval+b.cfg.pingTimeout())
	// The session's context is not derived from ctx: when ctx ends, QUIT
	// is sent first and only then is the connection torn down.
	sctx, cancel := context.WithCancel(context.Background())
	s := &session{
		b: b, lc: lc, ctx: sctx, cancel: cancel,
		ctrl:   make(chan *ircv4.Message, 64),
		jobs:   make(chan job, jobQueue),
		dailyC: make(chan struct{}, 1),
		nick:   b.cfg.Nick,
		joined: make(map[string]string),
		caps:   make(map[string]bool),
		roster: newRoster(),
	}
	defer cancel()

	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			lc.quit(chat.Sanitize(b.cfg.Version) + " shutting down")
			cancel()
		case <-sctx.Done():
		}
		lc.Close() // unblocks a read in the SASL exchange
	})
	reg := time.AfterFunc(b.cfg.RegisterWait, func() {
		if !s.isRegistered() {
			s.fail(fmt.Errorf("registration not finished after %v", b.cfg.RegisterWait))
		}
	})
	defer reg.Stop()

	pass := b.cfg.Password
	if b.cfg.SASLUser != "" {
		if err := s.negotiateSASL(lc); err != nil {
			cancel()
			wg.Wait()
			return false, s.firstErr(err)
		}
		pass = "" // already sent, before CAP LS
	}
	s.client = ircv4.NewClient(lc, ircv4.ClientConfig{
		Nick:      b.cfg.Nick,
		Pass:      pass,
		User:      b.cfg.user(),
		Name:      b.cfg.RealName,
		SendLimit: b.cfg.SendInterval, // 0: none
		SendBurst: b.cfg.SendBurst,
		Handler:   ircv4.HandlerFunc(s.handle),
		// PingFrequency stays 0. irc.v4's own ping loop does work against
		// a server that answers (checked), but its PING waits behind the
		// send pacing, so a queue of replies delays it; its timer starts
		// only once the write returns, and the write has no deadline, so
		// a server that stops reading is never noticed; and it keys PINGs
		// by the second, so two outstanding in one second make one look
		// lost. lineConn's read deadline and s.pinger replace it.
	})
	if b.cfg.SASLUser == "" && b.wantsAccounts() {
		for _, c := range curationCaps {
			s.client.CapRequest(c, false)
		}
	}
	wg.Go(s.writer)
	wg.Go(s.pinger)
	wg.Go(s.regainer)
	if b.daily != nil {
		wg.Go(s.dailyTimer)
	}
	runErr := s.client.RunContext(sctx)
	cancel()
	wg.Wait()
	if runErr == nil {
		runErr = errors.New("connection closed")
	}
	return s.isRegistered(), s.firstErr(runErr)
}

// dial connects to the server, with TLS when configured.
func (b *Bot) dial(ctx context.Context) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := b.cfg.Dial(dctx, "tcp", b.cfg.Server)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", b.cfg.Server, err)
	}
	if !b.cfg.TLS {
		return conn, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.cfg.TLSConfig != nil {
		tc = b.cfg.TLSConfig.Clone()
	}
	if b.cfg.TLSInsecure {
		tc.InsecureSkipVerify = true //nolint:gosec // asked for, for tests
	}
	if tc.ServerName == "" {
		tc.ServerName, _, _ = net.SplitHostPort(b.cfg.Server)
	}
	tlsConn := tls.Client(conn, tc)
	if err := tlsConn.HandshakeContext(dctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", b.cfg.Server, err)
	}
	return tlsConn, nil
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

func (s *session) isRegistered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registered
}

// pinger sends our own PING after PingInterval of silence. If the server
// does not answer within half as long, lineConn's read deadline fails the
// read and the session ends; a server that keeps talking needs no PING.
// The PING goes around the send pacing: it is rare, and a PING stuck
// behind queued replies would measure the queue, not the server.
func (s *session) pinger() {
	every := max(s.b.cfg.PingInterval/4, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	var last time.Time
	n := 0
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if s.lc.idleFor() >= s.b.cfg.PingInterval && time.Since(last) >= s.b.cfg.PingInterval {
				n++
				last = time.Now()
				if err := s.lc.writeLine("PING :quotesd-" + strconv.Itoa(n)); err != nil {
					s.fail(fmt.Errorf("sending PING: %w", err))
					return
				}
			}
		}
	}
}
