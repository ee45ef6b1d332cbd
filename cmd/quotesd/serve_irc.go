package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"quotesd/frontends/irc"
	"quotesd/reactor"
)

// ircFlags are the --irc-* flags (see the contract at the top of serve.go).
// The SASL password has no flag, so it never shows in ps: it comes from
// QUOTESD_IRC_SASL_PASSWORD or from --irc-sasl-password-file.
var ircFlags struct {
	server           string
	tls              bool
	tlsInsecure      bool
	nick             string
	user             string
	realname         string
	channels         string
	password         string
	saslUser         string
	saslPasswordFile string
	prefix           string
	daily            string
	rejoinDelay      time.Duration
	userCooldown     time.Duration
	channelCooldown  time.Duration
	ctcpInterval     time.Duration
	sendInterval     time.Duration
	sendBurst        int
	pingInterval     time.Duration
}

func init() {
	components = append(components, component{
		name:   "irc",
		flags:  ircRegister,
		start:  ircStart,
		reload: ircReload,
	})
}

func ircRegister(fs *flag.FlagSet) {
	f := &ircFlags
	fs.StringVar(&f.server, "irc-server", "", "IRC server `host:port` to connect the quote bot to; empty (the default) disables the bot")
	fs.BoolVar(&f.tls, "irc-tls", true, "connect to the IRC server with TLS, verifying its certificate")
	fs.BoolVar(&f.tlsInsecure, "irc-tls-insecure", false, "accept any TLS certificate from the IRC server (for tests only: anyone in the path can read the traffic)")
	fs.StringVar(&f.nick, "irc-nick", "quotesd", "the bot's `nick`; while it is taken an alternative is used and the nick regained later")
	fs.StringVar(&f.user, "irc-user", "", "IRC user `name` (ident); default the nick")
	fs.StringVar(&f.realname, "irc-realname", "quotesd quote bot", "IRC real `name`")
	fs.StringVar(&f.channels, "irc-channels", "", "comma-separated `channels` to join, each optionally followed by a space and its key: '#quotes,#club key'")
	fs.StringVar(&f.password, "irc-password", "", "server `password` (PASS); prefer QUOTESD_IRC_PASSWORD to the command line")
	fs.StringVar(&f.saslUser, "irc-sasl-user", "", "SASL PLAIN `account` (needs TLS); the password comes from QUOTESD_IRC_SASL_PASSWORD or --irc-sasl-password-file")
	fs.StringVar(&f.saslPasswordFile, "irc-sasl-password-file", "", "`file` holding the SASL password (one line)")
	fs.StringVar(&f.prefix, "irc-prefix", "!", "command `prefix`: !quote, !today, !help (live)")
	fs.StringVar(&f.daily, "irc-daily", "", "post the quote of the day to every channel at this local `HH:MM` (--tz), once a day; empty never (the time is live; turning it on or off needs a restart)")
	fs.DurationVar(&f.rejoinDelay, "irc-rejoin-delay", 30*time.Second, "wait this long before rejoining a channel after a kick")
	fs.DurationVar(&f.userCooldown, "irc-user-cooldown", 10*time.Second, "one command per user per this `duration`; more are ignored in silence; 0 for none (live)")
	fs.DurationVar(&f.channelCooldown, "irc-channel-cooldown", 3*time.Second, "one command per channel per this `duration`; 0 for none (live)")
	fs.DurationVar(&f.ctcpInterval, "irc-ctcp-interval", 10*time.Second, "answer CTCP VERSION at most once per this `duration`, whoever asks; other CTCP is never answered (live)")
	fs.DurationVar(&f.sendInterval, "irc-send-interval", 2*time.Second, "after a burst, send one line per this `duration` (flood protection); 0 for none, only on a server you run")
	fs.IntVar(&f.sendBurst, "irc-send-burst", 4, "lines sent at once before the pacing starts")
	fs.DurationVar(&f.pingInterval, "irc-ping-interval", time.Minute, "after this much silence from the server, PING it; no answer within half as long drops the connection")
}

// ircConfig turns the flags (and the password variables) into the bot's
// configuration.
func ircConfig(env *serveEnv) (irc.Config, error) {
	f := &ircFlags
	channels, err := irc.ParseChannels(f.channels)
	if err != nil {
		return irc.Config{}, usagef("--irc-channels: %v", err)
	}
	cfg := irc.Config{
		Server:       f.server,
		TLS:          f.tls,
		Nick:         f.nick,
		User:         f.user,
		RealName:     f.realname,
		Password:     f.password,
		SASLUser:     f.saslUser,
		Channels:     channels,
		Prefix:       f.prefix,
		Daily:        f.daily,
		RejoinDelay:  f.rejoinDelay,
		SendBurst:    f.sendBurst,
		PingInterval: f.pingInterval,
		PingTimeout:  f.pingInterval / 2,
		Version:      "quotesd " + version,
		// Zero means "none" on the command line, but "default" in
		// irc.Config, whose "none" is negative.
		UserCooldown:    noneIfZero(f.userCooldown),
		ChannelCooldown: noneIfZero(f.channelCooldown),
		CTCPInterval:    noneIfZero(f.ctcpInterval),
		SendInterval:    noneIfZero(f.sendInterval),
	}
	if env.Metrics != nil {
		cfg.Metrics = env.Metrics
	}
	if f.tlsInsecure {
		cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for, for tests
	}
	if f.saslUser != "" {
		cfg.SASLPassword = os.Getenv("QUOTESD_IRC_SASL_PASSWORD")
		if f.saslPasswordFile != "" {
			b, err := os.ReadFile(f.saslPasswordFile)
			if err != nil {
				return irc.Config{}, fmt.Errorf("--irc-sasl-password-file: %w", err)
			}
			cfg.SASLPassword = strings.TrimRight(string(b), "\r\n")
		}
		if cfg.SASLPassword == "" {
			return irc.Config{}, usagef("--irc-sasl-user %q needs a password: set QUOTESD_IRC_SASL_PASSWORD or --irc-sasl-password-file", f.saslUser)
		}
	}
	if f.daily != "" && env.StateDir != "" {
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

func ircStart(env *serveEnv) ([]reactor.Service, error) {
	if ircFlags.server == "" {
		return nil, nil
	}
	cfg, err := ircConfig(env)
	if err != nil {
		return nil, err
	}
	bot, err := irc.New(cfg, env.Quoter, env.Calendar, env.Log)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if ircFlags.tlsInsecure && cfg.TLS {
		env.Log.Warn("irc TLS certificate checks are off (--irc-tls-insecure)")
	}
	env.Data = bot
	// The bot reconnects by itself; what its Serve returns is marked
	// permanent already (the server refused its password or SASL account).
	return []reactor.Service{bot}, nil
}

// ircReload applies the bot's live settings: prefix, cooldowns, the CTCP
// rate and the daily posting time. The connection is kept; the rest
// (server, nick, channels, TLS, pacing) takes effect at the next start.
func ircReload(env *serveEnv) error {
	bot, ok := env.Data.(*irc.Bot)
	if !ok {
		return nil // disabled at start
	}
	f := &ircFlags
	err := bot.SetLive(irc.Live{
		Prefix:          f.prefix,
		UserCooldown:    noneIfZero(f.userCooldown),
		ChannelCooldown: noneIfZero(f.channelCooldown),
		CTCPInterval:    noneIfZero(f.ctcpInterval),
		Daily:           f.daily,
	})
	if err != nil {
		return err
	}
	env.Log.Info("settings applied", "prefix", f.prefix, "user_cooldown", f.userCooldown.String(),
		"channel_cooldown", f.channelCooldown.String(), "ctcp_interval", f.ctcpInterval.String(), "daily", f.daily)
	return nil
}
