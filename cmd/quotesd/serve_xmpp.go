package main

import (
	"path/filepath"

	"github.com/quotesd/quotesd/frontends/xmpp"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[xmpp.Config, *xmpp.Bot]{
		name:    "xmpp",
		start:   xmppStart,
		apply:   (*xmpp.Bot).SetLive, // the prefix, cooldowns, version rate and daily time; the connection is kept
		inForce: (*xmpp.Bot).Config,
	})
}

// xmppStart starts the bot when --xmpp-jid is set, adding to cfg, which
// holds the settings, what the bot takes from serve.
func xmppStart(env *serveEnv, cfg xmpp.Config) (*xmpp.Bot, []reactor.Service, error) {
	if cfg.JID == "" {
		return nil, nil, nil
	}
	cfg.Version = build.Version
	if env.Metrics != nil {
		cfg.Metrics = env.Metrics
	}
	var claims *dailyClaims
	switch {
	case env.Cluster != nil:
		// Several replicas: the daily posts are recorded in the database,
		// claimed by the leader before each is sent.
		claims = &dailyClaims{prefix: "xmpp-daily:"}
		cfg.DailyClaims = claims
	case cfg.Daily != "" && env.StateDir != "":
		cfg.DailyStateFile = filepath.Join(env.StateDir, "xmpp-daily.json")
	}
	bot, err := xmpp.New(cfg, env.Library, env.Calendar, env.Log)
	if err != nil {
		return nil, nil, err
	}
	if env.Cluster == nil {
		return bot, []reactor.Service{bot}, nil
	}
	// Every replica may be configured with the bot: the one holding the
	// "xmpp" lease runs it (one account, one presence in each room).
	leader, err := env.Cluster.leader("xmpp", bot, env.Log, env.Metrics)
	if err != nil {
		return nil, nil, err
	}
	claims.leader = leader
	return bot, []reactor.Service{leader}, nil
}
