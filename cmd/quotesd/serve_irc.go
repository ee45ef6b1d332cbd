package main

import (
	"path/filepath"

	"github.com/quotesd/quotesd/frontends/irc"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[irc.Config, *irc.Bot]{
		name:  "irc",
		start: ircStart,
		// Anyone in a channel may submit a quote, and curators change the
		// library: the bot writes whenever it runs.
		writes:  func(cfg irc.Config) bool { return cfg.Server != "" },
		apply:   (*irc.Bot).SetLive, // the prefix, cooldowns, CTCP rate and daily time; the connection is kept
		inForce: (*irc.Bot).Config,
	})
}

// ircStart starts the bot when --irc-server is set, adding to cfg, which
// holds the settings, what the bot takes from serve.
func ircStart(env *serveEnv, cfg irc.Config) (*irc.Bot, []reactor.Service, error) {
	if cfg.Server == "" {
		return nil, nil, nil
	}
	cfg.Version = "quotesd " + build.Version
	if env.Metrics != nil {
		cfg.Metrics = env.Metrics
	}
	var claims *dailyClaims
	switch {
	case env.Cluster != nil:
		// Several replicas: the daily posts are recorded in the database,
		// claimed by the leader before each is sent.
		claims = &dailyClaims{prefix: "irc-daily:"}
		cfg.DailyClaims = claims
	case cfg.Daily != "" && env.StateDir != "":
		cfg.DailyStateFile = filepath.Join(env.StateDir, "irc-daily.json")
	}
	bot, err := irc.New(cfg, env.Library, env.Calendar, env.Log)
	if err != nil {
		return nil, nil, err
	}
	// The bot reconnects by itself; what its Serve returns is marked
	// permanent already (the server refused its password or SASL account).
	if env.Cluster == nil {
		return bot, []reactor.Service{bot}, nil
	}
	// Every replica may be configured with the bot: the one holding the
	// "irc" lease runs it.
	leader, err := env.Cluster.leader("irc", bot, env.Log, env.Metrics)
	if err != nil {
		return nil, nil, err
	}
	claims.leader = leader
	return bot, []reactor.Service{leader}, nil
}
