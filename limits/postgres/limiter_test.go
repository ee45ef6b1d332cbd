package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/limits/postgres"
)

// t0 is the tests' clock at their start.
var t0 = time.Date(2026, 5, 17, 10, 0, 0, 0, time.UTC)

// clock is a settable clock, shared by the replicas of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// replica is one quotesd's shared limiter, with its log and metrics.
type replica struct {
	*postgres.Limiter
	log *syncBuffer
	reg *prometheus.Registry
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newReplica returns a limiter of r a second in bursts of burst on pool,
// syncing at clk's time (Sync is called by the tests, not by Serve).
func newReplica(pool *pgxpool.Pool, clk *clock, r rate.Limit, burst int) *replica {
	rp := &replica{log: &syncBuffer{}, reg: prometheus.NewRegistry()}
	rp.Limiter = postgres.New(postgres.Config{
		Pool:    pool,
		Log:     slog.New(slog.NewTextHandler(rp.log, nil)),
		Metrics: postgres.NewMetrics(rp.reg),
		Now:     clk.Now,
	})
	rp.SetRate(r, burst)
	return rp
}

func (rp *replica) sync(t *testing.T) {
	t.Helper()
	if err := rp.Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// metric is the value of the replica's series name.
func (rp *replica) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := rp.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func client(addr string) limits.Client { return limits.ClientOf(netip.MustParseAddr(addr)) }

func spend(t *testing.T, rp *replica, c limits.Client, now time.Time, n int) {
	t.Helper()
	for i := range n {
		if wait, ok := rp.Take(c, now); !ok {
			t.Fatalf("%s: token %d of %d refused (wait %v)", c, i+1, n, wait)
		}
	}
}

func wantRefused(t *testing.T, rp *replica, c limits.Client, now time.Time, wantWait time.Duration, why string) {
	t.Helper()
	wait, ok := rp.Take(c, now)
	if ok {
		t.Errorf("%s let through at %v, want refused: %s", c, now.Sub(t0), why)
	} else if wantWait != 0 && wait != wantWait {
		t.Errorf("%s refused at %v with wait %v, want %v", c, now.Sub(t0), wait, wantWait)
	}
}

func TestShared_TwoReplicasShareOneClientsBudget(t *testing.T) {
	pool := newTestDB(t).Pool(t)
	clk := &clock{now: t0}
	a, b := newReplica(pool, clk, 1, 5), newReplica(pool, clk, 1, 5) // one a second, five at once
	c := client("192.0.2.1")

	spend(t, a, c, t0, 5)
	wantRefused(t, a, c, t0, time.Second, "its burst of 5 is spent on A")
	a.sync(t)
	b.sync(t)
	wantRefused(t, b, c, t0, time.Second, "B has read A's use: the budget is one")

	// B lets through the token of 1s, and A learns of it.
	clk.Set(t0.Add(time.Second))
	spend(t, b, c, t0.Add(time.Second), 1)
	b.sync(t)
	a.sync(t)
	wantRefused(t, a, c, t0.Add(time.Second), time.Second, "the token of 1s was spent on B")
	spend(t, a, c, t0.Add(2*time.Second), 1)
}

func TestShared_DistinctClientsAreIndependent(t *testing.T) {
	pool := newTestDB(t).Pool(t)
	clk := &clock{now: t0}
	a, b := newReplica(pool, clk, 1, 3), newReplica(pool, clk, 1, 3)
	x, y := client("192.0.2.1"), client("2001:db8:1:2::1")

	spend(t, a, x, t0, 3)
	a.sync(t)
	b.sync(t)
	wantRefused(t, b, x, t0, time.Second, "x spent its burst on A")
	spend(t, b, y, t0, 2)
	spend(t, a, y, t0, 1) // A had not heard of y: one of three, as B's two are not synced yet
	b.sync(t)
	a.sync(t)
	wantRefused(t, a, y, t0, time.Second, "y spent its burst on both")
	spend(t, a, client("2001:db8:1:3::1"), t0, 3) // another /64
	if got := client("2001:db8:1:2::ffff"); got != y {
		t.Fatalf("the /64's addresses should be one client")
	}
}

func TestShared_UnreachableDatabaseFallsBackToPerReplicaLimits(t *testing.T) {
	db := newTestDB(t)
	pool := db.Pool(t)
	clk := &clock{now: t0}
	a, b := newReplica(pool, clk, 1, 4), newReplica(pool, clk, 1, 4)
	x, z := client("192.0.2.1"), client("192.0.2.9")

	spend(t, a, x, t0, 4)
	a.sync(t)
	b.sync(t)

	db.Unreachable(t)
	for _, rp := range []*replica{a, b} {
		if err := rp.Sync(context.Background()); err == nil {
			t.Fatal("sync succeeded with the database unreachable")
		}
		if !rp.Degraded() {
			t.Error("Degraded() = false after a failed sync")
		}
		if got := rp.metric(t, "quotesd_web_rate_shared_degraded"); got != 1 {
			t.Errorf("quotesd_web_rate_shared_degraded = %v, want 1", got)
		}
		if got := rp.metric(t, "quotesd_web_rate_shared_sync_failures_total"); got != 1 {
			t.Errorf("quotesd_web_rate_shared_sync_failures_total = %v, want 1", got)
		}
		if log := rp.log.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "cannot reach the database") {
			t.Errorf("log says nothing of the outage:\n%s", log)
		}
	}
	// Never unlimited: what was spent stays spent, and a client new to
	// both gets one budget per replica.
	wantRefused(t, a, x, t0, time.Second, "x spent its burst before the outage")
	wantRefused(t, b, x, t0, time.Second, "B had read x's use before the outage")
	spend(t, a, z, t0, 4)
	wantRefused(t, a, z, t0, time.Second, "A limits z alone")
	spend(t, b, z, t0, 4)
	wantRefused(t, b, z, t0, time.Second, "B limits z alone")
	clk.Set(t0.Add(time.Second))
	if err := a.Sync(context.Background()); err == nil {
		t.Fatal("sync succeeded with the database unreachable")
	}
	spend(t, a, z, t0.Add(time.Second), 1)
	wantRefused(t, a, z, t0.Add(time.Second), time.Second, "one token a second, per replica")

	db.Reachable(t)
	a.sync(t)
	if a.Degraded() {
		t.Error("Degraded() = true after a sync succeeded")
	}
	if got := a.metric(t, "quotesd_web_rate_shared_degraded"); got != 0 {
		t.Errorf("quotesd_web_rate_shared_degraded = %v after recovery, want 0", got)
	}
	if !strings.Contains(a.log.String(), "reaches the database again") {
		t.Errorf("log says nothing of the recovery:\n%s", a.log.String())
	}
	// Shared again: A's next token for z is B's to know.
	spend(t, a, z, t0.Add(2*time.Second), 1)
	a.sync(t)
	b.sync(t)
	if b.Degraded() {
		t.Error("B still degraded after a sync succeeded")
	}
}

func TestShared_ClosedPoolFallsBackToPerReplicaLimits(t *testing.T) {
	db := newTestDB(t)
	pool, err := pgxpool.New(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: t0}
	a := newReplica(pool, clk, 1, 2)
	x := client("192.0.2.1")
	spend(t, a, x, t0, 1)
	a.sync(t)
	spend(t, a, x, t0, 1) // pending when the pool closes
	pool.Close()
	if err := a.Sync(context.Background()); err == nil {
		t.Fatal("sync succeeded on a closed pool")
	}
	wantRefused(t, a, x, t0, time.Second, "both tokens are spent, the second one unsynced")
}

func TestShared_TableHoldsOnlyClientsWhoseBucketIsNotFull(t *testing.T) {
	db := newTestDB(t)
	pool := db.Pool(t)
	clk := &clock{now: t0}
	a := newReplica(pool, clk, 1, 10) // an empty bucket fills in 10 s
	rows := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+postgres.Table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for minute := range 3 {
		now := t0.Add(time.Duration(minute) * time.Minute)
		clk.Set(now)
		for i := range 100 {
			spend(t, a, client(fmt.Sprintf("10.%d.0.%d", minute, i)), now, 1)
		}
		a.sync(t)
		// This minute's 100, and none of the minutes before: their
		// buckets are full, so their rows are gone.
		if got := rows(); got != 100 {
			t.Errorf("minute %d: %d rows, want 100", minute, got)
		}
	}
	clk.Set(t0.Add(3 * time.Minute))
	a.sync(t)
	if got := rows(); got != 0 {
		t.Errorf("%d rows once every bucket is full, want 0", got)
	}
	spend(t, a, client("192.0.2.1"), t0.Add(4*time.Minute), 1) // sweeps the clients in memory
	if got := a.Len(); got != 1 {
		t.Errorf("%d clients in memory, want 1", got)
	}
}

func TestShared_NoRateLetsEverythingThroughAndForgets(t *testing.T) {
	pool := newTestDB(t).Pool(t)
	clk := &clock{now: t0}
	a := newReplica(pool, clk, 1, 1)
	x := client("192.0.2.1")
	spend(t, a, x, t0, 1)
	a.SetRate(0, 1)
	spend(t, a, x, t0, 1000)
	if a.Len() != 0 {
		t.Errorf("%d clients in memory with no limit, want 0", a.Len())
	}
	if r, burst := a.Rate(); r != 0 || burst != 1 {
		t.Errorf("Rate() = %v, %d; want 0, 1", r, burst)
	}
}

func TestShared_ServeSyncsUntilStoppedThenFlushes(t *testing.T) {
	pool := newTestDB(t).Pool(t)
	a := postgres.New(postgres.Config{Pool: pool, Interval: time.Hour})
	a.SetRate(1, 5)
	x := client("192.0.2.1")
	now := time.Now()
	for range 5 {
		a.Allow(x, now)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	b := postgres.New(postgres.Config{Pool: pool})
	b.SetRate(1, 5)
	if err := b.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b.Allow(x, now) {
		t.Error("the replica that stopped did not send what it let through")
	}
}

// Bounded and failing closed, as limits.Limiter: a table full of clients
// still being limited refuses a new one, for at most a second, while the
// known ones keep their budgets; once their buckets are full again (and
// their charges sent) they make room.
func TestShared_FullTableRefusesNewClientsAndKeepsKnownOnes(t *testing.T) {
	clk := &clock{now: t0}
	a := newReplica(newTestDB(t).Pool(t), clk, 1, 2) // an empty bucket fills in 2 s
	addr := func(net byte, i int) limits.Client {
		return limits.ClientOf(netip.AddrFrom4([4]byte{net, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	for i := range limits.MaxClients {
		if !a.Allow(addr(10, i), t0) {
			t.Fatalf("client %d refused before the table was full", i)
		}
	}
	a.sync(t)
	wait, ok := a.Take(addr(11, 0), t0.Add(time.Millisecond))
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("a new client with the table full: ok=%v wait=%v, want refused for at most 1s", ok, wait)
	}
	spend(t, a, addr(10, 7), t0.Add(time.Millisecond), 1) // a known client keeps its budget
	clk.Set(t0.Add(time.Second))
	a.sync(t)
	spend(t, a, addr(11, 0), t0.Add(3*time.Second), 1)
	if got := a.Len(); got != 1 {
		t.Errorf("%d clients in memory after the sweep, want 1 (the new one)", got)
	}
}

// The overshoot is what the package documents. Three replicas flooded by
// one client (a request every millisecond on each), syncing every 250 ms:
// in the first interval, before any replica has heard of the others, each
// lets through what its own view allows, up to a burst; what was let
// through beyond the limit is paid back later, so that over minutes the
// total is the burst plus the rate, give or take (replicas-1) x rate x
// interval; and once the client is being limited, each minute lets
// through the rate within that margin.
func TestShared_OvershootIsBoundedByReplicasTimesIntervalTimesRate(t *testing.T) {
	const (
		replicas = 3
		perSec   = 5   // --web-rate 300: 300 a minute,
		burst    = 300 // in bursts of 300
		interval = 250 * time.Millisecond
		step     = time.Millisecond
	)
	pool := newTestDB(t).Pool(t)
	clk := &clock{now: t0}
	var rs []*replica
	for range replicas {
		rs = append(rs, newReplica(pool, clk, perSec, burst))
	}
	c := client("192.0.2.1")
	flood := func(minute int) (granted int) {
		for at := time.Duration(minute) * time.Minute; at < time.Duration(minute+1)*time.Minute; at += step {
			now := t0.Add(at)
			clk.Set(now)
			if at%interval == 0 {
				for _, rp := range rs {
					rp.sync(t)
				}
			}
			for _, rp := range rs {
				if rp.Allow(c, now) {
					granted++
				}
			}
		}
		return granted
	}
	margin := int(float64(replicas-1)*perSec*interval.Seconds()) + 1
	var minutes []int
	total := 0
	for m := range 4 {
		minutes = append(minutes, flood(m))
		total += minutes[m]
	}
	t.Logf("let through, minute by minute: %v (the limit: a burst of %d, then %d a minute)", minutes, burst, 60*perSec)
	if max := replicas*burst + 60*perSec; minutes[0] > max {
		t.Errorf("first minute: %d let through, want at most %d (a burst from each replica, and the rate)", minutes[0], max)
	}
	if max := burst + 4*60*perSec + margin; total > max {
		t.Errorf("four minutes: %d let through, want at most %d (a burst, the rate, and (replicas-1) x rate x interval)", total, max)
	}
	if got, min, max := minutes[3], 60*perSec-margin, 60*perSec+margin; got < min || got > max {
		t.Errorf("fourth minute, the client long limited: %d let through, want %d to %d", got, min, max)
	}
}
