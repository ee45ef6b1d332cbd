package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/lease"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/reactor"
)

// cluster is how the replicas that share a PostgreSQL database share out
// the work only one of them may do (the IRC bot): through the leases of
// package lease. With SQLite there is one replica and no cluster.
type cluster struct {
	db     *pgxpool.Pool
	timing lease.Config // Holder, TTL, Renew and Margin; each leader adds its role
}

// clusterConns is the size of the leases' own pool: renewals must not
// wait behind the library's queries, or a busy replica would lose its
// leases. One connection renews; the second serves claims meanwhile.
const clusterConns = 2

// openCluster connects to the database at url for the leases and makes
// their tables if missing.
func openCluster(ctx context.Context, url string) (*cluster, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("the --db URL: %w", err)
	}
	cfg.MaxConns = clusterConns
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "quotesd-lease"
	}
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := lease.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &cluster{db: db, timing: lease.Config{
		Holder: lease.NewHolder(), TTL: lease.DefaultTTL, Renew: lease.DefaultRenew, Margin: lease.DefaultMargin,
	}}, nil
}

// Close ends the cluster's connections, after every leader has stopped.
func (c *cluster) Close() { c.db.Close() }

// leader returns the service that runs svc only while this replica holds
// role's lease.
func (c *cluster) leader(role string, svc reactor.Service, log *slog.Logger, reg prometheus.Registerer) (*lease.Leader, error) {
	cfg := c.timing
	cfg.Role = role
	return lease.NewLeader(c.db, cfg, svc, log, reg)
}

// dailyClaims records the IRC bot's daily posts as the IRC leader's
// claims (irc.DailyClaims): one key per channel, the day claimed.
type dailyClaims struct{ leader *lease.Leader }

func (d *dailyClaims) ClaimDaily(ctx context.Context, channel string, day quoter.Date) (bool, error) {
	return d.leader.Claim(ctx, "irc-daily:"+channel, time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, time.UTC))
}
