package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/emersion/go-smtp"
)

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
		d.release(ctx, live)
		return outcome{dest: dest}
	}
	s, err := d.out.open(ctx, live[0].Rcpt)
	var perm undeliverableError
	if errors.As(err, &perm) {
		for _, m := range live {
			d.drop(ctx, m, dropRejected, err.Error())
		}
		return outcome{dest: dest}
	}
	if err != nil {
		retry := d.q.now().Add(d.backoff(fails + 1))
		d.log.Warn("smtp delivery deferred: cannot connect", "dest", dest, "replies", len(live), "retry_in", retry.Sub(now).Round(time.Millisecond), "err", err)
		d.deferAll(ctx, live, retry, err)
		return outcome{dest: dest, retry: retry}
	}
	defer s.close()
	// While the destination has more replies due, the connection carries
	// them too, up to maxPerConnection: a new connection, its greeting
	// and a round through the scheduler per batch cost more than the
	// batch's own queries.
	domain := ""
	if d.cfg.Relay == nil {
		domain = dest
	}
	for carried := 0; ; {
		if out, stop := d.batch(ctx, s, dest, live, fails, marks); stop {
			return out
		}
		carried += len(live)
		if carried >= maxPerConnection || ctx.Err() != nil || marks.failing() {
			break
		}
		more, err := d.q.b.claim(ctx, d.q.now(), perConnection, nil, live[len(live)-1].ID, domain)
		if err != nil {
			d.log.Error("smtp queue scan failed", "err", err)
			break
		}
		if live = d.unexpired(ctx, more); len(live) == 0 {
			break
		}
	}
	_ = s.quit()
	return outcome{dest: dest}
}

// unexpired drops the replies of ms past their maximum age and returns the
// others.
func (d *Delivery) unexpired(ctx context.Context, ms []Message) []Message {
	return d.unexpiredAt(ctx, ms, d.q.now(), "")
}

// unexpiredAt drops the replies of ms that are past their maximum age at
// the time at, saying why (plus the last error, when there is one), and
// returns the others.
func (d *Delivery) unexpiredAt(ctx context.Context, ms []Message, at time.Time, lastErr string) []Message {
	why := fmt.Sprintf("not delivered within %v", d.cfg.MaxAge)
	if lastErr != "" {
		why += "; last error: " + lastErr
	}
	live := ms[:0:0]
	for _, m := range ms {
		if at.Sub(m.Created) > d.cfg.MaxAge {
			d.drop(ctx, m, dropExpired, why)
			continue
		}
		live = append(live, m)
	}
	return live
}

// batch sends live (in arrival order) in the session s, pipelined when s
// can, and records each outcome. stop says the connection is lost or
// delivery is ending; out is then the outcome of the delivery.
func (d *Delivery) batch(ctx context.Context, s session, dest string, live []Message, fails int, marks *marker) (out outcome, stop bool) {
	texts, err := d.q.bodies(ctx, live)
	if err != nil {
		d.log.Error("smtp delivery: reading queued replies", "err", err)
		d.release(ctx, live)
		return outcome{dest: dest, retry: d.q.now().Add(d.cfg.MinBackoff)}, true
	}
	if live = d.withText(ctx, live, texts); len(live) == 0 {
		return outcome{dest: dest}, false
	}
	// Nothing of the batch goes out before its sending marks are durable
	// (see sendmark.go).
	marked, err := d.q.markSending(ctx, ids(live))
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("smtp delivery: cannot record that replies are being sent; not sending them", "dest", dest, "replies", len(live), "err", err)
		}
		d.release(ctx, live)
		return outcome{dest: dest}, true
	}
	if len(marked) < len(live) {
		// Leases lost to another replica (this one could not renew them
		// in time): theirs to send now.
		live = only(live, marked)
		if len(live) == 0 {
			return outcome{dest: dest}, false
		}
	}
	if p := s.pipeline(); p != nil {
		return d.deliverPipelined(ctx, p, dest, live, texts, fails, marks)
	}
	for i, m := range live {
		if d.stopping(ctx, live[i:], marks) {
			return outcome{dest: dest}, true
		}
		err = s.send(m.From, m.Rcpt, texts[m.ID])
		if out, stop := d.sent(ctx, dest, live, i, fails, err, marks, s.reset); stop {
			return out, true
		}
	}
	return outcome{dest: dest}, false
}

// withText drops the replies of live that have no text in texts (lost:
// nothing can be sent for them) and returns the others.
func (d *Delivery) withText(ctx context.Context, live []Message, texts map[int64]text) []Message {
	kept := live[:0:0]
	for _, m := range live {
		if _, ok := texts[m.ID]; !ok {
			d.drop(ctx, m, dropLost, "the queued reply has no text")
			continue
		}
		kept = append(kept, m)
	}
	return kept
}

// stopping reports whether a batch must stop before sending rest, because
// delivery is ending or the queue cannot record deliveries; rest is then
// still queued (delivered after a restart, or once the queue can record
// again) and its sending marks are cleared.
func (d *Delivery) stopping(ctx context.Context, rest []Message, marks *marker) bool {
	if ctx.Err() == nil && !marks.failing() {
		return false
	}
	d.unsent(ctx, rest)
	return true
}

// only returns the replies of ms whose ids are in keep.
func only(ms []Message, keep []int64) []Message {
	out := ms[:0:0]
	for _, m := range ms {
		if slices.Contains(keep, m.ID) {
			out = append(out, m)
		}
	}
	return out
}

// release gives back the leases of ms, claimed and not sent, so that
// another replica may send them at once.
func (d *Delivery) release(ctx context.Context, ms []Message) {
	if len(ms) == 0 {
		return
	}
	if err := d.q.b.release(context.WithoutCancel(ctx), ids(ms)); err != nil {
		d.log.Warn("smtp delivery: cannot give back replies claimed and not sent; they wait for their lease to end", "replies", len(ms), "err", err)
	}
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
		d.drop(ctx, m, dropRejected, err.Error())
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
		// A transaction left open by a pipelined envelope ends with the
		// connection.
		if d.stopping(ctx, live[i:], marks) {
			return outcome{dest: dest}, true
		}
		data := texts[m.ID]
		if !sentEnvelope {
			if err := p.envelope(m.From, m.Rcpt); err != nil {
				d.drop(ctx, m, dropRejected, err.Error())
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
			sentEnvelope = p.envelope(live[i+1].From, live[i+1].Rcpt) == nil
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
	live := d.unexpiredAt(ctx, ms, retry, err.Error())
	if len(live) == 0 {
		return
	}
	deferred := ids(live)
	if e := d.q.reschedule(context.WithoutCancel(ctx), deferred, retry, err.Error()); e != nil {
		// Left as they are, the replies would be due again at once.
		now := d.q.now()
		rs := make([]result, len(deferred))
		for i, id := range deferred {
			rs[i] = result{id: id, state: "queued", at: now, next: retry, reason: err.Error()}
		}
		d.keep(e, rs...)
	}
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Deferred.Add(float64(len(deferred)))
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
