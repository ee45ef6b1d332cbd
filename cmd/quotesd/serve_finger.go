package main

import (
	"github.com/quotesd/quotesd/frontends/finger"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[finger.Config, *finger.Server]{
		name:    "finger",
		start:   fingerStart,
		apply:   func(srv *finger.Server, cfg finger.Config) error { srv.SetConfig(cfg); return nil },
		inForce: (*finger.Server).Config,
	})
}

func fingerStart(env *serveEnv, cfg finger.Config) (*finger.Server, []reactor.Service, error) {
	if cfg.Addr == "" {
		return nil, nil, nil
	}
	ln, err := reactor.ListenOneShot(env.Listeners, "finger", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	srv := finger.NewServer(env.Library, env.Calendar, env.Log, env.Metrics, cfg)
	return srv, []reactor.Service{srv.TCP(ln)}, nil
}
