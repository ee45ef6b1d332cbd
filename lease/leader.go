package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/ops/metric"
	"github.com/quotesd/quotesd/reactor"
)

// Leader is a reactor.Service that campaigns for a role's lease and runs
// its own service only while it holds it: when the lease is won, the
// service's Serve starts; when it is lost (not renewed in time, or taken
// by another replica after it expired), the service's context ends Margin
// before another replica can take over, and the Leader campaigns again.
// When its own context ends, the Leader stops the service and releases
// the lease, so a replica shut down in order is replaced at once.
//
// A service that returns while leading has failed: the Leader releases the
// lease and returns the service's error (a nil one as an error), so the
// supervisor restarts it, or stops quotesd if the error is permanent.
type Leader struct {
	db  *pgxpool.Pool
	cfg Config
	svc reactor.Service
	log *slog.Logger

	leading     prometheus.Gauge
	transitions *prometheus.CounterVec

	mu  sync.Mutex
	cur term // the term in force; zero while following
}

// NewLeader returns the Leader of cfg.Role on db running svc. Call
// Migrate first. log and reg may be nil.
func NewLeader(db *pgxpool.Pool, cfg Config, svc reactor.Service, log *slog.Logger, reg prometheus.Registerer) (*Leader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := metric.For(reg, "lease")
	l := &Leader{
		db: db, cfg: cfg, svc: svc,
		log: log.With("role", cfg.Role, "holder", cfg.Holder),
		leading: m.GaugeVec("leader", "1 while this replica holds the role's lease and runs its service, else 0", "role").
			WithLabelValues(cfg.Role),
		transitions: m.CounterVecKnown("transitions_total", "changes of this replica's standing for the role: to leader (lease won) or to follower (lost, released or given up)",
			metric.Cross([]string{cfg.Role}, []string{"leader", "follower"}), "role", "to"),
	}
	l.leading.Set(0)
	return l, nil
}

// String names the Leader in the supervisor's logs.
func (l *Leader) String() string { return "lease-" + l.cfg.Role }

// Leading reports whether this replica holds the lease now, by its own
// deadline.
func (l *Leader) Leading() bool {
	_, ok := l.current()
	return ok
}

// current returns the term in force, if its deadline has not passed.
func (l *Leader) current() (term, bool) {
	l.mu.Lock()
	t := l.cur
	l.mu.Unlock()
	return t, t.token != 0 && time.Now().Before(t.deadline)
}

func (l *Leader) setTerm(t term) {
	l.mu.Lock()
	l.cur = t
	l.mu.Unlock()
}

// Serve campaigns until ctx ends: it tries for the lease twice every
// Renew, and leads whenever it wins it. Trying is one statement that
// changes nothing while the lease is held, so a follower can afford to
// try often and take over soon after the lease expires.
func (l *Leader) Serve(ctx context.Context) error {
	reachable := true
	for {
		t, err := l.try(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && reachable:
			l.log.Warn("lease: the database does not answer; following until it does", "err", err)
			reachable = false
		case err == nil && !reachable:
			l.log.Info("lease: the database answers again")
			reachable = true
		}
		if t.token != 0 {
			if err := l.lead(ctx, t); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
		}
		wait := time.NewTimer(l.cfg.Renew / 2)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil
		case <-wait.C:
		}
	}
}

// try asks for the lease once, within Renew.
func (l *Leader) try(ctx context.Context) (term, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Renew)
	defer cancel()
	return acquire(ctx, l.db, l.cfg)
}

// lead runs the service for the term t and renews the lease until the
// term ends: ctx ends (the lease is released), the service returns (its
// error is returned), or the lease is lost.
func (l *Leader) lead(ctx context.Context, t term) error {
	l.setTerm(t)
	l.leading.Set(1)
	l.transitions.WithLabelValues(l.cfg.Role, "leader").Inc()
	l.log.Info("lease won: leading", "token", t.token)

	svcCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- l.svc.Serve(svcCtx) }()

	tick := time.NewTicker(l.cfg.Renew)
	defer tick.Stop()
	expiry := time.NewTimer(time.Until(t.deadline))
	defer expiry.Stop()
	var failed error
	why := ""
	for why == "" {
		select {
		case <-ctx.Done():
			why = "shutting down"
		case err := <-done:
			done <- err // for stepDown, which waits for it
			if ctx.Err() != nil {
				why = "shutting down"
				break
			}
			if err == nil {
				err = errors.New("the service returned while leading")
			}
			failed, why = err, "the service failed"
		case <-expiry.C:
			why = "the lease could not be renewed in time"
		case <-tick.C:
			next, held, err := l.renew(ctx, t)
			switch {
			case !held:
				why = "another replica holds the lease"
			case err != nil:
				l.log.Warn("lease not renewed; retrying until the deadline", "err", err, "deadline_in", time.Until(t.deadline).Round(time.Millisecond).String())
			default:
				t = next
				l.setTerm(t)
				expiry.Reset(time.Until(t.deadline))
			}
		}
	}
	l.stepDown(stop, done, t, why)
	if failed != nil || ctx.Err() != nil {
		l.releaseNow(t)
	}
	if failed != nil {
		if reactor.IsPermanent(failed) {
			return failed
		}
		return fmt.Errorf("while leading: %w", failed)
	}
	return nil
}

// renew renews t within its deadline.
func (l *Leader) renew(ctx context.Context, t term) (term, bool, error) {
	ctx, cancel := context.WithDeadline(ctx, t.deadline)
	defer cancel()
	return renew(ctx, l.db, l.cfg, t)
}

// stepDown ends the term: claims are refused from now on, the service's
// context ends, and the service is waited for. It should stop within the
// margin; if it does not, that is logged, and it is still waited for.
func (l *Leader) stepDown(stop context.CancelFunc, done chan error, t term, why string) {
	l.setTerm(term{})
	stop()
	late := time.NewTimer(l.cfg.Margin)
	defer late.Stop()
	select {
	case <-done:
	case <-late.C:
		l.log.Error("lease: the service did not stop within the margin; another replica may start its own", "margin", l.cfg.Margin.String())
		<-done
	}
	l.leading.Set(0)
	l.transitions.WithLabelValues(l.cfg.Role, "follower").Inc()
	l.log.Info("lease given up: following", "token", t.token, "reason", why)
}

// releaseNow releases t's lease, within Margin, so that another replica
// takes over without waiting for it to expire.
func (l *Leader) releaseNow(t term) {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Margin)
	defer cancel()
	if err := release(ctx, l.db, l.cfg, t); err != nil {
		l.log.Warn("lease not released: another replica takes over when it expires", "err", err)
	}
}
