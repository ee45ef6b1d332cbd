package lease

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotLeader is Claim's answer on a replica that does not hold the lease.
var ErrNotLeader = errors.New("lease: this replica does not lead")

// Claim records, for good, that key's work of day (its date, in day's
// location) is this leader's to do, and reports whether it was: false
// when key has been claimed for day or a later day already, by any
// replica, before or since a restart. It returns ErrNotLeader, claiming
// nothing, unless this replica's term is the lease's current one, checked
// in the claim's transaction: a deposed leader cannot claim.
//
// Claim before doing the work, and the work is done at most once: a
// replica that dies between the claim and the work leaves that day's work
// undone. The other order (work, then record) would do it twice after
// such a death; the caller whose duplicates are worse than a gap (a
// channel's daily post) claims first.
func (l *Leader) Claim(ctx context.Context, key string, day time.Time) (bool, error) {
	t, ok := l.current()
	if !ok {
		return false, ErrNotLeader
	}
	ctx, cancel := context.WithDeadline(ctx, t.deadline)
	defer cancel()
	claimed := false
	err := pgx.BeginFunc(ctx, l.db, func(tx pgx.Tx) error {
		// FOR SHARE keeps the lease row as it is until the claim commits:
		// a replica taking the lease over waits for it.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM leases WHERE role = $1 AND holder = $2 AND token = $3 AND expires_at > now() FOR SHARE`,
			l.cfg.Role, l.cfg.Holder, t.token).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotLeader
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
INSERT INTO lease_claims AS c (key, day, role, token) VALUES ($1, $2::date, $3, $4)
ON CONFLICT (key) DO UPDATE
	SET day = excluded.day, role = excluded.role, token = excluded.token, claimed_at = now()
	WHERE c.day < excluded.day`, key, day.Format(time.DateOnly), l.cfg.Role, t.token)
		claimed = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, err
	}
	return claimed, nil
}
