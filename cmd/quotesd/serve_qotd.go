package main

import (
	"github.com/quotesd/quotesd/frontends/qotd"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[qotd.Config, *qotd.Server]{
		name:    "qotd",
		start:   qotdStart,
		apply:   func(srv *qotd.Server, cfg qotd.Config) error { srv.SetConfig(cfg); return nil },
		inForce: (*qotd.Server).Config,
	})
}

func qotdStart(env *serveEnv, cfg qotd.Config) (*qotd.Server, []reactor.Service, error) {
	if cfg.Addr == "" && cfg.UDPAddr == "" {
		return nil, nil, nil
	}
	srv := qotd.NewServer(env.Library, env.Calendar, env.Log, env.Metrics, cfg)
	var svcs []reactor.Service
	if cfg.Addr != "" {
		ln, err := reactor.ListenOneShot(env.Listeners, "qotd", cfg.Addr)
		if err != nil {
			return nil, nil, err
		}
		svcs = append(svcs, srv.TCP(ln))
	}
	if cfg.UDPAddr != "" {
		pc, err := env.Listeners.ListenPacket("qotd-udp", cfg.UDPAddr)
		if err != nil {
			for _, s := range svcs {
				s.(*qotd.TCPService).Close()
			}
			return nil, nil, err
		}
		svcs = append(svcs, srv.UDP(pc))
	}
	return srv, svcs, nil
}
