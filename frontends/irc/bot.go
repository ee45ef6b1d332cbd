// Package irc is the IRC frontend of quotesd: a quote bot that answers
// !quote, !today and friends in channels and private messages, built on
// gopkg.in/irc.v4.
//
// irc.v4 parses and writes messages, paces what we send (SendLimit,
// SendBurst) and answers the server's PINGs; it handles one connection and
// nothing more. This package adds what a bot that stays on a network for
// months needs: reconnecting with backoff, SASL, nick recovery, liveness
// checks, rejoining, cooldowns, and strict hygiene of every line it reads
// and writes (irc.v4 does not bound line length, strips nothing and panics on
// some malformed input).
package irc

import (
	"context"
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

// Bot is the IRC frontend: one network, any number of channels.
type Bot struct {
	cfg   Config // as at start
	q     quoter.Library
	cal   *quoter.Calendar
	log   *slog.Logger
	daily *chat.Daily // nil when no daily post is configured
	stats *metrics
	disp  *chat.Dispatcher // answers the commands that are not curation

	cooldowns chat.Cooldowns // per user and per channel
	ctcpCD    *chat.Cooldown // CTCP VERSION answers, whoever asks
	changes   *chat.DailyCap // each person's changes today (--irc-curation-cap)
	lines     *lastLines     // what each nick said last, for !grab

	liveMu  sync.Mutex             // serialises SetLive
	inForce atomic.Pointer[Config] // cfg with the live settings SetLive gave
}

// New checks cfg and returns a Bot that will answer from q, and let its
// curators change it, deciding what "today" is with cal. It does not
// connect: Serve does.
func New(cfg Config, q quoter.Library, cal *quoter.Calendar, log *slog.Logger) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Server == "" {
		return nil, errors.New("irc: no server to connect to (--irc-server)")
	}
	if cfg.Version == "" {
		cfg.Version = "quotesd"
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
	if cfg.TLS && cfg.TLSInsecure {
		log.Warn("irc TLS certificate checks are off (--irc-tls-insecure)")
	}
	b := &Bot{cfg: cfg, q: q, cal: cal, log: log, stats: newMetrics(cfg.Metrics)}
	now := cal.Time
	b.cooldowns = chat.NewCooldowns(cfg.UserCooldown, cfg.ChannelCooldown, now)
	b.ctcpCD = chat.NewCooldown(cfg.CTCPInterval, now)
	b.changes, b.lines = chat.NewDailyCap(), newLastLines()
	b.inForce.Store(&cfg)
	b.disp = &chat.Dispatcher{Name: "irc", Library: q, Calendar: cal, Log: log, Prefix: b.commandPrefix, Collections: b.collections}
	if cfg.Daily != "" {
		d, err := newDaily(cfg, cal, log)
		if err != nil {
			return nil, err
		}
		b.daily = d
	}
	return b, nil
}

// SetLive gives the running bot the live settings of c, those Declare
// marks settings.Live: commands read from then on use the new prefix,
// cooldowns, curators and daily cap of changes, CTCP VERSION its new rate, and the daily post moves to the
// new time (a day already posted is not posted again). c's other fields
// are ignored: they take a restart. It checks the result first and
// changes nothing if it does not hold, or if it would turn the daily post
// on or off, which takes a restart too.
func (b *Bot) SetLive(c Config) error {
	b.liveMu.Lock()
	defer b.liveMu.Unlock()
	next := *b.inForce.Load()
	next.Prefix, next.Daily = c.Prefix, c.Daily
	next.UserCooldown, next.ChannelCooldown, next.CTCPInterval = c.UserCooldown, c.ChannelCooldown, c.CTCPInterval
	next.Curators, next.OpsCurate, next.CurationCap = c.Curators, c.OpsCurate, c.CurationCap
	if err := next.Validate(); err != nil {
		return err
	}
	if (next.Daily == "") != (b.daily == nil) {
		return errors.New("irc daily post: turning it on or off takes a restart; the time can change live")
	}
	b.cooldowns.User.SetPeriod(next.UserCooldown)
	b.cooldowns.Room.SetPeriod(next.ChannelCooldown)
	b.ctcpCD.SetPeriod(next.CTCPInterval)
	if b.daily != nil {
		if err := b.daily.SetClock(next.Daily); err != nil {
			return err // Validate has checked it
		}
	}
	b.inForce.Store(&next)
	return nil
}

// Config returns the bot's configuration in force: as New took it (with
// Version and Dial filled in if they were not), with the live settings of
// the last SetLive.
func (b *Bot) Config() Config { return *b.inForce.Load() }

// wantsAccounts reports whether a curator is named by services account,
// so the bot asks the server for accounts (see curationCaps).
func (b *Bot) wantsAccounts() bool {
	for _, c := range b.inForce.Load().Curators {
		if c.Account != "" {
			return true
		}
	}
	return false
}

// commandPrefix is the command prefix in force.
func (b *Bot) commandPrefix() string { return b.inForce.Load().Prefix }

// permanent is a failure that reconnecting cannot fix: the server refused
// what we are configured to send (its password, the SASL account). It is
// reactor's marker, so the supervisor stops the process with it instead of
// restarting the bot, which would be refused again.
func permanent(format string, args ...any) error {
	return reactor.Permanent(fmt.Errorf(format, args...))
}

// Serve connects, and reconnects whenever the link is lost, until ctx ends;
// then it quits politely and returns nil. Every session is a new irc.v4
// client on a new connection. Waits between attempts grow exponentially,
// with jitter, up to BackoffMax, and start again from BackoffMin after a
// session that stayed up for HealthyAfter. The only errors returned are
// those that retrying cannot fix, marked with reactor.Permanent: the SASL
// account or the server password refused. Network failures, a TLS
// handshake that fails, an ERROR from the server (a K-line among them) are
// retried: they may pass, and the bot must not stop the other frontends.
func (b *Bot) Serve(ctx context.Context) error {
	r := &chat.Reconnect{Name: "irc", Backoff: chat.Backoff{Min: b.cfg.BackoffMin, Max: b.cfg.BackoffMax},
		HealthyAfter: b.cfg.HealthyAfter, Log: b.log, Attrs: func() []any { return []any{"server", b.cfg.Server} }}
	return r.Run(ctx, b.session)
}
