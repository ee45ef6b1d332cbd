package queue

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Message is a queued reply as the scheduler sees it.
type Message struct {
	ID       int64
	Rcpt     string
	Created  time.Time
	Attempts int
	// From is the envelope sender: "" for the null reverse path (see
	// Entry.From).
	From string
}

// due returns queued messages whose next attempt is at or before now, in
// arrival order, at most limit of them, leaving out those for the domains
// in skip (destinations busy or backing off: listing their messages again
// and again would cost the scheduler most of its time under load).
func (q *Queue) due(ctx context.Context, now time.Time, limit int, skip []string) ([]Message, error) {
	query := `SELECT id, rcpt, created, attempts, sender FROM messages WHERE state = 'queued' AND next_attempt <= ?`
	args := []any{millis(now)}
	if len(skip) > 0 {
		query += ` AND domain NOT IN (?` + strings.Repeat(`, ?`, len(skip)-1) + `)`
		for _, d := range skip {
			args = append(args, d)
		}
	}
	rows, err := q.db.QueryContext(ctx, q.b.rebind(query+` ORDER BY id LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("mail queue: listing due messages: %w", err)
	}
	return scanMessages(rows)
}

// dueAfter is due for a delivery that holds a connection and asks for more
// to send on it: the messages that arrived after the last it sent (those
// it sent may not be marked yet), for recipients at domain, or all when
// domain is "".
//
// It walks the table in arrival order from after, and stops at limit: the
// messages that follow the last one sent are, nearly all, the next ones
// due. Left to itself SQLite would take every queued message due from the
// messages_due index and sort them all by id to return the first few, a
// cost that grows with the backlog: 0.9 ms a query, 9 µs a reply, with
// 10,000 replies waiting. The unary + keeps the other terms from choosing
// an index.
func (q *Queue) dueAfter(ctx context.Context, now time.Time, limit int, domain string, after int64) ([]Message, error) {
	args := []any{after, millis(now)}
	if domain != "" {
		args = append(args, domain)
	}
	rows, err := q.db.QueryContext(ctx, dueAfterQuery(domain != ""), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("mail queue: listing due messages: %w", err)
	}
	return scanMessages(rows)
}

// dueAfterQuery is dueAfter's query; its arguments are the id to start
// after, now, the domain when byDomain, and the limit.
func dueAfterQuery(byDomain bool) string {
	query := `SELECT id, rcpt, created, attempts, sender FROM messages WHERE id > ? AND +state = 'queued' AND +next_attempt <= ?`
	if byDomain {
		query += ` AND +domain = ?`
	}
	return query + ` ORDER BY id LIMIT ?`
}

func scanMessages(rows *sql.Rows) ([]Message, error) {
	defer rows.Close()
	var ms []Message
	for rows.Next() {
		var m Message
		var created int64
		if err := rows.Scan(&m.ID, &m.Rcpt, &created, &m.Attempts, &m.From); err != nil {
			return nil, fmt.Errorf("mail queue: listing due messages: %w", err)
		}
		m.Created = time.UnixMilli(created)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// nextDue returns when the earliest queued message not due yet becomes due
// (or, where replicas share the queue, its lease ends).
func (q *Queue) nextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	return q.b.nextDue(ctx, now)
}

// text is a queued reply's text, in the two parts it is stored in: its
// own head, then the part it shares with other replies (nil when none),
// which is sent as it is read rather than copied after the head.
type text struct{ head, shared []byte }

// bytes returns the text in one piece.
func (t text) bytes() []byte {
	if len(t.shared) == 0 {
		return t.head
	}
	return append(t.head[:len(t.head):len(t.head)], t.shared...)
}

// bodies returns the texts of the queued messages ms, by id: their heads
// in one query, and the shared texts they use (usually one, today's
// quote, for a whole batch) in another, each read once.
func (q *Queue) bodies(ctx context.Context, ms []Message) (map[int64]text, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	args := make([]any, len(ms))
	for i, m := range ms {
		args[i] = m.ID
	}
	rows, err := q.db.QueryContext(ctx, q.b.rebind(`SELECT id, data, text_id FROM bodies
		WHERE id IN (?`+strings.Repeat(`, ?`, len(ms)-1)+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("mail queue: reading replies: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]text, len(ms))
	uses := map[int64]int64{} // reply id -> shared text id
	var shared []any          // shared text ids, each once
	for rows.Next() {
		var id int64
		var head []byte
		var tid sql.NullInt64
		if err := rows.Scan(&id, &head, &tid); err != nil {
			return nil, fmt.Errorf("mail queue: reading replies: %w", err)
		}
		out[id] = text{head: head}
		if tid.Valid {
			if !slices.Contains(shared, any(tid.Int64)) {
				shared = append(shared, tid.Int64)
			}
			uses[id] = tid.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail queue: reading replies: %w", err)
	}
	rows.Close()
	if len(shared) == 0 {
		return out, nil
	}
	texts, err := q.db.QueryContext(ctx, q.b.rebind(`SELECT id, data FROM texts WHERE id IN (?`+strings.Repeat(`, ?`, len(shared)-1)+`)`), shared...)
	if err != nil {
		return nil, fmt.Errorf("mail queue: reading shared texts: %w", err)
	}
	defer texts.Close()
	byID := make(map[int64][]byte, len(shared))
	for texts.Next() {
		var id int64
		var data []byte
		if err := texts.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("mail queue: reading shared texts: %w", err)
		}
		byID[id] = data
	}
	if err := texts.Err(); err != nil {
		return nil, fmt.Errorf("mail queue: reading shared texts: %w", err)
	}
	for id, tid := range uses {
		t := out[id]
		t.shared = byID[tid] // a reply's text is never deleted before the reply
		out[id] = t
	}
	return out, nil
}

// markSent records the delivery of ids, without waiting for the commit (a
// lazy operation): the caller waits with the pending's wait, after
// hurryWriter. It is the "sent marker" of at-least-once delivery: a crash
// between the relay's 250 and this commit is the one case in which a reply
// can be sent twice.
func (q *Queue) markSent(ids []int64) *pending {
	now := millis(q.now())
	list := idList(ids)
	return q.submitLazy(func(tx *sql.Tx) error {
		if _, err := tx.Stmt(q.stmts.sentMany).Exec(now, list); err != nil {
			return err
		}
		_, err := tx.Stmt(q.stmts.unbodyMany).Exec(list)
		return err
	})
}

// idList returns ids as a JSON array, for the statements that take a
// group of ids as one argument (json_each).
func idList(ids []int64) string {
	list := make([]byte, 0, 2+len(ids)*8)
	list = append(list, '[')
	for i, id := range ids {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, id, 10)
	}
	return string(append(list, ']'))
}

// markFailed records that a message will never be delivered.
func (q *Queue) markFailed(ctx context.Context, id int64, reason string) error {
	now := millis(q.now())
	return q.do(ctx, func(tx *sql.Tx) error {
		if _, err := q.exec(tx, `UPDATE messages SET state = 'failed', done_at = ?, attempts = attempts + 1,
			last_error = ?, sending_since = NULL WHERE id = ?`, now, reason, id); err != nil {
			return err
		}
		_, err := tx.Stmt(q.stmts.unbody).Exec(id)
		return err
	})
}

// reschedule records a failed attempt of each of ids (in one commit) and
// when to try again.
func (q *Queue) reschedule(ctx context.Context, ids []int64, next time.Time, reason string) error {
	return q.do(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.Prepare(q.b.rebind(`UPDATE messages SET next_attempt = ?, attempts = attempts + 1,
			last_error = ?, sending_since = NULL WHERE id = ?`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.Exec(millis(next), reason, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// result is an outcome of delivery that the queue failed to record when
// it happened: Delivery keeps it in memory, and records it again later,
// rather than take the reply for one still to send.
type result struct {
	id     int64
	state  string    // "sent", "failed", or "queued" for a retry at next
	at     time.Time // when it happened
	next   time.Time // of a retry
	reason string    // of a failure or retry
}

// writeResults records rs in one commit. With rs empty it still writes (a
// page of the database header, unchanged), as a probe of whether the
// database can be written again.
func (q *Queue) writeResults(ctx context.Context, rs []result) error {
	return q.do(ctx, func(tx *sql.Tx) error {
		if len(rs) == 0 {
			_, err := tx.Exec(q.b.probe())
			return err
		}
		for _, r := range rs {
			var err error
			switch r.state {
			case "sent":
				_, err = q.exec(tx, `UPDATE messages SET state = 'sent', done_at = ?, attempts = attempts + 1, last_error = '',
					sending_since = NULL WHERE id = ?`, millis(r.at), r.id)
			case "failed":
				_, err = q.exec(tx, `UPDATE messages SET state = 'failed', done_at = ?, attempts = attempts + 1, last_error = ?,
					sending_since = NULL WHERE id = ?`, millis(r.at), r.reason, r.id)
			default:
				_, err = q.exec(tx, `UPDATE messages SET next_attempt = ?, attempts = attempts + 1, last_error = ?,
					sending_since = NULL WHERE id = ?`, millis(r.next), r.reason, r.id)
			}
			if err == nil && r.state != "queued" {
				_, err = tx.Stmt(q.stmts.unbody).Exec(r.id)
			}
			if err != nil {
				return fmt.Errorf("recording the outcome of reply %d: %w", r.id, err)
			}
		}
		return nil
	})
}

// prune deletes finished messages and old counts and skip records, keeping
// the database small. keep is how long finished records stay, for audit.
func (q *Queue) prune(ctx context.Context, keep time.Duration) error {
	now := q.now()
	before := millis(now.Add(-keep))
	day := now.Add(-keep).UTC().Format(time.DateOnly)
	return q.do(ctx, func(tx *sql.Tx) error {
		if _, err := q.exec(tx, `DELETE FROM messages WHERE state != 'queued' AND done_at < ?`, before); err != nil {
			return err
		}
		if _, err := q.exec(tx, `DELETE FROM skipped WHERE at < ?`, before); err != nil {
			return err
		}
		// Shared texts no queued reply uses any more (the replies queued
		// in this transaction first); the writer's map of them may name
		// some.
		if err := q.insertRows(tx); err != nil {
			return err
		}
		clear(q.texts)
		if _, err := q.exec(tx, `DELETE FROM texts WHERE id NOT IN (SELECT text_id FROM bodies WHERE text_id IS NOT NULL)`); err != nil {
			return err
		}
		_, err := q.exec(tx, `DELETE FROM reply_counts WHERE day < ?`, day)
		return err
	})
}

// exec runs query, written for SQLite, in tx.
func (q *Queue) exec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	return tx.Exec(q.b.rebind(query), args...)
}

// query runs query, written for SQLite, in tx.
func (q *Queue) query(tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	return tx.Query(q.b.rebind(query), args...)
}
