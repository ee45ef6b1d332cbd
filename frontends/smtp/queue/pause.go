package queue

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Delivery pauses while the queue cannot write its database (a full disk,
// an I/O error). A reply whose delivery is not recorded is still 'queued'
// in the database: taken from it again, it would be sent again, and again,
// as fast as the next hop accepts it. So:
//
//   - an outcome the queue fails to record (a reply sent, dropped, or
//     deferred) is kept in memory (Delivery.unrecorded), and the reply is
//     not taken from the database again while the process runs;
//   - a delivery stops sending as soon as any commit of the queue fails
//     (marker.failing), and the scheduler starts none while the queue's
//     last commit failed or outcomes wait to be recorded;
//   - it tries again to record them, or to write at all (a probe), with
//     back-off, logging each failed try, and resumes once that succeeds.
//
// A reply can so be sent twice only when quotesd stops while its delivery
// is unrecorded (the last try at shutdown failed too): after the restart
// it may be sent once more, once the queue can write again (Serve settles
// the last run's sending marks before it delivers anything), and never a
// third time, however many restarts follow (sendmark.go).

// keep holds rs, whose recording failed with err, until the queue records
// them.
func (d *Delivery) keep(err error, rs ...result) {
	u := &d.unrecorded
	u.Lock()
	defer u.Unlock()
	if u.m == nil {
		u.m = make(map[int64]result)
	}
	for _, r := range rs {
		u.m[r.id] = r
	}
	if u.err == nil {
		u.err = err
	}
	d.setUnrecorded(len(u.m))
}

// unrecordedLen is the number of outcomes waiting to be recorded.
func (d *Delivery) unrecordedLen() int {
	d.unrecorded.Lock()
	defer d.unrecorded.Unlock()
	return len(d.unrecorded.m)
}

// takeUnrecorded returns the outcomes waiting, in id order, and the error
// that kept the first of them.
func (d *Delivery) takeUnrecorded() ([]result, error) {
	u := &d.unrecorded
	u.Lock()
	defer u.Unlock()
	rs := slices.Collect(maps.Values(u.m))
	slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.id, b.id) })
	return rs, u.err
}

// forget drops rs, now recorded, from the outcomes waiting.
func (d *Delivery) forget(rs []result) {
	u := &d.unrecorded
	u.Lock()
	defer u.Unlock()
	for _, r := range rs {
		delete(u.m, r.id)
	}
	if len(u.m) == 0 {
		u.err = nil
	}
	d.setUnrecorded(len(u.m))
}

func (d *Delivery) setUnrecorded(n int) {
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Unrecorded.Set(float64(n))
	}
}

// Ready returns nil when the queue can write its database, or why it
// cannot: delivery is then paused, and received mail may be refused with
// a temporary failure. For readiness checks (/readyz).
func (d *Delivery) Ready() error {
	if p := d.paused.Load(); p != nil {
		return *p
	}
	if err := d.q.writeError(); err != nil {
		return fmt.Errorf("the mail queue cannot write %s: %w", d.q.Path(), err)
	}
	return nil
}

// probeStore settles the sending marks of the last run (sendmark.go)
// before anything is delivered, and pauses delivery when that fails: after
// a restart, replies whose delivery the last run could not record are not
// sent again until the queue can record that they were being sent, and
// only once more in all.
func (d *Delivery) probeStore(ctx context.Context) {
	d.settled = false
	if err := d.settle(ctx); err != nil {
		d.pauseDelivery(d.q.now(), err)
	}
}

// settle runs the queue's settle, once per Serve, and says what it found.
func (d *Delivery) settle(ctx context.Context) error {
	if d.settled {
		return nil
	}
	if err := d.settleMarks(ctx); err != nil {
		return err
	}
	d.settled = true
	return nil
}

// settleMarks settles the sending marks left by runs that stopped (or,
// where replicas share the queue, by replicas whose leases ended), and
// says what it found.
func (d *Delivery) settleMarks(ctx context.Context) error {
	s, err := d.q.settle(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	if len(s.resend) > 0 {
		msg := "smtp queue: replies were being sent when quotesd last stopped, and their delivery was not recorded; each may be sent once more, and only once"
		if d.q.b.shared() {
			msg = "smtp queue: replies were being sent by a replica that stopped (its lease ended), and their delivery was not recorded; each may be sent once more, and only once"
		}
		d.log.Warn(msg, "queue", d.q.Path(), "replies", len(s.resend), "ids", ids(s.resend))
	}
	for _, m := range s.givenUp {
		d.log.Warn("smtp reply dropped", "id", m.ID, "rcpt", m.Rcpt, "reason", dropUnrecorded, "err", givenUpReason)
	}
	if d.cfg.Metrics != nil && len(s.givenUp) > 0 {
		d.cfg.Metrics.Dropped.WithLabelValues(dropUnrecorded).Add(float64(len(s.givenUp)))
	}
	return nil
}

// checkStore reports whether delivery must wait for the queue's database:
// it pauses delivery when a commit failed or outcomes wait to be recorded,
// and once the retry is due, tries to record them (or to write at all),
// resuming delivery when that works. Only the scheduler calls it.
func (d *Delivery) checkStore(ctx context.Context, now time.Time) (paused bool) {
	d.countFailures()
	if d.pause.err == nil {
		err := d.q.writeError()
		if err == nil && d.unrecordedLen() == 0 {
			return false
		}
		if err == nil {
			_, err = d.takeUnrecorded()
		}
		d.pauseDelivery(now, err)
		return true
	}
	if now.Before(d.pause.retry) {
		return true
	}
	rs, _ := d.takeUnrecorded()
	// Until the marks of the last run are settled, nothing was sent and rs
	// is empty; settling first keeps the order the bound relies on.
	err := d.settle(ctx)
	if err == nil {
		err = d.q.writeResults(context.WithoutCancel(ctx), rs)
	}
	if err != nil {
		d.countFailures()
		d.pause.fails++
		d.pause.err = err
		d.pause.retry = now.Add(d.storeBackoff(d.pause.fails))
		d.log.Warn("smtp queue still cannot record deliveries; delivery stays paused", "queue", d.q.Path(),
			"unrecorded", len(rs), "retry_in", d.pause.retry.Sub(now).Round(time.Millisecond), "err", err)
		return true
	}
	d.forget(rs)
	if d.unrecordedLen() > 0 {
		// More came from deliveries that were still running: record
		// those at once.
		return d.checkStore(ctx, now)
	}
	d.log.Info("smtp delivery resumed: the mail queue can record deliveries again", "queue", d.q.Path(), "recorded", len(rs))
	d.pause.err, d.pause.fails = nil, 0
	d.paused.Store(nil)
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.StoreFailing.Set(0)
	}
	return false
}

// pauseDelivery starts a pause caused by err.
func (d *Delivery) pauseDelivery(now time.Time, err error) {
	d.countFailures()
	d.pause.err, d.pause.fails = err, 1
	d.pause.retry = now.Add(d.storeBackoff(1))
	perr := fmt.Errorf("the mail queue cannot record deliveries in %s: %w", d.q.Path(), err)
	d.paused.Store(&perr)
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.StoreFailing.Set(1)
	}
	d.log.Error("smtp delivery paused: the mail queue cannot record deliveries", "queue", d.q.Path(),
		"unrecorded", d.unrecordedLen(), "retry_in", d.pause.retry.Sub(now).Round(time.Millisecond), "err", err)
}

// countFailures adds the queue's failed commits since the last call to
// the metrics.
func (d *Delivery) countFailures() {
	n := d.q.writeFailures.Load()
	if d.cfg.Metrics != nil && n > d.pause.failures {
		d.cfg.Metrics.StoreFailures.Add(float64(n - d.pause.failures))
	}
	d.pause.failures = n
}

// storeBackoff is the wait before the n+1th try to write after n failed:
// from 1 s (or MinBackoff when shorter), doubling up to a minute (or
// MaxBackoff when shorter). The disk is local: once it has room again,
// delivery should not wait long.
func (d *Delivery) storeBackoff(n int) time.Duration {
	b, top := min(time.Second, d.cfg.MinBackoff), min(time.Minute, d.cfg.MaxBackoff)
	for i := 1; i < n && b < top; i++ {
		b *= 2
	}
	return min(b, top)
}

// flushUnrecorded tries, at shutdown, once more to record the outcomes
// waiting; those it cannot are logged by id: their replies will be sent
// again after the restart.
func (d *Delivery) flushUnrecorded() {
	rs, _ := d.takeUnrecorded()
	if len(rs) == 0 {
		return
	}
	err := d.q.writeResults(context.Background(), rs)
	if err == nil {
		d.forget(rs)
		return
	}
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		if r.state == "sent" {
			ids = append(ids, r.id)
		}
	}
	d.log.Error("smtp queue: outcomes not recorded at shutdown; the replies delivered among them may be sent once more after a restart",
		"queue", d.q.Path(), "unrecorded", len(rs), "delivered_ids", ids, "err", err)
}
