package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Sending marks bound the copies of a reply that storage failures and
// restarts can cause. Delivery records a reply as sent only after the next
// hop's 250, so a run that stops (or whose disk fills) between the two
// leaves the reply queued although it went out. Within a run such a reply
// is held in memory and not sent again (pause.go), but the next run cannot
// tell it from one never sent, and on a nearly full disk every run could
// send it once more: its start-up write succeeds, the larger write of the
// delivery fails.
//
// So each attempt leaves a durable trace before it starts:
//
//   - Before a batch of replies goes out, their mark (messages.sending_since)
//     is committed; when that commit fails nothing of the batch is sent.
//   - Every recorded outcome (sent, dropped, to retry) clears the mark, in
//     the same statement that records it; a batch that stops early clears
//     the marks of the replies it did not send, when the queue can write.
//   - Before a run sends anything, it settles: a mark it finds was left by
//     an earlier run, by an attempt whose outcome no one recorded, which
//     may have delivered a copy. Each becomes one lost outcome
//     (messages.lost_outcomes + 1), or, when the reply already has
//     maxLostOutcomes, the reply is given up (state 'failed').
//
// The invariant: every attempt that may have delivered a copy of a reply
// is the one recorded as sent (after which the reply is never taken
// again), one counted in lost_outcomes, or the attempt in progress; and an
// attempt starts only while lost_outcomes <= maxLostOutcomes. A reply
// therefore reaches the next hop at most maxLostOutcomes+1 times: at most
// one extra copy, however many restarts and storage failures follow, in
// whatever order. The bound errs towards sending less: a mark left on a
// reply the run did not get to send (its batch stopped when the disk
// filled, and clearing the mark failed too) counts as a lost outcome.
//
// What it does not bound: a connection lost after a reply's text went out
// and before the answer to it, which the next hop may have taken (RFC
// 1047). The outcome of that attempt is recorded, as a retry: the
// ambiguity is SMTP's, not the queue's.

// maxLostOutcomes is how many attempts of a reply may end without their
// outcome recorded before the reply is given up rather than sent again:
// one, so that at most one extra copy can go out.
const maxLostOutcomes = 1

// markSending commits the sending mark of ids (see above) and returns
// once it is durable, with the ids marked; an error means the marks may
// not be, and the replies must not be sent. Where replicas share the
// queue, only the replies still leased to this one are marked (a lease
// lost while the database was out of reach may have gone to another
// replica). It is an urgent operation: the lazy sent markers the writer
// holds share its commit.
func (q *Queue) markSending(ctx context.Context, ids []int64) (marked []int64, err error) {
	now, list := millis(q.now()), idList(ids)
	err = q.do(ctx, func(tx *sql.Tx) error {
		marked = marked[:0]
		rows, err := q.query(tx, `UPDATE messages SET sending_since = ? WHERE id IN (SELECT value FROM json_each(?))`+
			q.b.owned()+` RETURNING id`, now, list)
		if err != nil {
			return fmt.Errorf("marking %d replies as being sent: %w", len(ids), err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("marking %d replies as being sent: %w", len(ids), err)
			}
			marked = append(marked, id)
		}
		return rows.Err()
	})
	return marked, err
}

// unmarkSending clears the sending mark of ids, replies a delivery marked
// and then did not send.
func (q *Queue) unmarkSending(ctx context.Context, ids []int64) error {
	list := idList(ids)
	return q.do(ctx, func(tx *sql.Tx) error {
		_, err := q.exec(tx, `UPDATE messages SET sending_since = NULL
			WHERE id IN (SELECT value FROM json_each(?)) AND state = 'queued'`, list)
		if err != nil {
			return fmt.Errorf("clearing the sending mark of %d replies: %w", len(ids), err)
		}
		return nil
	})
}

// settled is what settle found: the replies that an earlier run was
// sending when it stopped, which may now be sent once more (resend), and
// those it gave up, whose one extra attempt was spent before (givenUp).
type settled struct {
	resend, givenUp []Message
}

// givenUpReason is the last_error of a reply settle gives up.
const givenUpReason = "unrecorded: sent by two runs that both stopped before recording the delivery; " +
	"not sent again, for it may have arrived twice already"

// settle turns the sending marks left by earlier runs into lost outcomes,
// or gives their replies up (see above), in one commit. Delivery calls it
// before it sends anything, and sends nothing until it succeeds. The
// commit also rewrites the schema version, so that it writes even when
// there is nothing to settle: it is the probe of whether the queue can
// record deliveries at all.
func (q *Queue) settle(ctx context.Context) (settled, error) {
	var s settled
	now := millis(q.now())
	scope := q.b.settleScope(q.now())
	err := q.do(ctx, func(tx *sql.Tx) error {
		s = settled{}
		rows, err := q.query(tx, `SELECT id, rcpt, created, attempts, lost_outcomes FROM messages
			WHERE state = 'queued' AND sending_since IS NOT NULL`+scope+` ORDER BY id`)
		if err != nil {
			return fmt.Errorf("listing replies being sent when the queue was last closed: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m Message
			var created int64
			var lost int
			if err := rows.Scan(&m.ID, &m.Rcpt, &created, &m.Attempts, &lost); err != nil {
				return fmt.Errorf("listing replies being sent when the queue was last closed: %w", err)
			}
			m.Created = time.UnixMilli(created)
			if lost >= maxLostOutcomes {
				s.givenUp = append(s.givenUp, m)
			} else {
				s.resend = append(s.resend, m)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("listing replies being sent when the queue was last closed: %w", err)
		}
		rows.Close()
		if len(s.givenUp) > 0 {
			list := idList(ids(s.givenUp))
			if _, err := q.exec(tx, `UPDATE messages SET state = 'failed', done_at = ?, attempts = attempts + 1,
				last_error = ?, sending_since = NULL WHERE id IN (SELECT value FROM json_each(?))`, now, givenUpReason, list); err != nil {
				return fmt.Errorf("giving up replies sent twice without a record: %w", err)
			}
			if _, err := tx.Stmt(q.stmts.unbodyMany).Exec(list); err != nil {
				return fmt.Errorf("giving up replies sent twice without a record: %w", err)
			}
		}
		if _, err := q.exec(tx, `UPDATE messages SET lost_outcomes = lost_outcomes + 1, attempts = attempts + 1,
			sending_since = NULL WHERE state = 'queued' AND sending_since IS NOT NULL`+scope); err != nil {
			return fmt.Errorf("counting the unrecorded attempts of replies: %w", err)
		}
		_, err = tx.Exec(q.b.probe())
		return err
	})
	if err != nil {
		return settled{}, err
	}
	return s, nil
}
