package queue

import (
	"database/sql"
	"errors"
	"fmt"
	"github.com/quotesd/quotesd/limits"
	"net/netip"
	"strings"
	"time"
)

// Reasons Record gives for not queueing a reply (the policy's own reasons
// come from the caller).
const (
	SkipRecipientLimit = "recipient_limit" // the recipient had its replies for today
	SkipIPLimit        = "ip_limit"        // the sending client had its replies for today
)

// Limits cap replies per UTC day. Zero means no cap.
type Limits struct {
	PerRecipient int // replies to one address
	// PerIP caps the replies caused by mail from one client: an IPv4
	// address, or an IPv6 /64 (limits.Client), so that a sender cannot
	// get a fresh cap with each address of its prefix.
	PerIP int
}

// WithLimits sets the daily reply caps.
func WithLimits(l Limits) Option { return func(q *Queue) { q.limits.Store(&l) } }

// SetLimits changes the daily reply caps of a running queue (on SIGHUP).
// Replies recorded from then on obey the new caps. A cap raised from 0
// (none) starts counting from the moment it is set.
func (q *Queue) SetLimits(l Limits) { q.limits.Store(&l) }

// mailbox returns the mailbox addr delivers to, which the daily cap per
// recipient counts: addr in lower case, without a "+" subaddress (RFC
// 5233). Mail to victim+1@, victim+2@... lands in victim@'s mailbox, and a
// forged sender that varies the subaddress must not multiply the replies
// sent there.
func mailbox(addr string) string {
	addr = strings.ToLower(addr)
	at := strings.LastIndexByte(addr, '@')
	if plus := strings.IndexByte(addr[:max(at, 0)], '+'); plus > 0 {
		return addr[:plus] + addr[at:]
	}
	return addr
}

// countReply applies the daily caps to the reply e, in the writer's
// transaction: it returns the cap the reply is over, or "" once the reply
// is counted against each cap in force. Checked and counted in the
// transaction that queues the reply, the caps hold across concurrent
// sessions, restarts and (PostgreSQL) replicas.
func (q *Queue) countReply(tx *sql.Tx, e Entry, now time.Time) (skip string, err error) {
	day := now.UTC().Format(time.DateOnly)
	rcptKey, ipKey := "rcpt:"+mailbox(e.Rcpt), clientKey(e.IP)
	lim := *q.limits.Load()
	caps := []struct {
		key, reason string
		limit       int
	}{{rcptKey, SkipRecipientLimit, lim.PerRecipient}, {ipKey, SkipIPLimit, lim.PerIP}}
	for _, c := range caps {
		if c.limit <= 0 {
			continue
		}
		n, err := q.count(tx, countKey{c.key, day})
		if err != nil {
			return "", err
		}
		if n.n >= c.limit {
			return c.reason, nil
		}
	}
	// Count only what a limit uses: a cap of 0 means no cap, and no count.
	for _, c := range caps {
		if c.limit > 0 {
			n := q.counts[countKey{c.key, day}]
			n.n, n.dirty = n.n+1, true
		}
	}
	return "", nil
}

// countKey names a daily count: its key ("rcpt:<mailbox>" or
// "ip:<client>") and its day (YYYY-MM-DD, UTC).
type countKey struct{ key, day string }

// txCount is a daily count as the writer's transaction sees it: read once
// (and, where replicas share the queue, locked) from the database, then
// counted in memory; dirty says it changed, and flushCounts writes it
// before the commit. Many replies of a batch often share a count (one
// client, one mailbox): it is read and written once per transaction, not
// once per reply.
type txCount struct {
	n     int
	dirty bool
}

// count returns the count k in the writer's transaction.
func (q *Queue) count(tx *sql.Tx, k countKey) (*txCount, error) {
	if n, ok := q.counts[k]; ok {
		return n, nil
	}
	n := &txCount{}
	err := tx.Stmt(q.stmts.count).QueryRow(k.key, k.day).Scan(&n.n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading reply count: %w", err)
	}
	if q.counts == nil {
		q.counts = make(map[countKey]*txCount)
	}
	q.counts[k] = n
	return n, nil
}

// flushCounts writes the counts the writer's transaction changed, and
// forgets them all: the next transaction reads them again.
func (q *Queue) flushCounts(tx *sql.Tx) error {
	defer clear(q.counts)
	var keys []countKey
	var ns []int
	for k, n := range q.counts {
		if n.dirty {
			keys, ns = append(keys, k), append(ns, n.n)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if err := q.b.writeCounts(tx, keys, ns); err != nil {
		return fmt.Errorf("counting replies: %w", err)
	}
	return nil
}

// clientKey is the key of the daily count per client of mail from the
// address ip: "ip:" and the client's string ("ip:192.0.2.1",
// "ip:2001:db8:1:2::/64"); "ip:" and ip itself when it is no IP address.
func clientKey(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		return "ip:" + limits.ClientOf(a).String()
	}
	return "ip:" + ip
}

// foldClientCounts is the Go part of migration 4: it rewrites the daily
// counts kept per IP address into counts per client (clientKey), adding
// up those of the addresses of one IPv6 /64 on one day. IPv4 keys stay as
// they are. Without it, a /64 whose addresses had spent their caps on the
// day of the upgrade would get a whole fresh cap for the rest of it.
func foldClientCounts(tx *sql.Tx) error {
	type count struct {
		key, day string
		n        int
	}
	rows, err := tx.Query(`SELECT key, day, n FROM reply_counts WHERE key LIKE 'ip:%'`)
	if err != nil {
		return fmt.Errorf("reading the counts per IP: %w", err)
	}
	var old []count
	for rows.Next() {
		var c count
		if err := rows.Scan(&c.key, &c.day, &c.n); err != nil {
			rows.Close()
			return fmt.Errorf("reading the counts per IP: %w", err)
		}
		old = append(old, c)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("reading the counts per IP: %w", err)
	}
	for _, c := range old {
		key := clientKey(strings.TrimPrefix(c.key, "ip:"))
		if key == c.key {
			continue
		}
		if _, err := tx.Exec(`DELETE FROM reply_counts WHERE key = ? AND day = ?`, c.key, c.day); err != nil {
			return fmt.Errorf("counting %s per client: %w", c.key, err)
		}
		if _, err := tx.Exec(`INSERT INTO reply_counts (key, day, n) VALUES (?, ?, ?)
			ON CONFLICT (key, day) DO UPDATE SET n = n + excluded.n`, key, c.day, c.n); err != nil {
			return fmt.Errorf("counting %s per client: %w", c.key, err)
		}
	}
	return nil
}
