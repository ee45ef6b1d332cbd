package ops

import "github.com/quotesd/quotesd/settings"

// DefaultAddr is where the operations endpoints listen by default: loopback
// only, for a local Prometheus or an SSH tunnel.
const DefaultAddr = "127.0.0.1:9090"

// Settings are the --ops-* settings; the rest of Config is the caller's.
type Settings struct {
	Addr  string // "" disables the listener
	Pprof bool
}

// Declare binds c's fields to the --ops-* settings on s.
func (c *Settings) Declare(s *settings.Set) {
	s.String(&c.Addr, "ops-addr", DefaultAddr, "operations `address`: /metrics, /livez, /readyz and, with --ops-pprof, /debug/pprof/, for monitoring only (systemd socket name: ops); empty disables", settings.Example("127.0.0.1:9191"))
	s.Bool(&c.Pprof, "ops-pprof", false, "serve Go's profiler under /debug/pprof/ on --ops-addr", settings.Live)
}

// Validate checks c; every address and both values of Pprof are valid.
func (c *Settings) Validate() error { return nil }
