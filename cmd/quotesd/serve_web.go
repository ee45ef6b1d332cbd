package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/limits/postgres"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[web.Config, *webLive]{
		name:    "web",
		start:   webStart,
		apply:   webApply,
		inForce: func(l *webLive) web.Config { return *l.cfg.Load() },
		writes: func(cfg web.Config) bool {
			return cfg.Addr != "" && (cfg.AdminToken != "" || cfg.Admin || cfg.Submissions)
		},
	})
}

// webLive serves through the handler of the settings in force; a reload
// swaps in a new one, and requests in flight finish on the old. Every
// handler counts requests on the one limiter made at start, so that a
// reload forgives no client what it has spent.
type webLive struct {
	env     *serveEnv
	limiter web.Limiter
	guards  *web.Guards // sign-in and submission budgets, kept across reloads as limiter is
	h       atomic.Pointer[web.Handler]
	cfg     atomic.Pointer[web.Config]
}

func (l *webLive) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.Load().ServeHTTP(w, r) }

// withEnv adds to cfg, which holds the settings, what the web frontend
// takes from serve.
func (l *webLive) withEnv(cfg web.Config) web.Config {
	cfg.Library = l.env.Library
	cfg.Calendar, cfg.Log, cfg.AccessLog, cfg.Metrics = l.env.Calendar, l.env.Log, l.env.AccessLog, l.env.Metrics
	cfg.Limiter, cfg.Guards = l.limiter, l.guards
	if l.env.Between != nil {
		cfg.Subscribers, cfg.Requester = l.env.Between.Subscribers, l.env.Between.Requester
	}
	if l.env.Ready != nil {
		cfg.Ready = l.env.Ready.Err
	}
	return cfg
}

func webStart(env *serveEnv, cfg web.Config) (*webLive, []reactor.Service, error) {
	if cfg.Addr == "" {
		return nil, nil, nil
	}
	live := &webLive{env: env, limiter: limits.NewLimiter(0, 1), guards: web.NewGuards()}
	// The shared limiter's series exist whether it runs or not.
	sharedMetrics := postgres.NewMetrics(env.Metrics)
	var services []reactor.Service
	if cfg.RateShared {
		shared, svc, err := sharedLimiter(env, sharedMetrics)
		if err != nil {
			return nil, nil, err
		}
		live.limiter, services = shared, append(services, svc)
	}
	cfg = live.withEnv(cfg)
	h, err := web.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	ln, err := env.Listeners.Listen("web", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	cfg.WarnUnsetBaseURL(env.Log, ln.Addr())
	cfg.WarnAdminInClear(env.Log, ln.Addr())
	live.h.Store(h)
	live.cfg.Store(&cfg)
	env.Log.Info("web settings", "admin_api", cfg.AdminToken != "", "rate_per_minute", cfg.RateLimit, "rate_shared", cfg.RateShared, "trusted_proxies", len(cfg.TrustedProxies), "access_log", !cfg.NoAccessLog, "ops_endpoints", cfg.Ops,
		"admin_pages", cfg.Admin, "submissions", cfg.Submissions, "private_collections", len(cfg.Collections))
	return live, append([]reactor.Service{web.NewServer(ln, live, env.Log, web.DefaultDrain)}, services...), nil
}

// sharedLimiter returns the limiter of --web-rate-shared on a small pool
// of its own to the --db database, and the service that syncs it. No
// connection is made here: a database out of reach at start makes the
// limiter limit per replica until it answers, and serve starts all the
// same.
func sharedLimiter(env *serveEnv, m *postgres.Metrics) (*postgres.Limiter, reactor.Service, error) {
	pc, err := pgxpool.ParseConfig(env.DB)
	if err != nil {
		return nil, nil, fmt.Errorf("--web-rate-shared: --db: %w", err)
	}
	pc.MaxConns = 2 // one sync at a time, and one spare
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, nil, fmt.Errorf("--web-rate-shared: %w", err)
	}
	l := postgres.New(postgres.Config{Pool: pool, Log: env.Log, Metrics: m})
	return l, sharedLimiterService{l, pool}, nil
}

// sharedLimiterService syncs the shared limiter until serve stops, then
// closes its pool.
type sharedLimiterService struct {
	*postgres.Limiter
	pool *pgxpool.Pool
}

func (s sharedLimiterService) Serve(ctx context.Context) error {
	err := s.Limiter.Serve(ctx)
	if ctx.Err() != nil {
		s.pool.Close()
	}
	return err
}

func webApply(live *webLive, cfg web.Config) error {
	cfg = live.withEnv(cfg)
	h, err := web.New(cfg)
	if err != nil {
		return err
	}
	live.h.Store(h)
	live.cfg.Store(&cfg)
	return nil
}
