package main

import (
	"path/filepath"

	"github.com/quotesd/quotesd/frontends/publish"
	"github.com/quotesd/quotesd/reactor"
	"github.com/quotesd/quotesd/settings"
)

func init() {
	register(frontend[publish.Config, *publish.Publisher]{
		name:    "publish",
		start:   publishStart,
		apply:   (*publish.Publisher).SetLive, // the posting time; the targets need a restart
		inForce: (*publish.Publisher).Config,
	})
}

// publishStart starts the daily posts when --publish names a target,
// adding to cfg, which holds the settings, what the publisher takes from
// serve: where it keeps its record, the site's URL, the metrics.
func publishStart(env *serveEnv, cfg publish.Config) (*publish.Publisher, []reactor.Service, error) {
	if len(cfg.Targets) == 0 {
		return nil, nil, nil
	}
	cfg.Version = "quotesd " + build.Version
	cfg.Metrics = env.Metrics
	cfg.SiteURL = env.SiteURL
	var claims *dailyClaims
	if env.Cluster != nil {
		// Several replicas: each post is claimed in the database by the
		// leader before it is sent, as the IRC bot's are.
		claims = &dailyClaims{prefix: "publish-daily:"}
		cfg.Claims = claims
	} else {
		cfg.StateFile = filepath.Join(env.StateDir, "publish-daily.json")
	}
	p, err := publish.New(cfg, env.Library, env.Calendar, env.Log)
	if err != nil {
		return nil, nil, err
	}
	if env.Cluster == nil {
		return p, []reactor.Service{p}, nil
	}
	leader, err := env.Cluster.leader("publish", p, env.Log, env.Metrics)
	if err != nil {
		return nil, nil, err
	}
	claims.leader = leader
	return p, []reactor.Service{leader}, nil
}

// siteURL is the web frontend's --web-base-url in s: the site's public
// URL, which other frontends link to.
func siteURL(s *settings.Set) string {
	if st := s.Lookup("web-base-url"); st != nil {
		return st.Value()
	}
	return ""
}
