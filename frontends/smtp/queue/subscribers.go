package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/subscribers"
)

// The subscribers of the daily mail live in the queue's database, so that
// a daily mail is queued in the same transaction as the key that says it
// was (RecordOnce), and on PostgreSQL every replica sees the same list.
// Every change goes through the writer, as the replies do; reads do not.

var _ subscribers.Store = (*Queue)(nil)

// errNoToken is the error of a token no subscriber has.
func errNoToken() error {
	return quoter.Errorf(quoter.ENOTFOUND, "no subscription has this token (it may have been removed)")
}

const subscriberColumns = `id, address, tag, token, state, created, changed, bounces`

func scanSubscriber(row interface{ Scan(...any) error }) (subscribers.Subscriber, error) {
	var s subscribers.Subscriber
	var created, changed int64
	err := row.Scan(&s.ID, &s.Address, &s.Tag, &s.Token, &s.State, &created, &changed, &s.Bounces)
	s.Created, s.Changed = time.UnixMilli(created), time.UnixMilli(changed)
	return s, err
}

// Subscribe records that address asked for the daily quote of tag ("" for
// the quote of the day) and returns its subscription. A new address, or
// one that unsubscribed, becomes pending with a new token; a pending one
// keeps its token and takes the new tag; a confirmed one is left as it is
// (anyone can forge a subscribe: only its owner may change it, by
// unsubscribing and subscribing again). Whether a confirmation mail goes
// out is the caller's (see RecordOnce).
func (q *Queue) Subscribe(ctx context.Context, address, tag string) (subscribers.Subscriber, error) {
	return q.upsertSubscriber(ctx, address, tag, subscribers.Pending)
}

// AddSubscriber subscribes address to tag without a confirmation: the
// operator's command. A pending subscription is confirmed.
func (q *Queue) AddSubscriber(ctx context.Context, address, tag string) (subscribers.Subscriber, error) {
	return q.upsertSubscriber(ctx, address, tag, subscribers.Confirmed)
}

func (q *Queue) upsertSubscriber(ctx context.Context, address, tag string, state subscribers.State) (subscribers.Subscriber, error) {
	address = strings.ToLower(address)
	token, err := subscribers.NewToken()
	if err != nil {
		return subscribers.Subscriber{}, err
	}
	var s subscribers.Subscriber
	now := millis(q.now())
	err = q.do(ctx, func(tx *sql.Tx) error {
		// An unsubscribed (or new) address starts over with a new token:
		// the links of its old mail stay dead.
		if _, err := q.exec(tx, `INSERT INTO subscribers (address, tag, token, state, created, changed)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (address) DO UPDATE SET
				tag = CASE WHEN subscribers.state = 'confirmed' AND excluded.state = 'pending' THEN subscribers.tag ELSE excluded.tag END,
				token = CASE WHEN subscribers.state = 'unsubscribed' THEN excluded.token ELSE subscribers.token END,
				bounces = CASE WHEN subscribers.state = 'unsubscribed' THEN 0 ELSE subscribers.bounces END,
				changed = CASE WHEN subscribers.state = excluded.state OR subscribers.state = 'confirmed' THEN subscribers.changed ELSE excluded.changed END,
				state = CASE WHEN subscribers.state = 'confirmed' THEN subscribers.state ELSE excluded.state END`,
			address, tag, token, string(state), now, now); err != nil {
			return fmt.Errorf("subscribing %s: %w", address, err)
		}
		var err error
		s, err = scanSubscriber(tx.QueryRow(q.b.rebind(`SELECT `+subscriberColumns+` FROM subscribers WHERE address = ?`), address))
		return err
	})
	return s, err
}

// Confirm confirms the subscription of token (see subscribers.Store).
func (q *Queue) Confirm(ctx context.Context, token string) (subscribers.Subscriber, error) {
	return q.setState(ctx, token, `UPDATE subscribers SET state = 'confirmed', bounces = 0, changed = ?
		WHERE token = ? AND state = 'pending'`)
}

// Unsubscribe ends the subscription of token (see subscribers.Store).
func (q *Queue) Unsubscribe(ctx context.Context, token string) (subscribers.Subscriber, error) {
	return q.setState(ctx, token, `UPDATE subscribers SET state = 'unsubscribed', changed = ?
		WHERE token = ? AND state <> 'unsubscribed'`)
}

// setState runs update (arguments: now, token) and returns the
// subscription of token as it then is.
func (q *Queue) setState(ctx context.Context, token, update string) (subscribers.Subscriber, error) {
	if !subscribers.ValidToken(token) {
		return subscribers.Subscriber{}, errNoToken()
	}
	var s subscribers.Subscriber
	var found bool
	now := millis(q.now())
	err := q.do(ctx, func(tx *sql.Tx) error {
		if _, err := q.exec(tx, update, now, token); err != nil {
			return fmt.Errorf("updating a subscription: %w", err)
		}
		var err error
		s, err = scanSubscriber(tx.QueryRow(q.b.rebind(`SELECT `+subscriberColumns+` FROM subscribers WHERE token = ?`), token))
		found = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		return err
	})
	if err == nil && !found {
		err = errNoToken()
	}
	return s, err
}

// UnsubscribeAddress ends the subscription of address, if any: an
// "unsubscribe" mail from it. It reports whether there was one to end.
func (q *Queue) UnsubscribeAddress(ctx context.Context, address string) (bool, error) {
	var n int64
	now := millis(q.now())
	err := q.do(ctx, func(tx *sql.Tx) error {
		r, err := q.exec(tx, `UPDATE subscribers SET state = 'unsubscribed', changed = ?
			WHERE address = ? AND state <> 'unsubscribed'`, now, strings.ToLower(address))
		if err != nil {
			return fmt.Errorf("unsubscribing %s: %w", address, err)
		}
		n, err = r.RowsAffected()
		return err
	})
	return n > 0, err
}

// RemoveSubscriber deletes address from the list, whatever its state:
// the operator's command, for an address that must not be kept at all.
// It reports whether the address was there.
func (q *Queue) RemoveSubscriber(ctx context.Context, address string) (bool, error) {
	var n int64
	err := q.do(ctx, func(tx *sql.Tx) error {
		r, err := q.exec(tx, `DELETE FROM subscribers WHERE address = ?`, strings.ToLower(address))
		if err != nil {
			return fmt.Errorf("removing %s: %w", address, err)
		}
		n, err = r.RowsAffected()
		return err
	})
	return n > 0, err
}

// bounceStale is how long a counted hard bounce is remembered: one
// that comes later than this after the last starts the count over, so
// that a mailbox that failed once a season for a day (a full disk, a
// receiving server's bad week) is not unsubscribed in the end, while one
// that is gone bounces every daily mail and reaches the limit in days.
// Mailman forgets a bounce score after a week of quiet, too.
const bounceStale = 7 * 24 * time.Hour

// Bounce counts a hard bounce of the daily mail of token's subscriber;
// at limit bounces, none more than bounceStale after the one before, the
// subscription ends. It returns the subscription as it then is.
func (q *Queue) Bounce(ctx context.Context, token string, limit int) (subscribers.Subscriber, error) {
	if !subscribers.ValidToken(token) {
		return subscribers.Subscriber{}, errNoToken()
	}
	var s subscribers.Subscriber
	var found bool
	now := millis(q.now())
	stale := now - bounceStale.Milliseconds()
	// Every SET expression sees the row as it was: the new count is
	// spelled out in each.
	const count = `(CASE WHEN bounced IS NULL OR bounced < ? THEN 1 ELSE bounces + 1 END)`
	err := q.do(ctx, func(tx *sql.Tx) error {
		if _, err := q.exec(tx, `UPDATE subscribers SET bounces = `+count+`, bounced = ?,
			changed = CASE WHEN `+count+` >= ? THEN ? ELSE changed END,
			state = CASE WHEN `+count+` >= ? THEN 'unsubscribed' ELSE state END
			WHERE token = ? AND state = 'confirmed'`, stale, now, stale, limit, now, stale, limit, token); err != nil {
			return fmt.Errorf("counting a bounce: %w", err)
		}
		var err error
		s, err = scanSubscriber(tx.QueryRow(q.b.rebind(`SELECT `+subscriberColumns+` FROM subscribers WHERE token = ?`), token))
		found = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		return err
	})
	if err == nil && !found {
		err = errNoToken()
	}
	return s, err
}

// SubscriberByToken returns the subscription of token.
func (q *Queue) SubscriberByToken(ctx context.Context, token string) (subscribers.Subscriber, error) {
	if !subscribers.ValidToken(token) {
		return subscribers.Subscriber{}, errNoToken()
	}
	s, err := scanSubscriber(q.db.QueryRowContext(ctx, q.b.rebind(`SELECT `+subscriberColumns+` FROM subscribers WHERE token = ?`), token))
	if errors.Is(err, sql.ErrNoRows) {
		return s, errNoToken()
	}
	return s, err
}

// Subscribers returns the subscriptions with an id above after, in id
// order, at most limit (0: all); only those in state when it is not "".
func (q *Queue) Subscribers(ctx context.Context, state subscribers.State, after int64, limit int) ([]subscribers.Subscriber, error) {
	query := `SELECT ` + subscriberColumns + ` FROM subscribers WHERE id > ?`
	args := []any{after}
	if state != "" {
		query += ` AND state = ?`
		args = append(args, string(state))
	}
	query += ` ORDER BY id`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := q.db.QueryContext(ctx, q.b.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("mail queue: listing subscribers: %w", err)
	}
	defer rows.Close()
	var out []subscribers.Subscriber
	for rows.Next() {
		s, err := scanSubscriber(rows)
		if err != nil {
			return nil, fmt.Errorf("mail queue: listing subscribers: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Once is a message to queue at most once: Key names it ("daily:<id>:<day>",
// "confirm:<address>:<day>"), Day is the day it belongs to (YYYY-MM-DD),
// after which the key is kept for a week (PruneOnce).
type Once struct {
	Key, Day string
	Entry    Entry
	// Capped applies the daily reply caps, as Record does: a confirmation
	// request answers a message, and counts with the replies its sender
	// and client caused. The daily mail is not capped.
	Capped bool
}

// RecordOnce queues the messages of os whose key was never recorded, each
// with its key in the same transaction, and reports which were queued:
// however often it runs (a crash and a restart in the middle of the daily
// run), each key's message is queued once. A capped message a daily cap
// refuses is not queued, and its key not recorded.
func (q *Queue) RecordOnce(ctx context.Context, os []Once) ([]bool, error) {
	queued := make([]bool, len(os))
	now := q.now()
	err := q.do(ctx, func(tx *sql.Tx) error {
		clear(queued)
		for i, o := range os {
			// ON CONFLICT rather than a look first: on PostgreSQL a replica
			// running the same day's mail waits here for the other's commit,
			// then finds the key taken.
			r, err := q.exec(tx, `INSERT INTO once_keys (key, day) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, o.Key, o.Day)
			if err != nil {
				return fmt.Errorf("recording key %s: %w", o.Key, err)
			}
			if n, err := r.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return fmt.Errorf("recording key %s: %w", o.Key, err)
				}
				continue // queued before
			}
			if o.Capped {
				skip, err := q.countReply(tx, o.Entry, now)
				if err != nil {
					return err
				}
				if skip != "" {
					if _, err := q.exec(tx, `DELETE FROM once_keys WHERE key = ?`, o.Key); err != nil {
						return fmt.Errorf("recording key %s: %w", o.Key, err)
					}
					continue
				}
			}
			if _, err := q.queueUncapped(tx, o.Entry, now); err != nil {
				return err
			}
			queued[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	q.notify()
	return queued, nil
}

// PruneOnce forgets the keys of days before day (YYYY-MM-DD).
func (q *Queue) PruneOnce(ctx context.Context, day string) error {
	return q.do(ctx, func(tx *sql.Tx) error {
		_, err := q.exec(tx, `DELETE FROM once_keys WHERE day < ?`, day)
		return err
	})
}
