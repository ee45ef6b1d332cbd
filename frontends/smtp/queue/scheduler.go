package queue

import (
	"context"
	"fmt"
	"github.com/quotesd/quotesd/ops/metric"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures delivery.
type Config struct {
	// Relay, when set, receives every reply.
	Relay *Relay
	// DirectMX, when set and Relay is not, sends each reply to the MX hosts
	// of the recipient's domain (or its address records when it has no MX),
	// with opportunistic STARTTLS, connecting only to public unicast
	// addresses (publicAddr): the recipient is a sender anyone can forge,
	// whose domain may resolve to a host inside quotesd's network. With
	// neither, replies are held: kept in the queue, not delivered, and
	// dropped only past MaxAge, so that a default configuration never
	// resolves or contacts an outside host and a relay configured later
	// (and a restart) still delivers them.
	DirectMX bool
	// Resolver looks up MX and address records for direct delivery; nil
	// means net.DefaultResolver.
	Resolver Resolver
	// MXPort is the port of MX hosts, "25" unless a test says otherwise.
	MXPort string
	// HeloName is the name quotesd gives in EHLO.
	HeloName string

	// The bounds below are the settings of the mail frontend
	// (--smtp-delivery-concurrency, --smtp-max-age, --smtp-retry-*,
	// --smtp-delivery-timeout; see smtp.Config.Delivery). Delivery has no
	// use for "no bound" in any of them, so each must be positive:
	// NewDelivery panics otherwise, rather than take a zero for a default.

	// Concurrency bounds the destinations (the relay, or recipient domains)
	// delivered to at once; each gets one connection that carries its
	// messages in arrival order.
	Concurrency int
	// MaxAge is how long a reply may wait before it is dropped.
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts, which
	// doubles after each failure, with jitter. A MaxBackoff below
	// MinBackoff is taken as MinBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds connecting and each SMTP command.
	Timeout time.Duration
	// Keep is how long delivered and dropped replies stay in the database
	// (for audit). Default 7 days.
	Keep time.Duration
	// Dial opens connections; nil means a net.Dialer with Timeout, which
	// for direct delivery also refuses, at connect time, any address that
	// is not public (mxDialer). Addresses from the Resolver are checked
	// before any Dial is called; a Dial that resolves names itself must
	// check what it connects to.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Log  *slog.Logger
	// Metrics, when not nil, counts deliveries.
	Metrics *Metrics
	// allowAddr says which addresses direct delivery may connect to; nil
	// means publicAddr. Only tests change it (AllowLoopbackMX in
	// export_test.go), to deliver to sinks on loopback: there is no way
	// to turn the check off from outside the package.
	allowAddr func(netip.Addr) bool
	// depthEvery is how often the depth gauges are set; 0 means the
	// constant depthEvery. Only tests change it (CountDepthEvery).
	depthEvery time.Duration
}

// Metrics counts what delivery does.
type Metrics struct {
	Delivered prometheus.Counter
	Deferred  prometheus.Counter
	Dropped   *prometheus.CounterVec // label reason: dropReasons
	// StoreFailures counts the queue's commits that failed; StoreFailing
	// is 1 while delivery is paused because the queue cannot write its
	// database; Unrecorded is the number of outcomes (most often
	// deliveries) held in memory until it can.
	StoreFailures prometheus.Counter
	StoreFailing  prometheus.Gauge
	Unrecorded    prometheus.Gauge
	// Depth is the number of replies in the queue by state (queued,
	// deferred, held), and OldestAge the age in seconds of the one queued
	// longest: Delivery counts them every depthEvery (see Queue.Depth).
	Depth     *prometheus.GaugeVec
	OldestAge prometheus.Gauge
}

// Reasons a reply is given up on, as the "reason" label of
// quotesd_smtp_replies_dropped_total.
const (
	dropRejected   = "rejected"   // a 5xx answer, or a domain that takes no mail
	dropExpired    = "expired"    // older than MaxAge
	dropLost       = "lost"       // its stored text is missing
	dropUnrecorded = "unrecorded" // sent by two runs that both stopped before recording it (sendmark.go)
)

// dropReasons are the values of the "reason" label, each made at zero from
// the start (metric.CounterVecKnown).
var dropReasons = []string{dropRejected, dropExpired, dropLost, dropUnrecorded}

// NewMetrics creates the delivery counters and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	r := metric.For(reg, "smtp")
	m := &Metrics{
		Delivered:     r.Counter("replies_delivered_total", "Replies accepted by the next hop."),
		Deferred:      r.Counter("delivery_deferred_total", "Delivery attempts that failed temporarily and will be retried."),
		Dropped:       r.CounterVecKnown("replies_dropped_total", "Replies given up on, by reason.", metric.Each(dropReasons...), "reason"),
		StoreFailures: r.Counter("queue_store_failures_total", "Writes to the mail queue's database that failed (a full disk, an I/O error)."),
		StoreFailing:  r.Gauge("queue_store_failing", "1 while delivery is paused because the mail queue cannot write its database."),
		Unrecorded:    r.Gauge("replies_unrecorded", "Replies whose delivery (or drop or retry) the queue could not record yet; held in memory, never sent again meanwhile."),
		Depth: r.GaugeVec("queue_replies", "Replies in the mail queue, by state: queued (due), deferred (waiting for a retry), held (no delivery configured).",
			"state"),
		OldestAge: r.Gauge("queue_oldest_age_seconds", "Age of the reply queued longest (queued, deferred or held); 0 when the queue is empty."),
	}
	for _, s := range queueStates {
		m.Depth.WithLabelValues(s)
	}
	return m
}

// Delivery is the scheduler of the queue: it finds due replies, hands each
// destination's replies to one delivery goroutine (at most Concurrency at
// once), and records each outcome through the queue's writer. Run it with
// Serve; it is the service that owns the queue's lifetime.
type Delivery struct {
	q   *Queue
	cfg Config
	log *slog.Logger
	// relay is the destination of every message when there is a relay
	// (see destination), formatted once rather than once per message.
	relay string
	// out opens the SMTP sessions replies go out in.
	out outbound

	// unrecorded holds, by reply id, the outcomes the queue failed to
	// record (a reply sent, dropped or deferred, still 'queued' in the
	// database): taken from the database again, such a reply would be
	// sent again. While it holds any, or the queue's last commit failed,
	// nothing is delivered (see checkStore).
	unrecorded struct {
		sync.Mutex
		m   map[int64]result
		err error // of the first write that failed
	}
	// The scheduler's own state of a pause (only its goroutine uses it):
	// why (nil: not paused), how many attempts to write failed since, the
	// next attempt, and the queue's count of failed commits last seen.
	pause struct {
		err      error
		fails    int
		retry    time.Time
		failures uint64
	}
	paused atomic.Pointer[error] // pause.err, for Ready
	// settled says that the sending marks the last run left are settled
	// (sendmark.go): until they are, nothing is sent. Only the scheduler's
	// goroutine uses it.
	settled bool
	// depthFailed says that the last count of the queue failed (see
	// updateDepth); only the scheduler's goroutine uses it.
	depthFailed bool
}

// NewDelivery returns the delivery service for q. It panics if one of
// cfg's bounds is not positive (see Config).
func NewDelivery(q *Queue, cfg Config) *Delivery {
	for _, b := range []struct {
		name string
		v    int64
	}{
		{"Concurrency", int64(cfg.Concurrency)}, {"MaxAge", int64(cfg.MaxAge)},
		{"MinBackoff", int64(cfg.MinBackoff)}, {"Timeout", int64(cfg.Timeout)},
	} {
		if b.v <= 0 {
			panic(fmt.Sprintf("queue: NewDelivery with Config.%s %d: want more than 0", b.name, b.v))
		}
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Keep <= 0 {
		cfg.Keep = 7 * 24 * time.Hour
	}
	if cfg.MXPort == "" {
		cfg.MXPort = "25"
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.allowAddr == nil {
		cfg.allowAddr = publicAddr
	}
	if cfg.depthEvery <= 0 {
		cfg.depthEvery = depthEvery
	}
	if cfg.Dial == nil {
		if cfg.Relay != nil {
			// The relay is the operator's choice, often on loopback or the
			// local network: not checked.
			d := &net.Dialer{Timeout: cfg.Timeout}
			cfg.Dial = d.DialContext
		} else {
			cfg.Dial = mxDialer(cfg.Timeout, cfg.allowAddr)
		}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Delivery{q: q, cfg: cfg, log: log, out: &smtpClient{cfg: cfg}}
	if cfg.Relay != nil {
		d.relay = "relay " + cfg.Relay.Addr
	}
	return d
}

// String names the service in the supervisor's logs.
func (d *Delivery) String() string { return "smtp-queue" }

// perConnection bounds the replies one batch holds (with their texts);
// maxPerConnection bounds those one connection carries, in batches, before
// the scheduler looks at the queue again (when several destinations wait,
// one with many replies then does not hold its place for long).
const (
	perConnection    = 100
	maxPerConnection = 1000
)

// outcome is what a delivery goroutine reports to the scheduler.
type outcome struct {
	dest  string
	retry time.Time // zero: the destination works; else not before this
}

// Serve delivers until ctx ends, then lets deliveries in progress finish
// their current message, and closes the queue.
func (d *Delivery) Serve(ctx context.Context) error {
	if d.cfg.Relay == nil && !d.cfg.DirectMX {
		return d.hold(ctx)
	}
	var wg sync.WaitGroup
	done := make(chan outcome, d.cfg.Concurrency)
	busy := map[string]bool{}
	notBefore := map[string]time.Time{} // destinations backing off
	fails := map[string]int{}           // their consecutive failures
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	depth := time.NewTicker(d.cfg.depthEvery)
	defer depth.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	// Where replicas share the queue, the sending marks of a replica that
	// died are settled when its leases end, by whichever replica looks
	// first; the same tick catches a notification missed while the
	// connection that listens for them was down.
	var reap <-chan time.Time
	if d.q.b.shared() {
		t := time.NewTicker(d.q.lease / 3)
		defer t.Stop()
		reap = t.C
	}
	d.probeStore(ctx)
	d.updateDepth(ctx)
	for {
		now := d.q.now()
		// A delivery stops sending when a commit fails after this count
		// (see marker.failing); taken before the check, so that none
		// fails unseen between the two.
		failures := d.q.writeFailures.Load()
		paused := d.checkStore(ctx, now)
		var msgs []Message
		skip, all := d.unavailable(now, busy, notBefore)
		scan := !paused && !all && len(busy) < d.cfg.Concurrency
		if scan {
			var err error
			// Through a relay, one batch is all that can start; without,
			// a batch for each of several domains.
			limit := 1000
			if d.cfg.Relay != nil {
				limit = perConnection
			}
			msgs, err = d.q.b.claim(ctx, now, limit, skip, 0, "")
			if err != nil && ctx.Err() == nil {
				d.log.Error("smtp queue scan failed", "err", err)
			}
		}
		// Group due messages by destination, keeping arrival order.
		var order []string
		var left []Message // claimed, not handed to a delivery
		groups := map[string][]Message{}
		for _, m := range msgs {
			dest := d.destination(m.Rcpt)
			if _, ok := groups[dest]; !ok {
				order = append(order, dest)
			}
			if len(groups[dest]) < perConnection {
				groups[dest] = append(groups[dest], m)
			} else {
				left = append(left, m)
			}
		}
		for _, dest := range order {
			if busy[dest] || now.Before(notBefore[dest]) || len(busy) >= d.cfg.Concurrency || ctx.Err() != nil {
				left = append(left, groups[dest]...)
				continue
			}
			busy[dest] = true
			wg.Add(1)
			go func(dest string, ms []Message, fails int) {
				defer wg.Done()
				done <- d.deliver(ctx, dest, ms, fails, failures)
			}(dest, groups[dest], fails[dest])
		}
		d.release(ctx, left)

		// When nothing could be sent (all busy: a delivery ending wakes
		// us; or backing off: the timer below does), the queue need not
		// be asked when its next message is due.
		wake := now.Add(time.Hour)
		if scan {
			if next, ok, err := d.q.nextDue(ctx, now); err == nil && ok && next.Before(wake) {
				wake = next
			}
		}
		for _, t := range notBefore {
			if t.After(now) && t.Before(wake) {
				wake = t
			}
		}
		if paused && d.pause.retry.Before(wake) {
			wake = d.pause.retry
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(wake.Sub(now), time.Millisecond))

		select {
		case <-ctx.Done():
			go func() {
				for range done {
				}
			}()
			wg.Wait()
			close(done)
			d.flushUnrecorded()
			return d.q.Close()
		case <-d.q.wake:
		case o := <-done:
			delete(busy, o.dest)
			if o.retry.IsZero() {
				delete(notBefore, o.dest)
				delete(fails, o.dest)
			} else {
				notBefore[o.dest] = o.retry
				fails[o.dest]++
			}
		case <-timer.C:
		case <-reap:
			if !paused {
				if err := d.settleMarks(ctx); err != nil && ctx.Err() == nil {
					d.log.Error("smtp queue: settling the sending marks of replicas that stopped failed", "err", err)
				}
			}
		case <-depth.C:
			d.updateDepth(ctx)
		case <-prune.C:
			if err := d.q.prune(ctx, d.cfg.Keep); err != nil && ctx.Err() == nil {
				d.log.Error("smtp queue prune failed", "err", err)
			}
		}
	}
}

// holdSweep is how often held replies are checked against MaxAge.
const holdSweep = time.Minute

// hold is Serve when there is nowhere to deliver to: replies stay queued,
// those past MaxAge are dropped, and delivered or dropped ones are pruned
// as usual, until ctx ends.
func (d *Delivery) hold(ctx context.Context) error {
	sweep := time.NewTicker(holdSweep)
	defer sweep.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	depth := time.NewTicker(d.cfg.depthEvery)
	defer depth.Stop()
	d.probeStore(ctx)
	d.updateDepth(ctx)
	for {
		now := d.q.now()
		if d.checkStore(ctx, now) {
			retry.Reset(max(d.pause.retry.Sub(now), time.Millisecond))
		} else {
			d.expireHeld(ctx)
		}
		select {
		case <-ctx.Done():
			d.flushUnrecorded()
			return d.q.Close()
		case <-d.q.wake: // a new reply (nothing to do but keep it), or a failed commit
		case <-retry.C:
		case <-sweep.C:
		case <-depth.C:
			d.updateDepth(ctx)
		case <-prune.C:
			if err := d.q.prune(ctx, d.cfg.Keep); err != nil && ctx.Err() == nil {
				d.log.Error("smtp queue prune failed", "err", err)
			}
		}
	}
}

// expireHeld drops held replies older than MaxAge, oldest first.
func (d *Delivery) expireHeld(ctx context.Context) {
	for ctx.Err() == nil {
		now := d.q.now()
		ms, err := d.q.due(ctx, now, 1000, nil)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("smtp queue scan failed", "err", err)
			}
			return
		}
		n := 0
		for _, m := range ms {
			if now.Sub(m.Created) <= d.cfg.MaxAge {
				return // arrival order: the rest are younger
			}
			d.drop(ctx, m, dropExpired, fmt.Sprintf("held for %v: no relay and no direct MX delivery configured", d.cfg.MaxAge))
			if d.unrecordedLen() > 0 {
				return // not recorded: the next sweep, once the queue can write
			}
			n++
		}
		if n < 1000 {
			return
		}
	}
}

// unavailable lists the recipient domains whose messages cannot be sent
// now, because their destination is busy or backing off; all reports that
// no message can be (the relay is).
func (d *Delivery) unavailable(now time.Time, busy map[string]bool, notBefore map[string]time.Time) (domains []string, all bool) {
	if d.cfg.Relay != nil {
		dest := d.destination("")
		return nil, busy[dest] || now.Before(notBefore[dest])
	}
	for dest := range busy {
		domains = append(domains, dest)
	}
	for dest, t := range notBefore {
		if now.Before(t) && !busy[dest] {
			domains = append(domains, dest)
		}
	}
	return domains, false
}

// destination is the key messages are grouped and backed off by: the relay,
// or the recipient's domain.
func (d *Delivery) destination(rcpt string) string {
	if d.cfg.Relay != nil {
		return d.relay
	}
	return strings.ToLower(domainOf(rcpt))
}

// backoff is the wait before attempt n+1 after n failures: doubling from
// MinBackoff up to MaxBackoff, the upper half of it randomised so that
// retries from many queues do not arrive in step.
func (d *Delivery) backoff(n int) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < n && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	return b/2 + rand.N(b/2+1)
}
