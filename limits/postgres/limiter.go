// Package postgres is the shared rate limiter: one budget per
// limits.Client across every replica of quotesd that shares a PostgreSQL
// database, for --web-rate-shared.
//
// It is limits.Limiter's token bucket (a burst, then a steady rate;
// the exact wait in the answer), kept as GCRA does: a client's state is
// one time, its theoretical arrival time (TAT), the moment its bucket
// would be full again. A request at now is let through when, charged one
// emission interval T = 1/rate, the TAT stays within burst*T of now.
// Two charges add up whatever their order, so replicas can add theirs to
// the database's in any order, in batches.
//
// No request waits for the database. Each replica decides in memory from
// the client's TAT as last read from the database plus what it has let
// through since, and a background loop (Serve, every Interval) sends
// those charges in one statement and reads back the TAT of the clients
// charged and of the clients most used anywhere. mailgun's gubernator
// does the same with its GLOBAL behaviour (local decisions, hits sent to
// the key's owner in batches, its answer broadcast); envoy asks its
// global rate limit service on every request, a local token bucket in
// front only sparing it load: a round trip per request, which the web's
// budget cannot afford. The price is a bounded overshoot: between two
// syncs each replica spends what it last saw left. For a client that is
// being limited that is what the rate gives back in one interval, so all
// replicas together let through at most (replicas-1) x rate x interval
// more than one limiter would (with 3 replicas, 300 a minute and 250 ms:
// about 3 requests); a new client that reaches every replica in the same
// interval may get up to a burst from each, once, and is then refused
// until it has paid that back: over minutes, the total let through is the
// burst plus the rate, within (replicas-1) x rate x interval
// (TestShared_OvershootIsBoundedByReplicasTimesIntervalTimesRate).
//
// When the database cannot be reached, each replica falls back to its
// own per-replica limit (the same token bucket, in memory only): never
// unlimited, and said in the log and in quotesd_web_rate_shared_degraded.
// The table is unlogged (a crash of the database forgives budgets,
// nothing else) and holds only clients whose bucket is not full: rows
// whose TAT has passed are deleted.
package postgres

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
)

// DefaultInterval is how often a Limiter syncs with the database.
const DefaultInterval = 250 * time.Millisecond

// How often the clients in memory are swept for those with a full
// bucket, and at most how often while the table is full; as in limits.
const (
	sweepEvery     = time.Minute
	fullSweepEvery = time.Second
)

// Config is what a Limiter needs.
type Config struct {
	Pool     *pgxpool.Pool    // what Sync and Serve use; deciding needs none
	Log      *slog.Logger     // nil means slog.Default()
	Metrics  *Metrics         // nil means none
	Interval time.Duration    // 0 means DefaultInterval
	Now      func() time.Time // the clock of the syncs; nil means time.Now
}

// Limiter is a token bucket per limits.Client shared through PostgreSQL:
// see the package doc. It has limits.Limiter's methods and meaning, and
// the same bounds: at most limits.MaxClients clients in memory, a new
// one refused when that many are still in use (fail closed).
type Limiter struct {
	cfg Config
	log *slog.Logger

	off atomic.Bool // no limit: Take lets everything through without locking

	mu        sync.Mutex
	step      int64 // T, the emission interval, in µs; 0 when off
	tau       int64 // burst*T in µs: how far ahead of now a TAT may be
	burst     int
	clients   map[limits.Client]*entry
	dirty     []limits.Client // charged since the last sync
	lastSweep int64           // µs since the epoch
	degraded  bool            // the database is out of reach: limit per replica

	syncMu     sync.Mutex // one sync at a time
	schemaOK   bool       // the table is known to exist
	lastDelete int64      // µs since the epoch of the last deletion of full buckets
}

// entry is one client's state. Times are µs since the Unix epoch, charges
// µs of TAT.
type entry struct {
	tat      int64 // as last read from the database, or kept here while degraded
	pending  int64 // charged here since the last sync
	inflight int64 // charged here and being sent by the sync in progress
	dirty    bool  // in Limiter.dirty
}

// New returns a limiter that lets everything through until SetRate sets a
// rate; Serve must run for it to share anything.
func New(cfg Config) *Limiter {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, log: cfg.Log, clients: map[limits.Client]*entry{}}
	l.off.Store(true)
	return l
}

// SetRate changes the rate, r tokens a second, and the burst (at least
// 1), as limits.Limiter.SetRate does. A client keeps what it has spent,
// counted in time: its TAT. A rate of 0 or less (or rate.Inf) means no
// limit, and forgets every client in memory.
func (l *Limiter) SetRate(r rate.Limit, burst int) {
	burst = max(burst, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if r <= 0 || r == rate.Inf {
		l.off.Store(true)
		l.step, l.tau, l.burst = 0, 0, burst
		clear(l.clients)
		l.dirty = nil
		return
	}
	// In µs: rates above a million a second count as a million.
	l.step = max(int64(float64(time.Second/time.Microsecond)/float64(r)+0.5), 1)
	l.tau, l.burst = l.step*int64(burst), burst
	l.off.Store(false)
}

// Rate returns the rate and burst in force; a rate of 0 means no limit.
func (l *Limiter) Rate() (rate.Limit, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.step == 0 {
		return 0, l.burst
	}
	return rate.Limit(float64(time.Second/time.Microsecond) / float64(l.step)), l.burst
}

// Allow takes a token from c's bucket at now, and reports whether there
// was one.
func (l *Limiter) Allow(c limits.Client, now time.Time) bool {
	_, ok := l.Take(c, now)
	return ok
}

// Take takes a token from c's bucket at now, and reports whether there
// was one; when there was none, wait is how long until there is one, as
// far as this replica knows (limits.Limiter.Take). It never waits for the
// database.
func (l *Limiter) Take(c limits.Client, now time.Time) (wait time.Duration, ok bool) {
	if l.off.Load() {
		return 0, true
	}
	n := now.UnixMicro()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.step == 0 {
		return 0, true // switched off since the check above
	}
	if since := n - l.lastSweep; since >= sweepEvery.Microseconds() || len(l.clients) >= limits.MaxClients && since >= fullSweepEvery.Microseconds() {
		l.sweep(n)
	}
	e := l.clients[c]
	if e == nil {
		if len(l.clients) >= limits.MaxClients {
			return max(fullSweepEvery-time.Duration(n-l.lastSweep)*time.Microsecond, time.Millisecond), false
		}
		e = &entry{}
		l.clients[c] = e
	}
	tat := max(e.tat, n) + e.pending + e.inflight + l.step
	if over := tat - n - l.tau; over > 0 {
		return time.Duration(over) * time.Microsecond, false
	}
	if l.degraded {
		e.tat = tat
		return 0, true
	}
	e.pending += l.step
	if !e.dirty {
		e.dirty = true
		l.dirty = append(l.dirty, c)
	}
	return 0, true
}

// Len returns the number of clients in memory.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// Degraded reports whether the limiter limits per replica because its
// last sync failed.
func (l *Limiter) Degraded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.degraded
}

// sweep forgets the clients whose bucket is full (their TAT has passed)
// and that have nothing to send: a new entry would be the same.
func (l *Limiter) sweep(now int64) {
	for c, e := range l.clients {
		if e.tat <= now && e.pending == 0 && e.inflight == 0 && !e.dirty {
			delete(l.clients, c)
		}
	}
	l.lastSweep = now
}
