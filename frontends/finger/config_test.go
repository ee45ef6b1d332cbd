package finger

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_DefaultsAreValidAndMatchTheConstants(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	want := Config{Addr: DefaultAddr, MaxConns: DefaultMaxConns, ReadTimeout: DefaultReadTimeout, WriteTimeout: DefaultWriteTimeout}
	if c != want {
		t.Errorf("DefaultConfig() = %+v, want %+v", c, want)
	}
}

func TestConfig_ValidateNamesTheFlagAtFault(t *testing.T) {
	for _, tt := range []struct {
		flag string
		edit func(*Config)
	}{
		{"--finger-max-conns", func(c *Config) { c.MaxConns = -1 }},
		{"--finger-conn-rate", func(c *Config) { c.ConnRate = -1 }},
		{"--finger-write-timeout", func(c *Config) { c.WriteTimeout = -time.Second }},
		{"--finger-read-timeout", func(c *Config) { c.ReadTimeout = 0 }},
	} {
		c := DefaultConfig()
		tt.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("%s: Validate() = %v, want an error naming it", tt.flag, err)
		}
	}
}
