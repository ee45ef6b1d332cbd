package qotd

import (
	"fmt"
	"time"

	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --qotd-* settings.
const (
	DefaultAddr          = "127.0.0.1:1717"
	DefaultMode          = Daily
	DefaultMaxConns      = 1024
	DefaultUDPRate       = 1
	DefaultUDPGlobalRate = 100
	DefaultWriteTimeout  = 5 * time.Second
)

// Config is the QOTD frontend's settings. Limits follow the settings
// package's rule: 0 is no limit, except where Validate refuses it.
type Config struct {
	Addr    string // TCP address; "" disables TCP
	UDPAddr string // UDP address; "" (the default) disables UDP

	Mode  Mode // Daily (also the zero value) or Random
	ASCII bool // transliterate replies to ASCII

	// MaxConns caps TCP connections being answered at once; an excess
	// connection is closed at once, without a reply. 0 means no cap.
	// Answering takes microseconds, so the cap only bites in a flood, and
	// then closing sheds the load for less than making clients wait would.
	MaxConns int
	// ConnRate, when positive, caps TCP connections per second from one
	// client (burst: the rate rounded up); excess connections are closed.
	ConnRate float64

	// UDPRate caps replies per second to one source address (burst: the
	// rate rounded up); UDPGlobalRate caps replies per second overall.
	// Excess datagrams are dropped silently, and counted. UDP QOTD is a
	// traffic amplifier, so neither may be 0 while UDP is on.
	UDPRate       float64
	UDPGlobalRate float64

	// WriteTimeout bounds writing one reply; 0 means no bound.
	WriteTimeout time.Duration
}

// DefaultConfig returns the settings of a `quotesd serve` given no
// --qotd-* flag.
func DefaultConfig() Config {
	var c Config
	c.Declare(settings.New("qotd"))
	return c
}

// Declare binds c's fields to the --qotd-* settings on s.
func (c *Config) Declare(s *settings.Set) {
	s.String(&c.Addr, "qotd-addr", DefaultAddr, "RFC 865 QOTD over TCP: `address` to listen on (systemd socket name: qotd); empty disables; the default, on loopback, reaches this machine only", settings.Example("127.0.0.1:17"))
	s.String(&c.UDPAddr, "qotd-udp-addr", "", "QOTD over UDP: `address` to listen on (systemd socket name: qotd-udp); empty (the default) disables: UDP QOTD is a traffic amplifier", settings.Example("127.0.0.1:17"))
	c.Mode = DefaultMode
	s.Var(&c.Mode, "qotd-mode", "`mode`: daily (today's quote for everyone, as 'quotesd today') or random", settings.Live, settings.Example("random"))
	s.Int(&c.MaxConns, "qotd-max-conns", DefaultMaxConns, "most TCP connections answered at once; more are closed unanswered; 0 for no cap", settings.Live)
	s.Float(&c.ConnRate, "qotd-conn-rate", 0, "most TCP connections per second from one client (an IPv4 address or an IPv6 /64); 0 for no limit", settings.Live)
	s.Float(&c.UDPRate, "qotd-udp-rate", DefaultUDPRate, "most UDP replies per second to one client (an IPv4 address or an IPv6 /64)", settings.Live)
	s.Float(&c.UDPGlobalRate, "qotd-udp-global-rate", DefaultUDPGlobalRate, "most UDP replies per second in all", settings.Live)
	s.Bool(&c.ASCII, "qotd-ascii", false, "transliterate quotes to ASCII (curly quotes, dashes, ellipsis; '?' for the rest)", settings.Live)
	s.Duration(&c.WriteTimeout, "qotd-write-timeout", DefaultWriteTimeout, "how long writing one reply may take; 0 for no bound", settings.Live)
}

// Validate checks c, naming the flag at fault.
func (c *Config) Validate() error {
	if _, err := ParseMode(string(c.Mode)); err != nil && c.Mode != "" {
		return fmt.Errorf("invalid --qotd-mode %q: want daily or random", c.Mode)
	}
	for _, l := range []struct {
		name string
		v    float64
	}{{"qotd-max-conns", float64(c.MaxConns)}, {"qotd-conn-rate", c.ConnRate}, {"qotd-udp-rate", c.UDPRate}, {"qotd-udp-global-rate", c.UDPGlobalRate}, {"qotd-write-timeout", float64(c.WriteTimeout)}} {
		if l.v < 0 {
			return fmt.Errorf("invalid --%s %v: want 0 (no limit) or more", l.name, l.v)
		}
	}
	if c.UDPAddr != "" && (c.UDPRate == 0 || c.UDPGlobalRate == 0) {
		return fmt.Errorf("--qotd-udp-rate and --qotd-udp-global-rate must be above 0 while --qotd-udp-addr is set: UDP QOTD answers forged sources, so it needs its limits")
	}
	return nil
}

// String returns the mode's name.
func (m Mode) String() string { return string(m) }

// Set parses a --qotd-mode value.
func (m *Mode) Set(s string) error {
	v, err := ParseMode(s)
	if err != nil {
		return fmt.Errorf("want daily or random")
	}
	*m = v
	return nil
}
