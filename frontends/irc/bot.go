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
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"quotesd/quoter"
	"quotesd/reactor"
)

// Channel is a channel to join, with its key if it has one.
type Channel struct {
	Name string
	Key  string
}

// ParseChannels parses a comma-separated list of channels, each optionally
// followed by a space and its key: "#quotes,#private secret".
// Errors name the entry that is not a channel name.
func ParseChannels(s string) ([]Channel, error) {
	var out []Channel
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, key, _ := strings.Cut(f, " ")
		key = strings.TrimSpace(key)
		if !isChannel(name) || !validMiddle(name) {
			return nil, fmt.Errorf("irc channel %q: want a name such as #quotes, optionally followed by a space and the key", f)
		}
		if key != "" && !validMiddle(key) {
			return nil, fmt.Errorf("irc channel %q: the key must be one word", f)
		}
		out = append(out, Channel{Name: name, Key: key})
	}
	return out, nil
}

// isChannel reports whether target names a channel rather than a user.
// The prefixes are RFC 2812's; servers announce theirs in CHANTYPES, and
// every common one is among these.
func isChannel(target string) bool {
	return target != "" && strings.ContainsRune("#&+!", rune(target[0]))
}

// Config is the bot's configuration. Zero durations take the defaults
// written next to them.
type Config struct {
	Server    string      // host:port
	TLS       bool        // connect with TLS (certificates verified unless TLSConfig says otherwise)
	TLSConfig *tls.Config // nil: the system's roots, server name from Server

	Nick     string // wanted nick; alternatives are used while it is taken
	User     string // user name (ident); default the nick
	RealName string // default "quotesd"
	Password string // server password (PASS), if the server needs one

	SASLUser     string // SASL PLAIN account; needs TLS
	SASLPassword string

	Channels []Channel
	Prefix   string // command prefix; default "!"

	Daily          string // "HH:MM": post the quote of the day to every channel then; "" never
	DailyStateFile string // where the last posted day per channel is kept across restarts; "" in memory

	RejoinDelay     time.Duration // after a kick; default 30s
	UserCooldown    time.Duration // one command per user per this; default 10s; negative: none
	ChannelCooldown time.Duration // one command per channel per this; default 3s; negative: none
	CTCPInterval    time.Duration // answer CTCP VERSION at most once per this, whoever asks; default 10s; negative: no limit
	SendInterval    time.Duration // pacing after the burst; default 2s; negative: no pacing (for benchmarks)
	SendBurst       int           // lines sent without pacing; default 4

	PingInterval   time.Duration // send our PING after this much silence; default 60s
	PingTimeout    time.Duration // drop the server after PingInterval+this of silence; default 30s
	RegainInterval time.Duration // try to get the wanted nick back this often; default 60s
	RegisterWait   time.Duration // registration must finish within this; default 60s
	BackoffMin     time.Duration // first reconnect wait; default 2s
	BackoffMax     time.Duration // longest reconnect wait; default 5m
	HealthyAfter   time.Duration // a session this long resets the backoff; default 1m

	Version string // answered to CTCP VERSION

	// Metrics, when set, gets the bot's counters (quotesd_irc_*).
	Metrics prometheus.Registerer

	// Dial opens the TCP connection; nil uses a net.Dialer. Tests inject
	// one; the bot never resolves names itself.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.User == "" {
		c.User = c.Nick
	}
	if c.RealName == "" {
		c.RealName = "quotesd"
	}
	if c.Prefix == "" {
		c.Prefix = "!"
	}
	if c.SendBurst == 0 {
		c.SendBurst = 4
	}
	if c.Version == "" {
		c.Version = "quotesd"
	}
	def(&c.RejoinDelay, 30*time.Second)
	def(&c.UserCooldown, 10*time.Second)
	def(&c.ChannelCooldown, 3*time.Second)
	def(&c.CTCPInterval, 10*time.Second)
	def(&c.SendInterval, 2*time.Second)
	def(&c.PingInterval, 60*time.Second)
	def(&c.PingTimeout, 30*time.Second)
	def(&c.RegainInterval, 60*time.Second)
	def(&c.RegisterWait, 60*time.Second)
	def(&c.BackoffMin, 2*time.Second)
	def(&c.BackoffMax, 5*time.Minute)
	def(&c.HealthyAfter, time.Minute)
	if c.Dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		c.Dial = d.DialContext
	}
}

// validate reports the first setting that cannot work, naming its flag.
func (c *Config) validate() error {
	if _, port, err := net.SplitHostPort(c.Server); err != nil || port == "" {
		return fmt.Errorf("irc server %q: want host:port", c.Server)
	}
	if !validNick(c.Nick) {
		return fmt.Errorf("irc nick %q: want letters, digits and []\\`_^{|}-, not starting with a digit or dash", c.Nick)
	}
	if !validMiddle(c.User) {
		return fmt.Errorf("irc user %q: want one word", c.User)
	}
	if sanitize(c.RealName) != c.RealName || sanitize(c.Password) != c.Password {
		return errors.New("irc real name and password must be printable text on one line")
	}
	if c.SASLUser != "" {
		if !c.TLS {
			return errors.New("irc SASL PLAIN sends the password in the clear: it needs TLS")
		}
		if c.SASLPassword == "" {
			return errors.New("irc SASL user given without a password")
		}
	}
	if c.Daily != "" {
		if _, _, err := parseClock(c.Daily); err != nil {
			return err
		}
	}
	if strings.ContainsAny(c.Prefix, " \r\n\x00") {
		return fmt.Errorf("irc prefix %q: no spaces", c.Prefix)
	}
	if c.SendBurst < 0 {
		return fmt.Errorf("irc send burst %d: want 1 or more lines", c.SendBurst)
	}
	if c.PingInterval < 0 || c.PingTimeout < 0 {
		return fmt.Errorf("irc ping interval %v (timeout %v): want positive durations", c.PingInterval, c.PingTimeout)
	}
	return nil
}

// validNick follows RFC 2812's nickname grammar, without its length limit
// (servers announce theirs).
func validNick(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', strings.IndexByte("[]\\`_^{|}", c) >= 0:
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// parseClock parses "HH:MM".
func parseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hour > 23 || minute > 59 || hour < 0 || minute < 0 {
		return 0, 0, fmt.Errorf("irc daily time %q: want HH:MM, 24-hour clock", s)
	}
	return hour, minute, nil
}

// Bot is the IRC frontend: one network, any number of channels.
type Bot struct {
	cfg   Config
	q     quoter.Quoter
	cal   *quoter.Calendar
	log   *slog.Logger
	daily *daily // nil when no daily post is configured
	stats *metrics

	userCD, chanCD, ctcpCD *cooldown
	prefix                 atomic.Pointer[string] // Config.Prefix, changed by SetLive
}

// Live are the settings a running bot can change (SetLive, on SIGHUP).
type Live struct {
	Prefix          string
	UserCooldown    time.Duration // as in Config: 0 the default, negative none
	ChannelCooldown time.Duration
	CTCPInterval    time.Duration
	Daily           string // "HH:MM"; can move the daily post, not turn it on or off
}

// SetLive applies l to the running bot: commands read from then on use the
// new prefix and cooldowns, and the daily post moves to the new time (a day
// already posted is not posted again). It checks l first and changes
// nothing if a setting is wrong.
func (b *Bot) SetLive(l Live) error {
	c := Config{Prefix: l.Prefix, UserCooldown: l.UserCooldown, ChannelCooldown: l.ChannelCooldown,
		CTCPInterval: l.CTCPInterval, Daily: l.Daily}
	c.setDefaults()
	if strings.ContainsAny(c.Prefix, " \r\n\x00") {
		return fmt.Errorf("irc prefix %q: no spaces", c.Prefix)
	}
	if (c.Daily == "") != (b.daily == nil) {
		return errors.New("irc daily post: turning it on or off takes a restart; the time can change live")
	}
	var hour, minute int
	if c.Daily != "" {
		var err error
		if hour, minute, err = parseClock(c.Daily); err != nil {
			return err
		}
	}
	b.prefix.Store(&c.Prefix)
	b.userCD.setPeriod(c.UserCooldown)
	b.chanCD.setPeriod(c.ChannelCooldown)
	b.ctcpCD.setPeriod(c.CTCPInterval)
	if b.daily != nil {
		b.daily.setClock(hour, minute)
	}
	return nil
}

// commandPrefix is the command prefix in force.
func (b *Bot) commandPrefix() string { return *b.prefix.Load() }

// New checks cfg and returns a Bot that will answer from q, deciding what
// "today" is with cal. It does not connect: Serve does.
func New(cfg Config, q quoter.Quoter, cal *quoter.Calendar, log *slog.Logger) (*Bot, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cal == nil {
		cal = &quoter.Calendar{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{cfg: cfg, q: q, cal: cal, log: log, stats: newMetrics(cfg.Metrics)}
	now := cal.Time
	b.userCD = newCooldown(cfg.UserCooldown, now)
	b.chanCD = newCooldown(cfg.ChannelCooldown, now)
	b.ctcpCD = newCooldown(cfg.CTCPInterval, now)
	b.prefix.Store(&cfg.Prefix)
	if cfg.Daily != "" {
		d, err := newDaily(cfg.Daily, cfg.DailyStateFile, cfg.Channels, cal, log)
		if err != nil {
			return nil, err
		}
		b.daily = d
	}
	return b, nil
}

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
	bo := backoff{Min: b.cfg.BackoffMin, Max: b.cfg.BackoffMax}
	for {
		start := time.Now()
		registered, err := b.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if reactor.IsPermanent(err) {
			b.log.Error("irc giving up", "server", b.cfg.Server, "err", err)
			return err
		}
		if registered && time.Since(start) >= b.cfg.HealthyAfter {
			bo.reset()
		}
		wait := bo.next()
		b.log.Warn("irc disconnected", "server", b.cfg.Server, "err", err, "retry_in", wait.Round(time.Millisecond).String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
