// Package xmpp is the XMPP (Jabber) frontend of quotesd: a quote bot
// that answers !quote, !today and friends in multi-user chat rooms
// (XEP-0045) and in 1:1 chats, built on mellium.im/xmpp.
//
// mellium negotiates the stream (STARTTLS or direct TLS, SASL SCRAM,
// resource binding), reads and writes XML, and answers the server's
// pings; it handles one connection. This package adds what a bot that
// stays on a network for months needs, as the IRC bot does: reconnecting
// with backoff, rejoining rooms, nickname recovery, liveness checks,
// pacing, cooldowns, and a bound on what it reads. The commands, the
// cooldowns, fitting a reply to the medium and the daily post's schedule
// are the chat core's (package chat), shared with the IRC bot.
package xmpp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/reactor"
)

// Bot is the XMPP frontend: one account, any number of rooms.
type Bot struct {
	cfg   Config // as at start
	q     quoter.Library
	cal   *quoter.Calendar
	log   *slog.Logger
	roots *x509.CertPool // from CAFile; nil: the system's
	stats *metrics
	core  *chatCore

	liveMu  sync.Mutex             // serialises SetLive
	inForce atomic.Pointer[Config] // cfg with the live settings SetLive gave
}

// New checks cfg and returns a Bot that will answer from q, deciding what
// "today" is with cal. It does not connect: Serve does.
func New(cfg Config, q quoter.Library, cal *quoter.Calendar, log *slog.Logger) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.JID == "" {
		return nil, errors.New("xmpp: no account to connect as (--xmpp-jid)")
	}
	if cfg.Dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		cfg.Dial = d.DialContext
	}
	if cal == nil {
		cal = &quoter.Calendar{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{cfg: cfg, q: q, cal: cal, log: log, stats: newMetrics(cfg.Metrics)}
	if cfg.CAFile != "" {
		roots, err := loadRoots(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		b.roots = roots
	}
	core, err := newChatCore(b)
	if err != nil {
		return nil, err
	}
	b.core = core
	b.inForce.Store(&cfg)
	return b, nil
}

// SetLive gives the running bot the live settings of c, those Declare
// marks settings.Live: the prefix, the cooldowns, the version queries'
// rate and the daily post's time (a day already posted is not posted
// again). c's other fields are ignored: they take a restart. It changes
// nothing if the result does not hold, or if it would turn the daily
// post on or off, which takes a restart too.
func (b *Bot) SetLive(c Config) error {
	b.liveMu.Lock()
	defer b.liveMu.Unlock()
	next := *b.inForce.Load()
	next.Prefix, next.Daily = c.Prefix, c.Daily
	next.UserCooldown, next.RoomCooldown, next.VersionPeriod = c.UserCooldown, c.RoomCooldown, c.VersionPeriod
	if err := next.Validate(); err != nil {
		return err
	}
	if err := b.core.setLive(next); err != nil {
		return err
	}
	b.inForce.Store(&next)
	return nil
}

// Config returns the bot's configuration in force: as New took it (with
// Dial filled in if it was not), with the live settings of the last
// SetLive.
func (b *Bot) Config() Config { return *b.inForce.Load() }

// String names the bot in the supervisor's logs.
func (b *Bot) String() string { return "xmpp bot" }

// version is what the bot answers to a version query.
func (b *Bot) version() string {
	if b.cfg.Version == "" {
		return "unknown"
	}
	return b.cfg.Version
}

// permanent is a failure that reconnecting cannot fix (the server refused
// the account): reactor's marker, so the supervisor stops the process
// with it instead of restarting the bot.
func permanent(format string, args ...any) error {
	return reactor.Permanent(fmt.Errorf(format, args...))
}

// Serve connects, and reconnects whenever the link is lost, until ctx
// ends; then it leaves its rooms, closes the stream and returns nil.
// Waits between attempts grow exponentially, with jitter, up to
// BackoffMax, and start again from BackoffMin after a session that stayed
// up for HealthyAfter. The only errors returned are those that retrying
// cannot fix, marked with reactor.Permanent: the account refused. Network
// failures, TLS failures, stream errors are retried: they may pass, and
// the bot must not stop the other frontends.
func (b *Bot) Serve(ctx context.Context) error {
	r := &chat.Reconnect{Name: "xmpp", Backoff: chat.Backoff{Min: b.cfg.BackoffMin, Max: b.cfg.BackoffMax},
		HealthyAfter: b.cfg.HealthyAfter, Log: b.log, Attrs: func() []any { return []any{"jid", b.cfg.JID, "server", b.serverName()} }}
	return r.Run(ctx, b.session)
}
