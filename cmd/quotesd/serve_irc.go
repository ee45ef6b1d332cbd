package main

import (
	"crypto/tls"
	"path/filepath"
	"sync/atomic"
	"time"

	"quotesd/frontends/irc"
	"quotesd/reactor"
	"quotesd/settings"
)

// ircConfig is the IRC bot's settings. The passwords are secrets, so
// they never show in ps: they come from files or the environment.
type ircConfig struct {
	server          string
	tls             bool
	tlsInsecure     bool
	nick            string
	user            string
	realname        string
	channels        string
	password        string
	saslUser        string
	saslPassword    string
	prefix          string
	daily           string
	rejoinDelay     time.Duration
	userCooldown    time.Duration
	channelCooldown time.Duration
	ctcpInterval    time.Duration
	sendInterval    time.Duration
	sendBurst       int
	pingInterval    time.Duration
}

func init() {
	register(frontend[ircConfig, *ircLive]{
		name:    "irc",
		start:   ircStart,
		apply:   ircApply,
		inForce: func(l *ircLive) ircConfig { return *l.cfg.Load() },
	})
}

// Declare binds c's fields to the --irc-* settings on s.
func (c *ircConfig) Declare(s *settings.Set) {
	s.String(&c.server, "irc-server", "", "IRC server `host:port` to connect the quote bot to; empty (the default) disables the bot", settings.Example("127.0.0.1:6697"))
	s.Bool(&c.tls, "irc-tls", true, "connect to the IRC server with TLS, verifying its certificate")
	s.Bool(&c.tlsInsecure, "irc-tls-insecure", false, "accept any TLS certificate from the IRC server (for tests only: anyone in the path can read the traffic)")
	s.String(&c.nick, "irc-nick", "quotesd", "the bot's `nick`; while it is taken an alternative is used and the nick regained later", settings.Example("quotebot"))
	s.String(&c.user, "irc-user", "", "IRC user `name` (ident); default the nick", settings.Example("quotes"))
	s.String(&c.realname, "irc-realname", "quotesd quote bot", "IRC real `name`", settings.Example("a quote bot"))
	s.String(&c.channels, "irc-channels", "", "comma-separated `channels` to join, each optionally followed by a space and its key: '#quotes,#club key'", settings.Example("#quotes"))
	s.Secret(&c.password, "irc-password", "the IRC server's password (PASS)")
	s.String(&c.saslUser, "irc-sasl-user", "", "SASL PLAIN `account` (needs TLS); its password is the secret irc-sasl-password", settings.Example("quotesd"))
	s.Secret(&c.saslPassword, "irc-sasl-password", "the SASL password")
	s.String(&c.prefix, "irc-prefix", "!", "command `prefix`: !quote, !today, !help", settings.Live, settings.Example("?"))
	s.String(&c.daily, "irc-daily", "", "post the quote of the day to every channel at this local `HH:MM` (--tz), once a day; empty never (the time is live; turning it on or off needs a restart)", settings.Live, settings.Example("07:30"))
	s.Duration(&c.rejoinDelay, "irc-rejoin-delay", 30*time.Second, "wait this long before rejoining a channel after a kick")
	s.Duration(&c.userCooldown, "irc-user-cooldown", 10*time.Second, "one command per user per this `duration`; more are ignored in silence; 0 for none", settings.Live)
	s.Duration(&c.channelCooldown, "irc-channel-cooldown", 3*time.Second, "one command per channel per this `duration`; 0 for none", settings.Live)
	s.Duration(&c.ctcpInterval, "irc-ctcp-interval", 10*time.Second, "answer CTCP VERSION at most once per this `duration`, whoever asks; other CTCP is never answered; 0 for no limit", settings.Live)
	s.Duration(&c.sendInterval, "irc-send-interval", 2*time.Second, "after a burst, send one line per this `duration` (flood protection); 0 for none, only on a server you run")
	s.Int(&c.sendBurst, "irc-send-burst", 4, "lines sent at once before the pacing starts")
	s.Duration(&c.pingInterval, "irc-ping-interval", time.Minute, "after this much silence from the server, PING it; no answer within half as long drops the connection")
}

// Validate checks c, naming the flag at fault.
func (c *ircConfig) Validate() error {
	if _, err := irc.ParseChannels(c.channels); err != nil {
		return usagef("--irc-channels: %v", err)
	}
	if c.saslUser != "" && c.saslPassword == "" {
		return usagef("--irc-sasl-user %q needs a password: set QUOTESD_IRC_SASL_PASSWORD or --irc-sasl-password-file", c.saslUser)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"irc-rejoin-delay", c.rejoinDelay}, {"irc-user-cooldown", c.userCooldown}, {"irc-channel-cooldown", c.channelCooldown}, {"irc-ctcp-interval", c.ctcpInterval}, {"irc-send-interval", c.sendInterval}} {
		if d.v < 0 {
			return usagef("invalid --%s %v: want 0 (none) or more", d.name, d.v)
		}
	}
	if c.sendBurst < 1 {
		return usagef("invalid --irc-send-burst %d: want 1 or more", c.sendBurst)
	}
	if c.pingInterval <= 0 {
		return usagef("invalid --irc-ping-interval %v: want more than 0 (a dead server must be noticed)", c.pingInterval)
	}
	return nil
}

// botConfig turns c into the bot's configuration.
func (c *ircConfig) botConfig(env *serveEnv) (irc.Config, error) {
	channels, err := irc.ParseChannels(c.channels)
	if err != nil {
		return irc.Config{}, usagef("--irc-channels: %v", err)
	}
	cfg := irc.Config{
		Server:       c.server,
		TLS:          c.tls,
		Nick:         c.nick,
		User:         c.user,
		RealName:     c.realname,
		Password:     c.password,
		SASLUser:     c.saslUser,
		SASLPassword: c.saslPassword,
		Channels:     channels,
		Prefix:       c.prefix,
		Daily:        c.daily,
		RejoinDelay:  c.rejoinDelay,
		SendBurst:    c.sendBurst,
		PingInterval: c.pingInterval,
		PingTimeout:  c.pingInterval / 2,
		Version:      "quotesd " + build.Version,
		// Zero means "none" in every setting, but "default" in
		// irc.Config, whose "none" is negative.
		UserCooldown:    noneIfZero(c.userCooldown),
		ChannelCooldown: noneIfZero(c.channelCooldown),
		CTCPInterval:    noneIfZero(c.ctcpInterval),
		SendInterval:    noneIfZero(c.sendInterval),
	}
	if env.Metrics != nil {
		cfg.Metrics = env.Metrics
	}
	if c.tlsInsecure {
		cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for, for tests
	}
	if c.daily != "" && env.StateDir != "" {
		cfg.DailyStateFile = filepath.Join(env.StateDir, "irc-daily.json")
	}
	return cfg, nil
}

func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// ircLive is the running bot and the settings it was given.
type ircLive struct {
	bot *irc.Bot
	cfg atomic.Pointer[ircConfig]
}

func ircStart(env *serveEnv, c ircConfig) (*ircLive, []reactor.Service, error) {
	if c.server == "" {
		return nil, nil, nil
	}
	cfg, err := c.botConfig(env)
	if err != nil {
		return nil, nil, err
	}
	bot, err := irc.New(cfg, env.Quoter, env.Calendar, env.Log)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	if c.tlsInsecure && cfg.TLS {
		env.Log.Warn("irc TLS certificate checks are off (--irc-tls-insecure)")
	}
	live := &ircLive{bot: bot}
	live.cfg.Store(&c)
	// The bot reconnects by itself; what its Serve returns is marked
	// permanent already (the server refused its password or SASL account).
	return live, []reactor.Service{bot}, nil
}

// ircApply applies the bot's live settings: prefix, cooldowns, the CTCP
// rate and the daily posting time. The connection is kept.
func ircApply(live *ircLive, c ircConfig) error {
	err := live.bot.SetLive(irc.Live{
		Prefix:          c.prefix,
		UserCooldown:    noneIfZero(c.userCooldown),
		ChannelCooldown: noneIfZero(c.channelCooldown),
		CTCPInterval:    noneIfZero(c.ctcpInterval),
		Daily:           c.daily,
	})
	if err != nil {
		return err
	}
	live.cfg.Store(&c)
	return nil
}
