package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/textproto"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
)

// Resolver is the part of *net.Resolver that direct delivery needs. Tests
// inject one that answers with loopback addresses, so no test ever asks the
// real DNS.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// TLS modes of a relay connection.
const (
	TLSNone     = "none"     // plain SMTP (a relay on localhost)
	TLSStartTLS = "starttls" // STARTTLS, required and verified (submission, port 587)
	TLSImplicit = "tls"      // TLS from the first byte (submissions, port 465)
)

// Relay is a smarthost all replies go through.
type Relay struct {
	Addr     string // host:port
	TLS      string // TLSNone, TLSStartTLS or TLSImplicit
	Username string // AUTH PLAIN when not empty
	Password string
	// TLSConfig verifies the relay; nil means the system roots and the
	// host of Addr as server name.
	TLSConfig *tls.Config
}

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
	// Concurrency bounds the destinations (the relay, or recipient domains)
	// delivered to at once; each gets one connection that carries its
	// messages in arrival order. Default 4.
	Concurrency int
	// MaxAge is how long a reply may wait before it is dropped. Default 48h.
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts, which
	// doubles after each failure, with jitter. Defaults 1 minute and 1 hour.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds connecting and each SMTP command. Default 2 minutes.
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
}

// Metrics counts what delivery does.
type Metrics struct {
	Delivered prometheus.Counter
	Deferred  prometheus.Counter
	Dropped   *prometheus.CounterVec // label reason: rejected, expired
	// StoreFailures counts the queue's commits that failed; StoreFailing
	// is 1 while delivery is paused because the queue cannot write its
	// database; Unrecorded is the number of outcomes (most often
	// deliveries) held in memory until it can.
	StoreFailures prometheus.Counter
	StoreFailing  prometheus.Gauge
	Unrecorded    prometheus.Gauge
}

// NewMetrics creates the delivery counters and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quotesd_smtp_replies_delivered_total", Help: "Replies accepted by the next hop.",
		}),
		Deferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quotesd_smtp_delivery_deferred_total", Help: "Delivery attempts that failed temporarily and will be retried.",
		}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quotesd_smtp_replies_dropped_total", Help: "Replies given up on, by reason.",
		}, []string{"reason"}),
		StoreFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quotesd_smtp_queue_store_failures_total", Help: "Writes to the mail queue's database that failed (a full disk, an I/O error).",
		}),
		StoreFailing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quotesd_smtp_queue_store_failing", Help: "1 while delivery is paused because the mail queue cannot write its database.",
		}),
		Unrecorded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quotesd_smtp_replies_unrecorded", Help: "Replies whose delivery (or drop or retry) the queue could not record yet; held in memory, never sent again meanwhile.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Delivered, m.Deferred, m.Dropped, m.StoreFailures, m.StoreFailing, m.Unrecorded)
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
}

// NewDelivery returns the delivery service for q.
func NewDelivery(q *Queue, cfg Config) *Delivery {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 48 * time.Hour
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Minute
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Hour, cfg.MinBackoff)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
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
	d := &Delivery{q: q, cfg: cfg, log: log}
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
	timer := time.NewTimer(0)
	defer timer.Stop()
	d.probeStore(ctx)
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
			msgs, err = d.q.due(ctx, now, limit, skip)
			if err != nil && ctx.Err() == nil {
				d.log.Error("smtp queue scan failed", "err", err)
			}
		}
		// Group due messages by destination, keeping arrival order.
		var order []string
		groups := map[string][]Message{}
		for _, m := range msgs {
			dest := d.destination(m.Rcpt)
			if _, ok := groups[dest]; !ok {
				order = append(order, dest)
			}
			if len(groups[dest]) < perConnection {
				groups[dest] = append(groups[dest], m)
			}
		}
		for _, dest := range order {
			if busy[dest] || now.Before(notBefore[dest]) || len(busy) >= d.cfg.Concurrency || ctx.Err() != nil {
				continue
			}
			busy[dest] = true
			wg.Add(1)
			go func(dest string, ms []Message, fails int) {
				defer wg.Done()
				done <- d.deliver(ctx, dest, ms, fails, failures)
			}(dest, groups[dest], fails[dest])
		}

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
	d.probeStore(ctx)
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
			d.drop(ctx, m, "expired", fmt.Sprintf("held for %v: no relay and no direct MX delivery configured", d.cfg.MaxAge))
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

// deliver sends ms (all for dest, in arrival order) over one connection and
// records each outcome. fails is the destination's count of consecutive
// failed connections, which sets the backoff when this one fails too.
// failures is the queue's count of failed commits when the scheduler last
// found it could write: once another fails, deliver sends nothing more.
func (d *Delivery) deliver(ctx context.Context, dest string, ms []Message, fails int, failures uint64) outcome {
	now := d.q.now()
	// Sent markers are committed in the background, in groups, and waited
	// for before the scheduler hears of this delivery, so it never
	// dispatches a reply whose marker is not yet durable; those that fail
	// are held in memory (see Delivery.unrecorded).
	marks := &marker{q: d.q, failures: failures}
	defer func() {
		if rs, err := marks.wait(); err != nil {
			d.keep(err, rs...)
			d.log.Error("smtp delivery: recording deliveries failed; holding them until the queue can", "dest", dest, "replies", len(rs), "err", err)
		}
	}()
	// Replies past their age are dropped before any connection is made.
	live := d.unexpired(ctx, ms)
	if len(live) == 0 || marks.failing() {
		return outcome{dest: dest}
	}
	c, conn, err := d.connect(ctx, live[0].Rcpt)
	var perm permanentError
	if errors.As(err, &perm) {
		for _, m := range live {
			d.drop(ctx, m, "rejected", err.Error())
		}
		return outcome{dest: dest}
	}
	if err != nil {
		retry := d.q.now().Add(d.backoff(fails + 1))
		d.log.Warn("smtp delivery deferred: cannot connect", "dest", dest, "replies", len(live), "retry_in", retry.Sub(now).Round(time.Millisecond), "err", err)
		d.deferAll(ctx, live, retry, err)
		return outcome{dest: dest, retry: retry}
	}
	defer c.Close()
	p := newPipeline(c, conn, d.cfg.Timeout)
	if p != nil {
		defer p.done()
	}
	// While the destination has more replies due, the connection carries
	// them too, up to maxPerConnection: a new connection, its greeting
	// and a round through the scheduler per batch cost more than the
	// batch's own queries.
	domain := ""
	if d.cfg.Relay == nil {
		domain = dest
	}
	for carried := 0; ; {
		if out, stop := d.batch(ctx, c, p, dest, live, fails, marks); stop {
			return out
		}
		carried += len(live)
		if carried >= maxPerConnection || ctx.Err() != nil || marks.failing() {
			break
		}
		more, err := d.q.dueAfter(ctx, d.q.now(), perConnection, domain, live[len(live)-1].ID)
		if err != nil {
			d.log.Error("smtp queue scan failed", "err", err)
			break
		}
		if live = d.unexpired(ctx, more); len(live) == 0 {
			break
		}
	}
	if p != nil {
		p.done()
	}
	_ = c.Quit()
	return outcome{dest: dest}
}

// unexpired drops the replies of ms past their maximum age and returns the
// others.
func (d *Delivery) unexpired(ctx context.Context, ms []Message) []Message {
	now := d.q.now()
	live := ms[:0:0]
	for _, m := range ms {
		if now.Sub(m.Created) > d.cfg.MaxAge {
			d.drop(ctx, m, "expired", fmt.Sprintf("not delivered within %v", d.cfg.MaxAge))
			continue
		}
		live = append(live, m)
	}
	return live
}

// batch sends live (in arrival order) on c, through p when it is not nil,
// and records each outcome. stop says the connection is lost or delivery
// is ending; out is then the outcome of the delivery.
func (d *Delivery) batch(ctx context.Context, c *smtp.Client, p *pipeline, dest string, live []Message, fails int, marks *marker) (out outcome, stop bool) {
	texts, err := d.q.bodies(ctx, live)
	if err != nil {
		d.log.Error("smtp delivery: reading queued replies", "err", err)
		return outcome{dest: dest, retry: d.q.now().Add(d.cfg.MinBackoff)}, true
	}
	// Nothing of the batch goes out before its sending marks are durable
	// (see sendmark.go).
	if err := d.q.markSending(ctx, ids(live)); err != nil {
		if ctx.Err() == nil {
			d.log.Error("smtp delivery: cannot record that replies are being sent; not sending them", "dest", dest, "replies", len(live), "err", err)
		}
		return outcome{dest: dest}, true
	}
	if p != nil {
		return d.deliverPipelined(ctx, p, dest, live, texts, fails, marks)
	}
	for i, m := range live {
		if ctx.Err() != nil || marks.failing() {
			// Still queued: delivered after restart, or once the queue
			// can record deliveries again.
			d.unsent(ctx, live[i:])
			return outcome{dest: dest}, true
		}
		data, ok := texts[m.ID]
		if !ok {
			d.drop(ctx, m, "lost", "the queued reply has no text")
			continue
		}
		err = send(c, m.Rcpt, data)
		if out, stop := d.sent(ctx, dest, live, i, fails, err, marks, c.Reset); stop {
			return out, true
		}
	}
	return outcome{dest: dest}, false
}

// ids returns the ids of ms.
func ids(ms []Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// unsent clears the sending marks of ms, which a batch marked and then did
// not send: after a restart they would count as attempts whose outcome is
// unknown. When the queue cannot write (the reason the batch stopped, most
// often) they stay, and do count: the bound errs towards sending less.
func (d *Delivery) unsent(ctx context.Context, ms []Message) {
	if err := d.q.unmarkSending(context.WithoutCancel(ctx), ids(ms)); err != nil {
		d.log.Warn("smtp delivery: cannot clear the sending marks of replies not sent; after a restart each may be sent only once more",
			"replies", len(ms), "err", err)
	}
}

// sent records the outcome err of sending live[i]. After a refusal it ends
// the transaction with reset; stop says the connection is lost (out is then
// the outcome of the batch).
func (d *Delivery) sent(ctx context.Context, dest string, live []Message, i, fails int, err error, marks *marker, reset func() error) (out outcome, stop bool) {
	m := live[i]
	var se *smtp.SMTPError
	switch {
	case err == nil:
		marks.sent(m.ID)
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.Delivered.Inc()
		}
		if d.log.Enabled(ctx, slog.LevelDebug) {
			d.log.Debug("reply delivered", "id", m.ID, "rcpt", m.Rcpt, "dest", dest)
		}
	case errors.As(err, &se) && se.Code >= 500:
		d.drop(ctx, m, "rejected", err.Error())
		if reset != nil && reset() != nil {
			return d.lost(ctx, dest, live[i+1:], fails, err), true
		}
	case errors.As(err, &se):
		retry := d.q.now().Add(d.backoff(m.Attempts + 1))
		d.deferOne(ctx, m, retry, err)
		if reset != nil && reset() != nil {
			return d.lost(ctx, dest, live[i+1:], fails, err), true
		}
	default:
		return d.lost(ctx, dest, live[i:], fails, err), true
	}
	return outcome{}, false
}

// deliverPipelined is batch's loop over a pipeline: the envelope of each
// message goes out with the text of the one before it.
func (d *Delivery) deliverPipelined(ctx context.Context, p *pipeline, dest string, live []Message, texts map[int64]text, fails int, marks *marker) (out outcome, stop bool) {
	sentEnvelope := false // live[i]'s envelope went out with the text before it
	for i, m := range live {
		if ctx.Err() != nil || marks.failing() {
			// Still queued: delivered after restart, or once the queue
			// can record deliveries again. A transaction left open by a
			// pipelined envelope ends with the connection.
			d.unsent(ctx, live[i:])
			return outcome{dest: dest}, true
		}
		data, ok := texts[m.ID]
		if !ok {
			d.drop(ctx, m, "lost", "the queued reply has no text")
			continue
		}
		if !sentEnvelope {
			if err := p.envelope(m.Rcpt); err != nil {
				d.drop(ctx, m, "rejected", err.Error())
				continue
			}
		}
		sentEnvelope = false
		err := p.flush()
		if err == nil {
			err = p.envelopeReplies()
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			if out, stop := d.sent(ctx, dest, live, i, fails, err, marks, p.reset); stop {
				return out, true
			}
			continue
		}
		if err == nil {
			err = p.text(data)
		}
		if err == nil && i+1 < len(live) && ctx.Err() == nil {
			if _, ok := texts[live[i+1].ID]; ok && p.envelope(live[i+1].Rcpt) == nil {
				sentEnvelope = true
			}
		}
		if err == nil {
			err = p.flush()
		}
		if err == nil {
			err = p.reply(25)
		}
		// After the reply to the text the transaction is over, refused or
		// not: no RSET is needed.
		if out, stop := d.sent(ctx, dest, live, i, fails, err, marks, nil); stop {
			return out, true
		}
	}
	return outcome{dest: dest}, false
}

// marker records the replies one delivery sent, in groups: the sent
// markers of all replies delivered while the previous group waited for
// its commit go into one operation, a lazy one that the writer commits
// with its next transaction. Under load that is one statement per commit
// rather than one per reply, and an idle server commits a group every
// lazyDelay rather than every reply or two.
type marker struct {
	q        *Queue
	failures uint64      // the queue's count of failed commits to compare with (see failing)
	ids      []int64     // delivered, not yet submitted
	last     *pending    // the group submitted last
	pending  []markGroup // every group submitted
}

// markGroup is one group of sent markers submitted to the writer.
type markGroup struct {
	p   *pending
	ids []int64
	at  time.Time
}

// failing reports whether a commit of the queue failed since the delivery
// started: what is sent now might not be recorded, and would then be sent
// again. (A sent marker of this delivery that fails is one of them.)
func (m *marker) failing() bool { return m.q.writeFailures.Load() != m.failures }

// sent records that the reply id was delivered.
func (m *marker) sent(id int64) {
	m.ids = append(m.ids, id)
	if m.last == nil || m.last.ready() {
		m.submit()
	}
}

func (m *marker) submit() {
	if len(m.ids) == 0 {
		return
	}
	m.last = m.q.markSent(m.ids)
	m.pending = append(m.pending, markGroup{p: m.last, ids: m.ids, at: m.q.now()})
	m.ids = nil
}

// wait submits what is left and waits until every marker is committed. It
// returns the deliveries whose markers failed, with the failure.
func (m *marker) wait() ([]result, error) {
	m.submit()
	if len(m.pending) == 0 {
		return nil, nil
	}
	m.q.hurryWriter()
	var errs []error
	var failed []result
	for _, g := range m.pending {
		if err := g.p.wait(); err != nil {
			if len(errs) == 0 || err.Error() != errs[len(errs)-1].Error() {
				errs = append(errs, err)
			}
			for _, id := range g.ids {
				failed = append(failed, result{id: id, state: "sent", at: g.at})
			}
		}
	}
	m.pending = nil
	return failed, errors.Join(errs...)
}

// lost handles a connection that broke: the rest of the batch waits for
// the destination's next attempt.
func (d *Delivery) lost(ctx context.Context, dest string, rest []Message, fails int, err error) outcome {
	now := d.q.now()
	retry := now.Add(d.backoff(fails + 1))
	d.log.Warn("smtp delivery deferred: connection lost", "dest", dest, "replies", len(rest), "retry_in", retry.Sub(now).Round(time.Millisecond), "err", err)
	d.deferAll(ctx, rest, retry, err)
	return outcome{dest: dest, retry: retry}
}

func (d *Delivery) deferAll(ctx context.Context, ms []Message, retry time.Time, err error) {
	var ids []int64
	for _, m := range ms {
		if retry.Sub(m.Created) > d.cfg.MaxAge {
			d.drop(ctx, m, "expired", fmt.Sprintf("not delivered within %v; last error: %v", d.cfg.MaxAge, err))
			continue
		}
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 {
		return
	}
	if e := d.q.reschedule(context.WithoutCancel(ctx), ids, retry, err.Error()); e != nil {
		// Left as they are, the replies would be due again at once.
		now := d.q.now()
		rs := make([]result, len(ids))
		for i, id := range ids {
			rs[i] = result{id: id, state: "queued", at: now, next: retry, reason: err.Error()}
		}
		d.keep(e, rs...)
	}
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Deferred.Add(float64(len(ids)))
	}
}

// deferOne reschedules m, refused for now by the next hop, or drops it
// when the retry would come after its maximum age. Either is logged: a
// hop that keeps refusing (a full mailbox, greylisting, a relay's quota)
// must show before replies expire.
func (d *Delivery) deferOne(ctx context.Context, m Message, retry time.Time, err error) {
	if retry.Sub(m.Created) <= d.cfg.MaxAge {
		d.log.Warn("smtp reply deferred", "id", m.ID, "rcpt", m.Rcpt,
			"retry_in", retry.Sub(d.q.now()).Round(time.Millisecond), "err", err)
	}
	d.deferAll(ctx, []Message{m}, retry, err)
}

func (d *Delivery) drop(ctx context.Context, m Message, reason, detail string) {
	d.log.Warn("smtp reply dropped", "id", m.ID, "rcpt", m.Rcpt, "reason", reason, "err", detail)
	if err := d.q.markFailed(context.WithoutCancel(ctx), m.ID, reason+": "+detail); err != nil {
		// Left queued, the reply would be taken again at once.
		d.keep(err, result{id: m.ID, state: "failed", at: d.q.now(), reason: reason + ": " + detail})
	}
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Dropped.WithLabelValues(reason).Inc()
	}
}

// permanentError marks a destination that will never take mail.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// send runs one mail transaction with the null reverse path, as RFC 3834
// §3.3 recommends for automatic replies: nothing bounces back to us.
func send(c *smtp.Client, rcpt string, t text) error {
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	for _, part := range [][]byte{t.head, t.shared} {
		if _, err := w.Write(part); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// connect opens an SMTP session to the relay, or to the MX of rcpt's domain.
//
// conn is the connection the client speaks on when quotesd can write to it
// directly (see pipeline), nil after STARTTLS.
func (d *Delivery) connect(ctx context.Context, rcpt string) (c *smtp.Client, conn net.Conn, err error) {
	if d.cfg.Relay != nil {
		return d.connectRelay(ctx, d.cfg.Relay)
	}
	domain := domainOf(rcpt)
	hosts, err := d.mxHosts(ctx, domain)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	refusedAll := true // every address found is one direct delivery must not connect to
	for _, host := range hosts {
		addrs, err := d.cfg.Resolver.LookupHost(ctx, host)
		var dnsErr *net.DNSError
		if len(hosts) == 1 && host == domain && errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			// No MX and no address record either: the domain takes no
			// mail (RFC 5321 §5.1), now or after any retry.
			return nil, nil, permanentError{fmt.Errorf("%s has neither MX nor address records: %w", domain, err)}
		}
		if err != nil {
			errs, refusedAll = append(errs, fmt.Errorf("looking up %s: %w", host, err)), false
			continue
		}
		for _, a := range addrs {
			if err := d.mxAllowed(a); err != nil {
				errs = append(errs, fmt.Errorf("mail host %s: %w", host, err))
				continue
			}
			c, conn, err := d.connectMX(ctx, host, net.JoinHostPort(a, d.cfg.MXPort))
			if err == nil {
				return c, conn, nil
			}
			errs = append(errs, err)
			// The dialler's own check (mxDialer) fails with the same error.
			refusedAll = refusedAll && errors.Is(err, errNonPublicAddress)
		}
	}
	if len(errs) == 0 {
		return nil, nil, fmt.Errorf("no address for the mail hosts of %s", domain)
	}
	if refusedAll {
		// No retry makes such a domain one quotesd may deliver to: the
		// reply is dropped, as for a domain that takes no mail.
		return nil, nil, permanentError{fmt.Errorf("%s: no mail host at a public address: %w", domain, errors.Join(errs...))}
	}
	return nil, nil, errors.Join(errs...)
}

// mxHosts returns the hosts that take mail for domain, best first: its MX
// records, or the domain itself when it has none (RFC 5321 §5.1).
func (d *Delivery) mxHosts(ctx context.Context, domain string) ([]string, error) {
	mxs, err := d.cfg.Resolver.LookupMX(ctx, domain)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return nil, fmt.Errorf("looking up MX of %s: %w", domain, err)
	}
	if len(mxs) == 0 {
		return []string{domain}, nil
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	hosts := make([]string, 0, len(mxs))
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" {
			continue // a null MX (RFC 7505) names no host
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, permanentError{fmt.Errorf("%s accepts no mail (null MX, RFC 7505)", domain)}
	}
	return hosts, nil
}

// connectMX connects to one MX address with opportunistic STARTTLS: TLS
// when the host offers it, without verifying the certificate (without DANE
// or MTA-STS nothing says which certificate to expect; encryption still
// defeats passive eavesdropping, RFC 7435), and plain SMTP on a new
// connection when the TLS attempt fails.
func (d *Delivery) connectMX(ctx context.Context, host, addr string) (*smtp.Client, net.Conn, error) {
	conn, err := d.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	c, tlsErr := d.startTLS(ctx, conn, cfg)
	if tlsErr == nil {
		if err := d.hello(c); err != nil {
			c.Close()
			return nil, nil, err
		}
		return c, nil, nil
	}
	conn, err = d.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	c = d.client(conn)
	if err := d.hello(c); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("%s (%s): %w", host, addr, err)
	}
	return c, conn, nil
}

func (d *Delivery) connectRelay(ctx context.Context, r *Relay) (*smtp.Client, net.Conn, error) {
	conn, err := d.cfg.Dial(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("relay %s: %w", r.Addr, err)
	}
	cfg := r.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(r.Addr)
	}
	var c *smtp.Client
	raw := conn // what the client speaks on, when not after STARTTLS
	switch r.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, cfg)
		_ = tc.SetDeadline(time.Now().Add(d.cfg.Timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("relay %s: TLS: %w", r.Addr, err)
		}
		_ = tc.SetDeadline(time.Time{})
		c, raw = d.client(tc), tc
	case TLSStartTLS:
		c, err = d.startTLS(ctx, conn, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("relay %s: STARTTLS: %w", r.Addr, err)
		}
		raw = nil
	default:
		c = d.client(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = d.cfg.Timeout, d.cfg.Timeout
	if err := d.hello(c); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("relay %s: %w", r.Addr, err)
	}
	if r.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("relay %s: AUTH PLAIN as %s: %w", r.Addr, r.Username, err)
		}
	}
	return c, raw, nil
}

// startTLS greets the server on conn and upgrades the session with
// STARTTLS (RFC 3207), within Timeout, and returns a client on the
// encrypted connection; hello greets again there. It does by hand what
// go-smtp's NewClientStartTLS does, because that one greets as
// "localhost" (its Client takes no name before STARTTLS): a name that a
// relay or an MX may refuse, or hold against the mail, from another host.
// On an error conn is closed.
func (d *Delivery) startTLS(ctx context.Context, conn net.Conn, cfg *tls.Config) (*smtp.Client, error) {
	c, err := d.startTLSConn(ctx, conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (d *Delivery) startTLSConn(ctx context.Context, conn net.Conn, cfg *tls.Config) (*smtp.Client, error) {
	_ = conn.SetDeadline(time.Now().Add(d.cfg.Timeout))
	// Nothing is read past the reply to STARTTLS: what the server sent
	// after it, if anything, stays in this reader and is dropped.
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := tp.PrintfLine("EHLO %s", d.cfg.HeloName); err != nil {
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	if !hasExtension(msg, "STARTTLS") {
		return nil, errors.New("smtp: server doesn't support STARTTLS")
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, fmt.Errorf("STARTTLS: %w", err)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	// The session starts over, without a greeting from the server (RFC
	// 3207 §4.2); go-smtp's Client reads one first, so it is given one.
	return d.client(&greetedConn{Conn: tc, greeting: []byte("220 TLS session\r\n")}), nil
}

// hasExtension reports whether the text of an EHLO reply (its lines after
// the first are the extensions, as textproto returns them) names ext.
func hasExtension(ehlo, ext string) bool {
	lines := strings.Split(ehlo, "\n")
	for _, line := range lines[1:] {
		if name, _, _ := strings.Cut(line, " "); strings.EqualFold(name, ext) {
			return true
		}
	}
	return false
}

// greetedConn is a connection whose first bytes read are greeting, then
// what the connection carries.
type greetedConn struct {
	net.Conn
	greeting []byte
}

func (c *greetedConn) Read(p []byte) (int, error) {
	if len(c.greeting) > 0 {
		n := copy(p, c.greeting)
		c.greeting = c.greeting[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (d *Delivery) client(conn net.Conn) *smtp.Client {
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = d.cfg.Timeout, d.cfg.Timeout
	return c
}

// hello greets with our name; after STARTTLS, where the client must greet
// again (RFC 3207 §4.2), this is the second greeting.
func (d *Delivery) hello(c *smtp.Client) error {
	c.CommandTimeout, c.SubmissionTimeout = d.cfg.Timeout, d.cfg.Timeout
	return c.Hello(d.cfg.HeloName)
}
