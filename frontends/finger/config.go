package finger

import (
	"fmt"
	"time"

	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --finger-* settings.
const (
	DefaultAddr         = "127.0.0.1:7979"
	DefaultMaxConns     = 1024
	DefaultReadTimeout  = 5 * time.Second
	DefaultWriteTimeout = 5 * time.Second
)

// Config is the Finger frontend's settings. Limits follow the settings
// package's rule: 0 is no limit, except where Validate refuses it.
type Config struct {
	Addr string // TCP address; "" disables the frontend

	// MaxConns caps connections being answered at once; an excess
	// connection is closed at once, without a reply. 0 means no cap.
	MaxConns int
	// ConnRate, when positive, caps connections per second from one
	// client (burst: the rate rounded up); excess connections are closed.
	ConnRate float64

	// ReadTimeout bounds the wait for the query line: a client that never
	// sends its newline is cut then. It may not be 0.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one reply; 0 means no bound.
	WriteTimeout time.Duration
}

// DefaultConfig returns the settings of a `quotesd serve` given no
// --finger-* flag.
func DefaultConfig() Config {
	var c Config
	c.Declare(settings.New("finger"))
	return c
}

// Declare binds c's fields to the --finger-* settings on s.
func (c *Config) Declare(s *settings.Set) {
	s.String(&c.Addr, "finger-addr", DefaultAddr, "RFC 1288 Finger: `address` to listen on (systemd socket name: finger, port 79); empty disables; the default, on loopback, reaches this machine only", settings.Example(":79"))
	s.Int(&c.MaxConns, "finger-max-conns", DefaultMaxConns, "most Finger connections answered at once; more are closed unanswered; 0 for no cap", settings.Live)
	s.Float(&c.ConnRate, "finger-conn-rate", 0, "most Finger connections per second from one client (an IPv4 address or an IPv6 /64); 0 for no limit", settings.Live)
	s.Duration(&c.ReadTimeout, "finger-read-timeout", DefaultReadTimeout, "how long a client may take to send its query line; not 0: a client that never sends it would hold its connection", settings.Live)
	s.Duration(&c.WriteTimeout, "finger-write-timeout", DefaultWriteTimeout, "how long writing one reply may take; 0 for no bound", settings.Live)
}

// Validate checks c, naming the flag at fault.
func (c *Config) Validate() error {
	for _, l := range []struct {
		name string
		v    float64
	}{{"finger-max-conns", float64(c.MaxConns)}, {"finger-conn-rate", c.ConnRate}, {"finger-write-timeout", float64(c.WriteTimeout)}} {
		if l.v < 0 {
			return fmt.Errorf("invalid --%s %v: want 0 (no limit) or more", l.name, l.v)
		}
	}
	if c.ReadTimeout <= 0 {
		return fmt.Errorf("invalid --finger-read-timeout %v: want more than 0 (a client that never sends its query would hold its connection forever)", c.ReadTimeout)
	}
	return nil
}
