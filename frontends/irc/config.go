package irc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --irc-* settings.
const (
	DefaultTLS             = true
	DefaultNick            = "quotesd"
	DefaultRealName        = "quotesd quote bot"
	DefaultPrefix          = "!"
	DefaultRejoinDelay     = 30 * time.Second
	DefaultUserCooldown    = 10 * time.Second
	DefaultChannelCooldown = 3 * time.Second
	DefaultCTCPInterval    = 10 * time.Second
	DefaultSendInterval    = 2 * time.Second
	DefaultSendBurst       = 4
	DefaultPingInterval    = time.Minute
	DefaultCurationCap     = 20
)

// Defaults of the fields that are not settings: how the bot keeps itself
// on the network. Declare sets them too, so that a Config read from the
// settings is complete.
const (
	DefaultRegainInterval = time.Minute
	DefaultRegisterWait   = time.Minute
	DefaultBackoffMin     = 2 * time.Second
	DefaultBackoffMax     = 5 * time.Minute
	DefaultHealthyAfter   = time.Minute
)

// Config is the bot's configuration: the --irc-* settings (Declare), the
// fields of the same kind that are not settings, and what the caller
// provides at start (Metrics, Dial, TLSConfig, Version, DailyStateFile,
// DailyClaims).
// Limits follow the settings package's rule: 0 is none, except where
// Validate refuses it; nothing negative is valid, and zero never stands
// for a default. Build one from DefaultConfig, or from Declare.
type Config struct {
	Server      string      // host:port; "" disables the bot (for the caller: New needs one)
	TLS         bool        // connect with TLS (certificates verified unless TLSInsecure or TLSConfig say otherwise)
	TLSInsecure bool        // accept any certificate: for tests only
	TLSConfig   *tls.Config // nil: the system's roots, server name from Server

	Nick     string // wanted nick; alternatives are used while it is taken
	User     string // user name (ident); "" means the nick
	RealName string
	Password string // server password (PASS); "" sends none

	SASLUser     string // SASL PLAIN account; needs TLS; "" for no SASL
	SASLPassword string

	Channels []Channel
	Prefix   string // command prefix, such as "!"

	Daily          string // "HH:MM": post the quote of the day to every channel then; "" never
	DailyStateFile string // where the last posted day per channel is kept across restarts; "" in memory
	// DailyClaims, when set, is where the posts are recorded instead of
	// DailyStateFile: a record several replicas share (see chat.DailyClaims).
	DailyClaims chat.DailyClaims

	RejoinDelay     time.Duration // wait after a kick before rejoining; 0 rejoins at once
	UserCooldown    time.Duration // one command per user per this; 0 for none
	ChannelCooldown time.Duration // one command per channel per this; 0 for none
	CTCPInterval    time.Duration // answer CTCP VERSION at most once per this, whoever asks; 0 for no limit
	SendInterval    time.Duration // pacing after the burst; 0 for none (only on a server one runs)
	SendBurst       int           // lines sent before the pacing starts; at least 1

	// PingInterval is how long the server may be silent before we PING
	// it; no answer within half as long again drops the connection. Above
	// 0: a dead server must be noticed.
	PingInterval time.Duration

	// Curators may change the library from IRC: each entry a hostmask
	// glob (nick!user@host, with * and ?) or "account:NAME", a services
	// account (see curator.go). Others' additions go to the moderation
	// queue.
	Curators []Curator
	// OpsCurate makes a channel's operators curators of that channel's
	// own collections.
	OpsCurate bool
	// CurationCap is how many changes (additions, grabs, edits,
	// deletions, submissions) one person may make in a day; 0 for no
	// limit.
	CurationCap int

	RegainInterval time.Duration // try to get the wanted nick back this often; 0: only when its holder is seen leaving
	RegisterWait   time.Duration // registration must finish within this; above 0
	BackoffMin     time.Duration // first reconnect wait; above 0
	BackoffMax     time.Duration // longest reconnect wait; at least BackoffMin
	HealthyAfter   time.Duration // a session this long resets the backoff; 0: any registered session does

	Version string // answered to CTCP VERSION and said when quitting; "" says "quotesd"

	// Metrics, when set, gets the bot's counters (quotesd_irc_*).
	Metrics prometheus.Registerer

	// Dial opens the TCP connection; nil uses a net.Dialer. Tests inject
	// one; the bot never resolves names itself.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultConfig returns the settings of a `quotesd serve` given no --irc-*
// flag (the bot off: no server), and the defaults of the other fields.
func DefaultConfig() Config {
	var c Config
	c.Declare(settings.New("irc"))
	return c
}

// Declare binds the settings among c's fields to the --irc-* settings on
// s, and sets the fields that are not settings but have a default
// (RegainInterval, RegisterWait, BackoffMin, BackoffMax, HealthyAfter) to
// it; the rest (Metrics, Dial, TLSConfig, Version, DailyStateFile,
// DailyClaims) are the caller's. The passwords are secrets, so they never show in ps: they come
// from files or the environment.
func (c *Config) Declare(s *settings.Set) {
	c.RegainInterval, c.RegisterWait = DefaultRegainInterval, DefaultRegisterWait
	c.BackoffMin, c.BackoffMax, c.HealthyAfter = DefaultBackoffMin, DefaultBackoffMax, DefaultHealthyAfter
	s.String(&c.Server, "irc-server", "", "IRC server `host:port` to connect the quote bot to; empty (the default) disables the bot", settings.Example("127.0.0.1:6697"))
	s.Bool(&c.TLS, "irc-tls", DefaultTLS, "connect to the IRC server with TLS, verifying its certificate")
	s.Bool(&c.TLSInsecure, "irc-tls-insecure", false, "accept any TLS certificate from the IRC server (for tests only: anyone in the path can read the traffic)")
	s.String(&c.Nick, "irc-nick", DefaultNick, "the bot's `nick`; while it is taken an alternative is used and the nick regained later", settings.Example("quotebot"))
	s.String(&c.User, "irc-user", "", "IRC user `name` (ident); default the nick", settings.Example("quotes"))
	s.String(&c.RealName, "irc-realname", DefaultRealName, "IRC real `name`", settings.Example("a quote bot"))
	c.Channels = nil
	s.Var((*channelList)(&c.Channels), "irc-channels", "comma-separated `channels` to join, each optionally followed by ':' and the collections it serves, joined by '+' (the first takes its additions), then by a space and its key: '#quotes,#club:club-quotes+classics key'", settings.Example("#quotes"))
	s.Secret(&c.Password, "irc-password", "the IRC server's password (PASS)")
	s.String(&c.SASLUser, "irc-sasl-user", "", "SASL PLAIN `account` (needs TLS); its password is the secret irc-sasl-password", settings.Example("quotesd"))
	s.Secret(&c.SASLPassword, "irc-sasl-password", "the SASL password")
	s.String(&c.Prefix, "irc-prefix", DefaultPrefix, "command `prefix`: !quote, !today, !help", settings.Live, settings.Example("?"))
	s.String(&c.Daily, "irc-daily", "", "post the quote of the day to every channel at this local `HH:MM` (--tz), once a day; empty never (the time is live; turning it on or off needs a restart)", settings.Live, settings.Example("07:30"))
	s.Duration(&c.RejoinDelay, "irc-rejoin-delay", DefaultRejoinDelay, "wait this long before rejoining a channel after a kick")
	s.Duration(&c.UserCooldown, "irc-user-cooldown", DefaultUserCooldown, "one command per user per this `duration`; more are ignored in silence; 0 for none", settings.Live)
	s.Duration(&c.ChannelCooldown, "irc-channel-cooldown", DefaultChannelCooldown, "one command per channel per this `duration`; 0 for none", settings.Live)
	s.Duration(&c.CTCPInterval, "irc-ctcp-interval", DefaultCTCPInterval, "answer CTCP VERSION at most once per this `duration`, whoever asks; other CTCP is never answered; 0 for no limit", settings.Live)
	s.Duration(&c.SendInterval, "irc-send-interval", DefaultSendInterval, "after a burst, send one line per this `duration` (flood protection); 0 for none, only on a server you run")
	s.Int(&c.SendBurst, "irc-send-burst", DefaultSendBurst, "lines sent at once before the pacing starts")
	c.Curators = nil
	s.Var((*curatorList)(&c.Curators), "irc-curators", "comma-separated `curators` who may add, grab, edit, delete and approve quotes from IRC: hostmask globs (nick!user@host, * and ?) or account:NAME for a services account", settings.Live, settings.Example("account:alice,*!*@staff.example.org"))
	s.Bool(&c.OpsCurate, "irc-ops-curate", false, "channel operators are curators of their channel's own collections", settings.Live)
	s.Int(&c.CurationCap, "irc-curation-cap", DefaultCurationCap, "changes (additions, grabs, edits, deletions, submissions) one person may make from IRC per day; 0 for no limit", settings.Live)
	s.Duration(&c.PingInterval, "irc-ping-interval", DefaultPingInterval, "after this much silence from the server, PING it; no answer within half as long drops the connection")
}

// Validate checks c, naming the flag at fault (or the field, for those
// that are not settings). It holds whether or not Server is set: a bad
// setting is refused before anything starts, and on reload.
func (c *Config) Validate() error {
	if c.Server != "" {
		if _, port, err := net.SplitHostPort(c.Server); err != nil || port == "" {
			return fmt.Errorf("invalid --irc-server %q: want host:port", c.Server)
		}
	}
	if !validNick(c.Nick) {
		return fmt.Errorf("invalid --irc-nick %q: want letters, digits and []\\`_^{|}-, not starting with a digit or dash", c.Nick)
	}
	if c.User != "" && !validMiddle(c.User) {
		return fmt.Errorf("invalid --irc-user %q: want one word", c.User)
	}
	if c.RealName == "" || chat.Sanitize(c.RealName) != c.RealName {
		return fmt.Errorf("invalid --irc-realname %q: want some printable text, on one line", c.RealName)
	}
	if chat.Sanitize(c.Password) != c.Password {
		return errors.New("invalid irc-password (--irc-password-file or QUOTESD_IRC_PASSWORD): want printable text on one line")
	}
	for _, ch := range c.Channels {
		if err := ch.check(); err != nil {
			return fmt.Errorf("invalid --irc-channels: %v", err)
		}
	}
	if c.SASLUser != "" {
		if c.SASLPassword == "" {
			return fmt.Errorf("--irc-sasl-user %q needs a password: set QUOTESD_IRC_SASL_PASSWORD or --irc-sasl-password-file", c.SASLUser)
		}
		if !c.TLS {
			return fmt.Errorf("--irc-sasl-user %q needs TLS (--irc-tls): SASL PLAIN sends the password in the clear", c.SASLUser)
		}
	}
	if c.Prefix == "" || strings.ContainsAny(c.Prefix, " \r\n\x00") {
		return fmt.Errorf("invalid --irc-prefix %q: want one or more characters, no spaces", c.Prefix)
	}
	if c.Daily != "" {
		if _, _, err := chat.ParseClock(c.Daily); err != nil {
			return fmt.Errorf("invalid --irc-daily %q: %v", c.Daily, err)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"irc-rejoin-delay", c.RejoinDelay}, {"irc-user-cooldown", c.UserCooldown}, {"irc-channel-cooldown", c.ChannelCooldown}, {"irc-ctcp-interval", c.CTCPInterval}, {"irc-send-interval", c.SendInterval}} {
		if d.v < 0 {
			return fmt.Errorf("invalid --%s %v: want 0 (none) or more", d.name, d.v)
		}
	}
	if c.SendBurst < 1 {
		// irc.v4 would fail every write, and the bot reconnect for ever.
		return fmt.Errorf("invalid --irc-send-burst %d: want 1 or more", c.SendBurst)
	}
	for _, cu := range c.Curators {
		if err := cu.check(); err != nil {
			return fmt.Errorf("invalid --irc-curators: %v", err)
		}
	}
	if c.CurationCap < 0 {
		return fmt.Errorf("invalid --irc-curation-cap %d: want 0 (no limit) or more", c.CurationCap)
	}
	if c.PingInterval <= 0 {
		return fmt.Errorf("invalid --irc-ping-interval %v: want more than 0 (a dead server must be noticed)", c.PingInterval)
	}
	return c.validateInternal()
}

// validateInternal checks the fields that are not settings.
func (c *Config) validateInternal() error {
	switch {
	case c.RegainInterval < 0:
		return fmt.Errorf("irc Config.RegainInterval %v: want 0 (none) or more", c.RegainInterval)
	case c.HealthyAfter < 0:
		return fmt.Errorf("irc Config.HealthyAfter %v: want 0 or more", c.HealthyAfter)
	case c.RegisterWait <= 0:
		return fmt.Errorf("irc Config.RegisterWait %v: want more than 0 (a server that never finishes registration must not hold the bot)", c.RegisterWait)
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("irc Config.BackoffMin %v, BackoffMax %v: want 0 < BackoffMin <= BackoffMax (reconnecting must not hammer the server)", c.BackoffMin, c.BackoffMax)
	}
	return nil
}

// pingTimeout is how long past PingInterval of silence the server has to
// answer our PING: half as long.
func (c *Config) pingTimeout() time.Duration { return c.PingInterval / 2 }

// user is the user name (ident) sent: User, or the nick.
func (c *Config) user() string {
	if c.User == "" {
		return c.Nick
	}
	return c.User
}

// Channel is a channel to join, with its key if it has one, and the
// collections it serves.
type Channel struct {
	Name string
	Key  string
	// Collections are the collections served in the channel, private
	// ones included; the first is where its additions go. None: every
	// public collection is served, and additions go to
	// quoter.DefaultCollection.
	Collections []string
}

// String returns the channel as --irc-channels lists it: the name, its
// collections after ':' joined by '+', and the key after a space.
func (ch Channel) String() string {
	s := ch.Name
	if len(ch.Collections) > 0 {
		s += ":" + strings.Join(ch.Collections, "+")
	}
	if ch.Key != "" {
		s += " " + ch.Key
	}
	return s
}

// check reports whether ch can be joined: a channel name, collection
// names as the core allows them, and a key of one word. RFC 2812 allows no
// ':' in a channel name, so the collections after it cannot be mistaken
// for part of the name.
func (ch Channel) check() error {
	if !isChannel(ch.Name) || !validMiddle(ch.Name) || strings.ContainsRune(ch.Name, ':') {
		return fmt.Errorf("irc channel %q: want a name such as #quotes, optionally followed by ':' and collections, and by a space and the key", ch.String())
	}
	for _, c := range ch.Collections {
		if !validCollection(c) {
			return fmt.Errorf("irc channel %q: collection %q: want lower-case letters, digits and inner dashes, at most %d bytes", ch.String(), c, quoter.MaxCollectionLen)
		}
	}
	if ch.Key != "" && !validMiddle(ch.Key) {
		return fmt.Errorf("irc channel %q: the key must be one word", ch.String())
	}
	return nil
}

// home is the collection the channel's additions go to.
func (ch Channel) home() string {
	if len(ch.Collections) == 0 {
		return quoter.DefaultCollection
	}
	return ch.Collections[0]
}

// validCollection reports whether name is a collection name the core
// accepts (quoter.ValidCollection).
func validCollection(name string) bool { return quoter.ValidCollection(name) == nil }

// ParseChannels parses a comma-separated list of channels, each optionally
// followed by ':' and its collections joined by '+', then by a space and
// its key: "#quotes,#club:club-quotes+classics secret".
// Errors name the entry that is not a channel name.
func ParseChannels(s string) ([]Channel, error) {
	chs := splitChannels(s)
	for _, ch := range chs {
		if err := ch.check(); err != nil {
			return nil, err
		}
	}
	return chs, nil
}

// splitChannels splits a list of channels as ParseChannels does, without
// checking them.
func splitChannels(s string) []Channel {
	var out []Channel
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, key, _ := strings.Cut(f, " ")
		ch := Channel{Key: strings.TrimSpace(key)}
		name, cols, ok := strings.Cut(name, ":")
		ch.Name = name
		if ok {
			ch.Collections = strings.Split(cols, "+")
		}
		out = append(out, ch)
	}
	return out
}

// channelList is the --irc-channels setting. Set takes any list, so that
// Validate, which checks each channel, names the flag at fault.
type channelList []Channel

func (l *channelList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, ch := range *l {
		s[i] = ch.String()
	}
	return strings.Join(s, ",")
}

func (l *channelList) Set(v string) error {
	*l = splitChannels(v)
	return nil
}

// isChannel reports whether target names a channel rather than a user.
// The prefixes are RFC 2812's; servers announce theirs in CHANTYPES, and
// every common one is among these.
func isChannel(target string) bool {
	return target != "" && strings.ContainsRune("#&+!", rune(target[0]))
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
