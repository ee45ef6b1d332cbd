package xmpp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"mellium.im/xmpp/jid"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --xmpp-* settings.
const (
	DefaultPrefix         = "!"
	DefaultRejoinDelay    = 30 * time.Second
	DefaultUserCooldown   = 10 * time.Second
	DefaultRoomCooldown   = 3 * time.Second
	DefaultVersionPeriod  = 10 * time.Second
	DefaultSendInterval   = time.Second
	DefaultSendBurst      = 4
	DefaultPingInterval   = time.Minute
	DefaultRegainInterval = time.Minute
)

// Defaults of the fields that are not settings: how the bot keeps itself
// on the network. Declare sets them too, so that a Config read from the
// settings is complete.
const (
	DefaultConnectWait  = time.Minute
	DefaultBackoffMin   = 2 * time.Second
	DefaultBackoffMax   = 5 * time.Minute
	DefaultHealthyAfter = time.Minute
	// DefaultMaxStanza bounds what the bot keeps of one stanza it reads:
	// a message body past it is not a command. Servers bound stanzas
	// themselves (Prosody at 256 KiB by default); this bound is the
	// bot's own, whatever the server does.
	DefaultMaxStanza = 16 << 10
)

// Config is the bot's configuration: the --xmpp-* settings (Declare), the
// fields of the same kind that are not settings, and what the caller
// provides at start (Metrics, Dial, TLSConfig, Version, DailyStateFile,
// DailyClaims). Limits follow the settings package's rule: 0 is none,
// except where Validate refuses it. Build one from DefaultConfig, or from
// Declare.
type Config struct {
	JID      string // the bot's account, user@host (a resource is bound by the server); "" disables the bot
	Password string
	// Server is host:port to connect to instead of looking up the
	// domain's SRV records: for operators without DNS for it, and for
	// tests, which must never resolve anything.
	Server    string
	DirectTLS bool        // TLS from the first byte (XEP-0368) instead of STARTTLS
	CAFile    string      // PEM certificates to trust instead of the system's; "" the system's
	TLSConfig *tls.Config // nil: from CAFile, server name the JID's domain

	Rooms  []Room
	Prefix string

	Daily          string // "HH:MM": post the quote of the day to every room then; "" never
	DailyStateFile string // where the last posted day per room is kept across restarts; "" in memory
	// DailyClaims, when set, is where the posts are recorded instead of
	// DailyStateFile: a record several replicas share.
	DailyClaims chat.DailyClaims

	RejoinDelay    time.Duration // wait after a kick before rejoining; 0 rejoins at once
	UserCooldown   time.Duration // one command per user per this; 0 for none
	RoomCooldown   time.Duration // one command per room per this; 0 for none
	VersionPeriod  time.Duration // answer version queries (XEP-0092) at most once per this; 0 for no limit
	SendInterval   time.Duration // pacing after the burst; 0 for none (only on a server one runs)
	SendBurst      int           // stanzas sent before the pacing starts; at least 1
	PingInterval   time.Duration // ping the server (XEP-0199) this often; no answer within half as long drops the connection; above 0
	RegainInterval time.Duration // while a room's nick is taken, ask for it back this often; 0: only when its holder leaves

	ConnectWait  time.Duration // connecting, TLS, authentication and binding must finish within this; above 0
	BackoffMin   time.Duration // first reconnect wait; above 0
	BackoffMax   time.Duration // longest reconnect wait; at least BackoffMin
	HealthyAfter time.Duration // a session this long resets the backoff; 0: any session does
	MaxStanza    int           // bytes of a stanza the bot reads; past them it is ignored; above 0

	Version string // answered to version queries; "" says "quotesd"

	// Metrics, when set, gets the bot's counters (quotesd_xmpp_*).
	Metrics prometheus.Registerer

	// Dial opens the TCP connection to Server; nil uses a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultConfig returns the settings of a `quotesd serve` given no
// --xmpp-* flag (the bot off: no JID), and the defaults of the other
// fields.
func DefaultConfig() Config {
	var c Config
	c.Declare(settings.New("xmpp"))
	return c
}

// Declare binds the settings among c's fields to the --xmpp-* settings on
// s, and sets the fields that are not settings but have a default to it;
// the rest (Metrics, Dial, TLSConfig, Version, DailyStateFile,
// DailyClaims) are the caller's. The password is a secret: it comes from
// QUOTESD_XMPP_PASSWORD or --xmpp-password-file, never from ps.
func (c *Config) Declare(s *settings.Set) {
	c.ConnectWait, c.BackoffMin, c.BackoffMax, c.HealthyAfter = DefaultConnectWait, DefaultBackoffMin, DefaultBackoffMax, DefaultHealthyAfter
	c.MaxStanza = DefaultMaxStanza
	s.String(&c.JID, "xmpp-jid", "", "the XMPP quote bot's account, `user@host`; empty (the default) disables the bot", settings.Example("quotes@example.org"))
	s.Secret(&c.Password, "xmpp-password", "the XMPP account's password")
	s.String(&c.Server, "xmpp-server", "", "connect to this `host:port` instead of looking up the JID's domain in DNS (SRV records)", settings.Example("127.0.0.1:5222"))
	s.Bool(&c.DirectTLS, "xmpp-direct-tls", false, "TLS from the first byte (XEP-0368, port 5223) instead of STARTTLS; TLS is required either way")
	s.String(&c.CAFile, "xmpp-ca-file", "", "PEM `file` of the certificates to trust for the XMPP server instead of the system's (a private CA)", settings.Example("/etc/quotesd/xmpp-ca.pem"))
	c.Rooms = nil
	s.Var((*roomList)(&c.Rooms), "xmpp-rooms", "comma-separated multi-user chat `rooms` to join, each room@service, optionally followed by '/' and the bot's nickname there and by ':' and the room's password", settings.Example("quotes@conference.example.org/quotebot"))
	s.String(&c.Prefix, "xmpp-prefix", DefaultPrefix, "command `prefix`: !quote, !today, !help", settings.Live, settings.Example("?"))
	s.String(&c.Daily, "xmpp-daily", "", "post the quote of the day to every room at this local `HH:MM` (--tz), once a day; empty never (the time is live; turning it on or off needs a restart)", settings.Live, settings.Example("07:30"))
	s.Duration(&c.RejoinDelay, "xmpp-rejoin-delay", DefaultRejoinDelay, "wait this long before rejoining a room after a kick")
	s.Duration(&c.UserCooldown, "xmpp-user-cooldown", DefaultUserCooldown, "one command per user per this `duration`; more are ignored in silence; 0 for none", settings.Live)
	s.Duration(&c.RoomCooldown, "xmpp-room-cooldown", DefaultRoomCooldown, "one command per room per this `duration`; 0 for none", settings.Live)
	s.Duration(&c.VersionPeriod, "xmpp-version-interval", DefaultVersionPeriod, "answer software version queries (XEP-0092) at most once per this `duration`, whoever asks; 0 for no limit", settings.Live)
	s.Duration(&c.SendInterval, "xmpp-send-interval", DefaultSendInterval, "after a burst, send one message per this `duration`, under the server's rate limits; 0 for none, only on a server you run")
	s.Int(&c.SendBurst, "xmpp-send-burst", DefaultSendBurst, "messages sent at once before the pacing starts")
	s.Duration(&c.PingInterval, "xmpp-ping-interval", DefaultPingInterval, "ping the XMPP server this often; no answer within half as long drops the connection")
	s.Duration(&c.RegainInterval, "xmpp-regain-interval", DefaultRegainInterval, "while the bot's nickname in a room is taken, ask for it back this often; 0 only when its holder leaves")
}

// Validate checks c, naming the flag at fault (or the field, for those
// that are not settings). It holds whether or not JID is set: a bad
// setting is refused before anything starts, and on reload.
func (c *Config) Validate() error {
	if c.JID != "" {
		j, err := jid.Parse(c.JID)
		if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
			return fmt.Errorf("invalid --xmpp-jid %q: want user@host, without a resource", c.JID)
		}
		if c.Password == "" {
			return fmt.Errorf("--xmpp-jid %q needs a password: set QUOTESD_XMPP_PASSWORD or --xmpp-password-file", c.JID)
		}
	}
	if c.Server != "" {
		if host, port, err := net.SplitHostPort(c.Server); err != nil || host == "" || port == "" {
			return fmt.Errorf("invalid --xmpp-server %q: want host:port", c.Server)
		}
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return fmt.Errorf("invalid --xmpp-ca-file: %v", err)
		}
	}
	for _, r := range c.Rooms {
		if err := r.check(); err != nil {
			return fmt.Errorf("invalid --xmpp-rooms: %v", err)
		}
	}
	if c.Prefix == "" || strings.ContainsAny(c.Prefix, " \r\n\x00") || !utf8.ValidString(c.Prefix) {
		return fmt.Errorf("invalid --xmpp-prefix %q: want one or more characters, no spaces", c.Prefix)
	}
	if c.Daily != "" {
		if _, _, err := chat.ParseClock(c.Daily); err != nil {
			return fmt.Errorf("invalid --xmpp-daily %q: %v", c.Daily, err)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"xmpp-rejoin-delay", c.RejoinDelay}, {"xmpp-user-cooldown", c.UserCooldown}, {"xmpp-room-cooldown", c.RoomCooldown}, {"xmpp-version-interval", c.VersionPeriod}, {"xmpp-send-interval", c.SendInterval}, {"xmpp-regain-interval", c.RegainInterval}} {
		if d.v < 0 {
			return fmt.Errorf("invalid --%s %v: want 0 (none) or more", d.name, d.v)
		}
	}
	if c.SendBurst < 1 {
		return fmt.Errorf("invalid --xmpp-send-burst %d: want 1 or more", c.SendBurst)
	}
	if c.PingInterval <= 0 {
		return fmt.Errorf("invalid --xmpp-ping-interval %v: want more than 0 (a dead server must be noticed)", c.PingInterval)
	}
	switch {
	case c.HealthyAfter < 0:
		return fmt.Errorf("xmpp Config.HealthyAfter %v: want 0 or more", c.HealthyAfter)
	case c.ConnectWait <= 0:
		return fmt.Errorf("xmpp Config.ConnectWait %v: want more than 0 (a server that never finishes the handshake must not hold the bot)", c.ConnectWait)
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("xmpp Config.BackoffMin %v, BackoffMax %v: want 0 < BackoffMin <= BackoffMax (reconnecting must not hammer the server)", c.BackoffMin, c.BackoffMax)
	case c.MaxStanza <= 0:
		return fmt.Errorf("xmpp Config.MaxStanza %d: want more than 0", c.MaxStanza)
	}
	return nil
}

// Room is a multi-user chat room (XEP-0045) to join.
type Room struct {
	JID      string // room@service, the bare room address
	Nick     string // the bot's nickname there; "" is the account's localpart
	Password string // the room's password; "" for none
}

// String returns the room as --xmpp-rooms lists it.
func (r Room) String() string {
	s := r.JID
	if r.Nick != "" {
		s += "/" + r.Nick
	}
	if r.Password != "" {
		s += ":" + r.Password
	}
	return s
}

// check reports whether r can be joined: a bare room address, a nickname
// that makes a valid occupant address, a password of printable text.
func (r Room) check() error {
	j, err := jid.Parse(r.JID)
	if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
		return fmt.Errorf("xmpp room %q: want room@service, optionally followed by /nick and :password", r.String())
	}
	if r.Nick != "" {
		if _, err := j.WithResource(r.Nick); err != nil || clean(r.Nick) != r.Nick {
			return fmt.Errorf("xmpp room %q: nickname %q is not a valid occupant name", r.String(), r.Nick)
		}
	}
	if clean(r.Password) != r.Password {
		return fmt.Errorf("xmpp room %q: the password must be printable text", r.JID)
	}
	return nil
}

// ParseRooms parses a comma-separated list of rooms, each
// room@service[/nick][:password]: the nickname runs from the first '/' to
// the first ':' after it, the password is the rest. Errors name the entry.
func ParseRooms(s string) ([]Room, error) {
	rs := splitRooms(s)
	for _, r := range rs {
		if err := r.check(); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func splitRooms(s string) []Room {
	var out []Room
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var r Room
		addr, rest, hasNick := strings.Cut(f, "/")
		if hasNick {
			r.Nick, r.Password, _ = strings.Cut(rest, ":")
			if r.Nick == "" {
				addr += "/" // "room@service/" names no nickname: check refuses it
			}
		} else {
			addr, r.Password, _ = strings.Cut(addr, ":")
		}
		r.JID = strings.ToLower(addr)
		out = append(out, r)
	}
	return out
}

// roomList is the --xmpp-rooms setting. Set takes any list, so that
// Validate, which checks each room, names the flag at fault.
type roomList []Room

func (l *roomList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, r := range *l {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

func (l *roomList) Set(v string) error {
	*l = splitRooms(v)
	return nil
}
