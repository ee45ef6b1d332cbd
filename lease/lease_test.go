package lease_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/lease"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/reactor"
)

// fast is a timing short enough for tests, with the same proportions as
// the defaults.
func fast(holder string) lease.Config {
	return lease.Config{Role: "bot", Holder: holder, TTL: 1500 * time.Millisecond, Renew: 300 * time.Millisecond, Margin: 450 * time.Millisecond}
}

// probe is a service that records when it runs.
type probe struct {
	name string
	mu   sync.Mutex
	runs []span
	fail error // returned at once when set
}

type span struct{ start, stop time.Time }

func (p *probe) Serve(ctx context.Context) error {
	p.mu.Lock()
	p.runs = append(p.runs, span{start: time.Now()})
	fail := p.fail
	p.mu.Unlock()
	if fail == nil {
		<-ctx.Done()
	}
	p.mu.Lock()
	p.runs[len(p.runs)-1].stop = time.Now()
	p.mu.Unlock()
	return fail
}

func (p *probe) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.runs) > 0 && p.runs[len(p.runs)-1].stop.IsZero()
}

func (p *probe) spans() []span {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]span(nil), p.runs...)
}

func openPool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	db, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := lease.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// replica is one Leader serving in the background.
type replica struct {
	l      *lease.Leader
	p      *probe
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, db *pgxpool.Pool, cfg lease.Config) *replica {
	t.Helper()
	r := &replica{p: &probe{name: cfg.Holder}, reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	var err error
	r.l, err = lease.NewLeader(db, cfg, r.p, nil, r.reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.l.Serve(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop ends the replica's Serve, as a shutdown does, and waits for it.
func (r *replica) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel = nil
}

// eventually waits up to d for cond, failing with what otherwise.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leaders(rs []*replica) (n int, which *replica) {
	for _, r := range rs {
		if r.p.running() {
			n++
			which = r
		}
	}
	return n, which
}

func TestLeader_ExactlyOneReplicaRunsTheService(t *testing.T) {
	db := openPool(t, pgtest.NewDatabase(t))
	rs := []*replica{start(t, db, fast("a")), start(t, db, fast("b")), start(t, db, fast("c"))}
	eventually(t, 5*time.Second, "no replica runs the service", func() bool { n, _ := leaders(rs); return n > 0 })
	_, first := leaders(rs)
	// Over several lease lengths, the same one replica keeps running it.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if n, l := leaders(rs); n != 1 || l != first {
			t.Fatalf("%d replicas run the service (want 1, the first leader %s, throughout)", n, first.p.name)
		}
	}
	for _, r := range rs {
		want := 0.0
		if r == first {
			want = 1
		}
		if got := value(t, r, "quotesd_lease_leader", ""); got != want {
			t.Errorf("replica %s: quotesd_lease_leader = %v, want %v", r.p.name, got, want)
		}
		if len(r.p.spans()) > 1 {
			t.Errorf("replica %s ran the service %d times, want at most once", r.p.name, len(r.p.spans()))
		}
	}
}

// value reads this replica's series of a lease metric: the gauge, or the
// transitions counter's series to "to".
func value(t *testing.T, r *replica, name, to string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "to" && lp.GetValue() == to {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{to=%q}", name, to)
	return 0
}

func transitions(t *testing.T, r *replica, to string) float64 {
	t.Helper()
	return value(t, r, "quotesd_lease_transitions_total", to)
}

func TestLeader_ShutdownReleasesTheLeaseToAnother(t *testing.T) {
	db := openPool(t, pgtest.NewDatabase(t))
	a := start(t, db, fast("a"))
	eventually(t, 5*time.Second, "a does not lead", a.p.running)
	b := start(t, db, fast("b"))
	a.stop()
	if a.p.running() {
		t.Fatal("a's service still runs after a's Serve returned")
	}
	eventually(t, 5*time.Second, "b does not lead after a shut down", b.p.running)
	if got := transitions(t, a, "leader"); got != 1 {
		t.Errorf("a's transitions to leader = %v, want 1", got)
	}
	if got := transitions(t, a, "follower"); got != 1 {
		t.Errorf("a's transitions to follower = %v, want 1", got)
	}
	if got := transitions(t, b, "follower"); got != 0 {
		t.Errorf("b's transitions to follower = %v, want 0", got)
	}
}

func TestLeader_ServiceFailureIsReturnedAndFreesTheLease(t *testing.T) {
	db := openPool(t, pgtest.NewDatabase(t))
	boom := errors.New("boom")
	a := &probe{name: "a", fail: boom}
	l, err := lease.NewLeader(db, fast("a"), a, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := start(t, db, fast("b"))
	eventually(t, 5*time.Second, "b does not lead", b.p.running)
	b.stop()
	err = l.Serve(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Serve returned %v, want the service's error %v", err, boom)
	}
	if l.Leading() {
		t.Error("Leading() after the service failed")
	}
	c := start(t, db, fast("c"))
	eventually(t, 5*time.Second, "c does not lead after a's service failed", c.p.running)

	permanent := reactor.Permanent(errors.New("refused"))
	d := &probe{name: "d", fail: permanent}
	c.stop()
	ld, err := lease.NewLeader(db, fast("d"), d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ld.Serve(context.Background()); !reactor.IsPermanent(err) {
		t.Errorf("Serve returned %v, want the service's permanent error", err)
	}
}

func TestLeader_RefusesATimingThatCannotRenew(t *testing.T) {
	cfg := fast("a")
	cfg.Renew = cfg.TTL - cfg.Margin
	if _, err := lease.NewLeader(nil, cfg, &probe{}, nil, nil); err == nil {
		t.Error("NewLeader accepted Renew = TTL - Margin")
	}
}

// proxy forwards connections to the PostgreSQL server until cut; then it
// drops everything in both directions, in silence, as a partition does.
type proxy struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go p.accept()
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	defer c.Close()
	if p.cut.Load() {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	go p.pipe(s, c)
	p.pipe(c, s)
}

// pipe copies from src to dst until cut, then swallows what src sends.
func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if !p.cut.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

// through returns dbURL reached through the proxy, with application_name.
func (p *proxy) through(t *testing.T, dbURL, app string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestLeader_PartitionedLeaderStopsBeforeAnotherTakesOver(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	u, _ := url.Parse(dbURL)
	px := newProxy(t, u.Host)
	db := openPool(t, dbURL)
	a := start(t, openPool(t, px.through(t, dbURL, "partitioned")), fast("a"))
	eventually(t, 5*time.Second, "a does not lead", a.p.running)
	b := start(t, db, fast("b"))

	// The partition: a's packets are dropped from now on, and the
	// server ends a's sessions (a does not hear of it).
	px.cut.Store(true)
	if _, err := db.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'partitioned'`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "b does not lead after a was partitioned", b.p.running)
	as, bs := a.p.spans(), b.p.spans()
	if len(as) != 1 || as[0].stop.IsZero() {
		t.Fatalf("a's service runs: %+v", as)
	}
	if !as[0].stop.Before(bs[0].start) {
		t.Errorf("a stopped at %s, after b started at %s: both led at once", as[0].stop.Format(time.StampMicro), bs[0].start.Format(time.StampMicro))
	}
	if a.l.Leading() {
		t.Error("a's Leading() is true while partitioned")
	}
	if _, err := a.l.Claim(context.Background(), "k", time.Now()); !errors.Is(err, lease.ErrNotLeader) {
		t.Errorf("a's Claim while partitioned: %v, want ErrNotLeader", err)
	}

	// The partition heals: b keeps the lease, a follows.
	px.cut.Store(false)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if a.p.running() || !b.p.running() {
			t.Fatal("after the partition healed, the lease moved back to a")
		}
	}
}

func TestClaim_OncePerKeyAndDayAcrossLeaders(t *testing.T) {
	db := openPool(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	a := start(t, db, fast("a"))
	eventually(t, 5*time.Second, "a does not lead", a.p.running)
	b := start(t, db, fast("b"))
	day := time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC)
	claim := func(r *replica, key string, d time.Time) (bool, error) {
		t.Helper()
		return r.l.Claim(ctx, key, d)
	}
	steps := []struct {
		name    string
		r       *replica
		key     string
		day     time.Time
		want    bool
		wantErr error
	}{
		{"FirstClaim", a, "irc:#q", day, true, nil},
		{"SameDayAgain", a, "irc:#q", day, false, nil},
		{"SameDayOtherTime", a, "irc:#q", day.Add(10 * time.Hour), false, nil},
		{"OtherKey", a, "irc:#other", day, true, nil},
		{"EarlierDay", a, "irc:#q", day.AddDate(0, 0, -1), false, nil},
		{"NextDay", a, "irc:#q", day.AddDate(0, 0, 1), true, nil},
		{"Follower", b, "irc:#q", day.AddDate(0, 0, 2), false, lease.ErrNotLeader},
	}
	for _, s := range steps {
		got, err := claim(s.r, s.key, s.day)
		if got != s.want || !errors.Is(err, s.wantErr) {
			t.Errorf("%s: Claim = %v, %v; want %v, %v", s.name, got, err, s.want, s.wantErr)
		}
	}
	a.stop()
	eventually(t, 5*time.Second, "b does not lead after a shut down", b.p.running)
	if got, err := claim(b, "irc:#q", day.AddDate(0, 0, 1)); got || err != nil {
		t.Errorf("the new leader claimed a day the old one had: %v, %v", got, err)
	}
	if got, err := claim(b, "irc:#q", day.AddDate(0, 0, 2)); !got || err != nil {
		t.Errorf("the new leader's claim of a new day: %v, %v; want true", got, err)
	}
}

func TestClaim_RefusedWhenTheLeaseWasTakenUnderTheLeader(t *testing.T) {
	db := openPool(t, pgtest.NewDatabase(t))
	cfg := fast("a")
	// A long lease, so that only the database can say a was deposed.
	cfg.TTL, cfg.Renew, cfg.Margin = time.Minute, 30*time.Second, time.Second
	a := start(t, db, cfg)
	eventually(t, 5*time.Second, "a does not lead", a.p.running)
	if _, err := db.Exec(context.Background(), `UPDATE leases SET holder = 'usurper', token = token + 1`); err != nil {
		t.Fatal(err)
	}
	if got, err := a.l.Claim(context.Background(), "irc:#q", time.Now()); got || !errors.Is(err, lease.ErrNotLeader) {
		t.Errorf("Claim by a deposed leader = %v, %v; want false, ErrNotLeader", got, err)
	}
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM lease_claims`).Scan(&n); err != nil || n != 0 {
		t.Errorf("claims recorded: %d (%v), want 0", n, err)
	}
}

func TestMigrate_ReplicasStartingTogether(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := pgxpool.New(context.Background(), dbURL)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- lease.Migrate(context.Background(), db)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Migrate beside other replicas: %v", err)
		}
	}
}
