package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
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

	migrated   sync.Once
	migrateErr error
}

// clusterConns is the size of the leases' own pool: renewals must not
// wait behind the library's queries, or a busy replica would lose its
// leases. One connection renews; the second serves claims meanwhile.
const clusterConns = 2

// openCluster makes the leases' pool for the database at url. It does
// not connect yet: a replica that runs nothing under a lease never uses
// it (nor needs the right to create the leases' tables).
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
	return &cluster{db: db, timing: lease.Config{
		Holder: lease.NewHolder(), TTL: lease.DefaultTTL, Renew: lease.DefaultRenew, Margin: lease.DefaultMargin,
	}}, nil
}

// Close ends the cluster's connections, after every leader has stopped.
func (c *cluster) Close() { c.db.Close() }

// leader returns the service that runs svc only while this replica holds
// role's lease. The first one makes the leases' tables if missing.
func (c *cluster) leader(role string, svc reactor.Service, log *slog.Logger, reg prometheus.Registerer) (*lease.Leader, error) {
	c.migrated.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.migrateErr = lease.Migrate(ctx, c.db)
	})
	if c.migrateErr != nil {
		return nil, c.migrateErr
	}
	cfg := c.timing
	cfg.Role = role
	return lease.NewLeader(c.db, cfg, svc, log, reg)
}

// dailyClaims records a chat frontend's daily posts as its leader's
// claims (chat.DailyClaims): one key per target, the frontend's prefix
// ("irc-daily:") then the target, the day claimed.
type dailyClaims struct {
	prefix string
	leader *lease.Leader
}

func (d *dailyClaims) ClaimDaily(ctx context.Context, target string, day quoter.Date) (bool, error) {
	return d.leader.Claim(ctx, d.prefix+target, time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, time.UTC))
}
