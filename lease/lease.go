// Package lease elects one leader per role among quotesd replicas that
// share a PostgreSQL database, and runs a service (the IRC bot) only on the
// leader: the replica that holds the role's lease.
//
// A lease is a row of the leases table: the role, its holder, a token
// that grows with every new term, and an expiry on the database's clock.
// The holder renews it every Renew; a replica that finds it expired takes
// it, with a new token. The holder also keeps a deadline of its own: the
// moment it sent its last successful renewal, plus TTL, minus Margin. The
// database cannot have expired the lease before sent+TTL (its clock read
// the renewal after it was sent), so a holder that stops its service by
// that deadline has stopped before any other replica can start one, even
// when it cannot reach the database at all: a partition deposes the
// holder by its own clock, with no message from anyone.
//
// A session advisory lock (pg_advisory_lock on a dedicated connection)
// was weighed and set aside. It is released when the server sees the
// connection die, but a partitioned holder does not learn that it lost
// it, and the server may not see a silent connection die for as long as
// its TCP keep-alive settings say (two hours by default): the takeover
// would wait that long, or two leaders would act at once. It also ties
// leadership to one connection, which poolers in transaction mode do not
// give. The lease row needs neither.
//
// Beside the lease, a leader may claim a (key, day) pair once and for all
// (Leader.Claim): the daily post of a channel, later a webhook's or a
// mail subscription's. The claim is committed in a transaction that also
// checks that this replica's term is the lease's current one, so a
// deposed leader cannot claim, and a day claimed once is never claimed
// again, by any replica, across restarts.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The timing quotesd serve uses. A replica that dies holding the lease
// is replaced within DefaultTTL plus half DefaultRenew (a follower tries
// twice every Renew), 11 s, plus the time its service takes to start; a
// holder whose renewals fail for DefaultTTL minus DefaultMargin (7 s)
// since it sent its last good one steps down.
const (
	DefaultTTL    = 10 * time.Second
	DefaultRenew  = 2 * time.Second
	DefaultMargin = 3 * time.Second
)

// Config says which lease to hold and how.
type Config struct {
	// Role names the job the lease is for ("irc"): one leader per role.
	Role string
	// Holder names this replica in the lease row and the logs; it must
	// differ between replicas. Use NewHolder.
	Holder string
	// TTL is how long a renewal holds the lease, on the database's clock.
	TTL time.Duration
	// Renew is how often the leader renews; a follower tries to lead
	// twice as often.
	Renew time.Duration
	// Margin is how long before its own deadline (last renewal sent + TTL)
	// the leader stops its service: the time the service may take to stop.
	Margin time.Duration
}

// Validate checks that the timing can work: the leader renews at least
// once before it would step down.
func (c Config) Validate() error {
	switch {
	case c.Role == "":
		return errors.New("lease: no role")
	case c.Holder == "":
		return errors.New("lease: no holder name")
	case c.TTL <= 0 || c.Renew <= 0 || c.Margin <= 0:
		return fmt.Errorf("lease: TTL (%s), Renew (%s) and Margin (%s) must be positive", c.TTL, c.Renew, c.Margin)
	case c.Renew >= c.TTL-c.Margin:
		return fmt.Errorf("lease: Renew (%s) must be shorter than TTL minus Margin (%s)", c.Renew, c.TTL-c.Margin)
	}
	return nil
}

// NewHolder returns a name for this replica that no other replica has:
// the host name, the process id and random bits (a restarted process is
// another holder).
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// schema is the package's two tables, created if missing. They belong to
// this package, not to the library's store: the lease works whatever
// else the database holds.
const schema = `
CREATE TABLE IF NOT EXISTS leases (
	role       text PRIMARY KEY,
	holder     text NOT NULL,
	token      bigint NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_claims (
	key        text PRIMARY KEY,
	day        date NOT NULL,
	role       text NOT NULL,
	token      bigint NOT NULL,
	claimed_at timestamptz NOT NULL DEFAULT now()
);`

// schemaLock is the advisory lock taken while the tables are made, so that
// replicas starting together do not race to create them (CREATE TABLE IF
// NOT EXISTS is not safe against a concurrent one).
const schemaLock = 0x71756f7465736431 // "quotesd1"

// Migrate creates the tables the leases and claims live in, if missing.
func Migrate(ctx context.Context, db *pgxpool.Pool) error {
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("lease: creating the tables: %w", err)
	}
	return nil
}

// term is one tenure of the lease: its token and the local instant by
// which the holder must have stopped acting.
type term struct {
	token    int64
	deadline time.Time
}

// acquire takes the role's lease if it is free (never held, expired,
// released, or held by this very holder), with a new token. It returns
// the zero term when another replica holds it.
func acquire(ctx context.Context, db *pgxpool.Pool, c Config) (term, error) {
	sent := time.Now()
	var token int64
	err := db.QueryRow(ctx, `
INSERT INTO leases AS l (role, holder, token, expires_at)
VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
ON CONFLICT (role) DO UPDATE
	SET holder = excluded.holder, token = l.token + 1, expires_at = excluded.expires_at
	WHERE l.expires_at <= now() OR l.holder = excluded.holder
RETURNING token`, c.Role, c.Holder, c.TTL.Milliseconds()).Scan(&token)
	if errors.Is(err, pgx.ErrNoRows) {
		return term{}, nil
	} else if err != nil {
		return term{}, err
	}
	return term{token: token, deadline: sent.Add(c.TTL - c.Margin)}, nil
}

// renew extends t's lease. It reports false when the lease is no longer
// t's (another replica took it after it expired).
func renew(ctx context.Context, db *pgxpool.Pool, c Config, t term) (term, bool, error) {
	sent := time.Now()
	tag, err := db.Exec(ctx, `
UPDATE leases SET expires_at = now() + $4 * interval '1 millisecond'
WHERE role = $1 AND holder = $2 AND token = $3 AND expires_at > now()`,
		c.Role, c.Holder, t.token, c.TTL.Milliseconds())
	if err != nil {
		return t, true, err
	}
	if tag.RowsAffected() != 1 {
		return t, false, nil
	}
	return term{token: t.token, deadline: sent.Add(c.TTL - c.Margin)}, true, nil
}

// release gives up t's lease at once, so that another replica need not
// wait for it to expire.
func release(ctx context.Context, db *pgxpool.Pool, c Config, t term) error {
	_, err := db.Exec(ctx, `UPDATE leases SET expires_at = now() WHERE role = $1 AND holder = $2 AND token = $3`, c.Role, c.Holder, t.token)
	return err
}
