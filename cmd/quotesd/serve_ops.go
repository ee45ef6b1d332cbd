package main

import (
	"net"
	"sync/atomic"

	"github.com/quotesd/quotesd/ops"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[ops.Settings, *opsLive]{
		name:      "ops",
		start:     opsStart,
		apply:     func(l *opsLive, c ops.Settings) error { l.h.SetPprof(c.Pprof); l.cfg.Store(&c); return nil },
		inForce:   func(l *opsLive) ops.Settings { return *l.cfg.Load() },
		auxiliary: true,
	})
}

// opsLive is the running operations listener's handler and settings.
type opsLive struct {
	h   *ops.Handler
	cfg atomic.Pointer[ops.Settings]
}

func opsStart(env *serveEnv, c ops.Settings) (*opsLive, []reactor.Service, error) {
	if c.Addr == "" {
		return nil, nil, nil
	}
	cfg := ops.Config{Metrics: env.Metrics, Library: env.Library, Pprof: c.Pprof, Log: env.Log}
	if env.Ready != nil {
		cfg.Ready = env.Ready.Err // components add checks after this start; Err reads them when asked
	}
	h, err := ops.NewHandler(cfg)
	if err != nil {
		return nil, nil, err
	}
	ln, err := env.Listeners.Listen("ops", c.Addr)
	if err != nil {
		return nil, nil, err
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		env.Log.Warn("the operations endpoints are reachable from other hosts: firewall them, or bind --ops-addr to loopback", "addr", a.String(), "pprof", c.Pprof)
	}
	live := &opsLive{h: h}
	live.cfg.Store(&c)
	return live, []reactor.Service{ops.NewServer(ln, h, env.Log)}, nil
}
