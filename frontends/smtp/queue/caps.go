package queue

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reasons Record gives for not queueing a reply (the policy's own reasons
// come from the caller).
const (
	SkipRecipientLimit = "recipient-limit" // the recipient had its replies for today
	SkipIPLimit        = "ip-limit"        // the sending IP had its replies for today
)

// Limits cap replies per UTC day. Zero means no cap.
type Limits struct {
	PerRecipient int // replies to one address
	PerIP        int // replies caused by mail from one client IP
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
// sessions and restarts.
func (q *Queue) countReply(tx *sql.Tx, e Entry, now time.Time) (skip string, err error) {
	day := now.UTC().Format(time.DateOnly)
	rcptKey, ipKey := "rcpt:"+mailbox(e.Rcpt), "ip:"+e.IP
	lim := *q.limits.Load()
	for _, c := range []struct {
		key, reason string
		limit       int
	}{{rcptKey, SkipRecipientLimit, lim.PerRecipient}, {ipKey, SkipIPLimit, lim.PerIP}} {
		if c.limit <= 0 {
			continue
		}
		var n int
		err := tx.Stmt(q.stmts.count).QueryRow(c.key, day).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("reading reply count: %w", err)
		}
		if n >= c.limit {
			return c.reason, nil
		}
	}
	// Count only what a limit uses: a cap of 0 means no cap, and no count.
	for _, c := range []struct {
		key   string
		limit int
	}{{rcptKey, lim.PerRecipient}, {ipKey, lim.PerIP}} {
		if c.limit <= 0 {
			continue
		}
		if _, err := tx.Stmt(q.stmts.bump).Exec(c.key, day); err != nil {
			return "", fmt.Errorf("counting reply: %w", err)
		}
	}
	return "", nil
}
