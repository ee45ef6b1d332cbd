package qotd

import (
	"strings"
	"testing"
)

func TestConfig_DefaultsAreValidAndMatchTheConstants(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	want := Config{Addr: DefaultAddr, Mode: DefaultMode, MaxConns: DefaultMaxConns, UDPRate: DefaultUDPRate, UDPGlobalRate: DefaultUDPGlobalRate, WriteTimeout: DefaultWriteTimeout}
	if c != want {
		t.Errorf("DefaultConfig() = %+v, want %+v", c, want)
	}
}

func TestConfig_ValidateNamesTheFlagAtFault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"negative cap", func(c *Config) { c.MaxConns = -1 }, "--qotd-max-conns"},
		{"negative rate", func(c *Config) { c.ConnRate = -0.5 }, "--qotd-conn-rate"},
		{"negative timeout", func(c *Config) { c.WriteTimeout = -1 }, "--qotd-write-timeout"},
		{"UDP without a per-source limit", func(c *Config) { c.UDPAddr, c.UDPRate = ":17", 0 }, "--qotd-udp-rate"},
		{"UDP without a global limit", func(c *Config) { c.UDPAddr, c.UDPGlobalRate = ":17", 0 }, "--qotd-udp-global-rate"},
		{"unknown mode", func(c *Config) { c.Mode = "hourly" }, "--qotd-mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	// Zero is no limit where that is safe: TCP only, no caps at all.
	c := Config{Addr: ":17"}
	if err := c.Validate(); err != nil {
		t.Errorf("a TCP-only Config without limits: %v, want valid", err)
	}
}
