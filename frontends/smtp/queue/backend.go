package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// backend is what differs between the databases the queue can keep its
// replies in: SQLite (Open), one process's own file, and PostgreSQL
// (OpenPostgres), shared by every replica of quotesd. Everything else (the
// writer and its group commit, the daily caps, the sending marks, the
// scheduler and delivery) is the same code on both, over database/sql; the
// statements are written once in SQLite's dialect and translated by
// rebind where PostgreSQL spells them differently.
type backend interface {
	// where names the database in logs and errors: a file's path, or a
	// URL without its password.
	where() string
	// rebind translates a statement written for SQLite.
	rebind(query string) string
	// countQuery reads the daily count of a key (arguments: key, day) in
	// the writer's transaction, locking it where other processes may
	// count concurrently.
	countQuery() string
	// writeCounts sets the daily counts keys to ns, in the writer's
	// transaction, which read them first (countQuery).
	writeCounts(tx *sql.Tx, keys []countKey, ns []int) error
	// probe is a statement that writes as little as possible, run by
	// settle and writeResults to learn whether the database takes writes.
	probe() string
	// insertRows inserts the replies queued in a transaction (rows, in
	// arrival order), giving them ids in that order; where replicas share
	// the queue, it also has the transaction wake their schedulers when it
	// commits.
	insertRows(tx *sql.Tx, rows []replyRow) error
	// failed tells the backend that the writer's transaction failed.
	failed()
	// retryable reports whether a failed transaction may simply be run
	// again (a deadlock between replicas' writers).
	retryable(err error) bool
	// claim returns due replies, in arrival order, at most limit,
	// leaving out the domains in skip, with ids above after and for
	// domain when it is not "": where replicas share the queue it leases
	// them to this one, so that no other sends them while the lease
	// lasts.
	claim(ctx context.Context, now time.Time, limit int, skip []string, after int64, domain string) ([]Message, error)
	// release gives back the leases of replies claimed and not sent.
	release(ctx context.Context, ids []int64) error
	// nextDue returns when the next reply not due, or leased, at now may
	// be claimed.
	nextDue(ctx context.Context, now time.Time) (time.Time, bool, error)
	// depthQuery counts queued replies (argument: now): their number, how
	// many are deferred, and the smallest id.
	depthQuery() string
	// settleScope restricts settle to the sending marks that no live
	// process can still record: "" for all of them, or a condition that
	// follows AND.
	settleScope(now time.Time) string
	// owned restricts a statement to the replies leased to this process:
	// "" when it owns the database, or a condition that follows AND.
	owned() string
	// shared reports whether other processes use the database: the
	// scheduler then settles the marks of dead ones as it runs, not only
	// at start.
	shared() bool
	// close stops what the backend runs and leaves the database tidy, once
	// the writer has stopped; Close then closes the database.
	close() error
}

// sqliteBackend is the queue in an SQLite file of the state directory.
type sqliteBackend struct {
	q    *Queue
	path string
	// wconn is the writer's own connection, on which checkpoints are off
	// (see Open); lastID the id of the last reply queued: ids are given by
	// the writer, in arrival order, so no statement has to report them.
	wconn           *sql.Conn
	lastID          int64
	stopCheckpoints chan struct{}
	checkpoints     chan struct{}
}

func (b *sqliteBackend) where() string              { return b.path }
func (b *sqliteBackend) rebind(query string) string { return query }
func (b *sqliteBackend) probe() string {
	return fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))
}
func (b *sqliteBackend) retryable(error) bool { return false }
func (b *sqliteBackend) shared() bool         { return false }
func (b *sqliteBackend) owned() string        { return "" }
func (b *sqliteBackend) settleScope(time.Time) string {
	return ""
}

func (b *sqliteBackend) countQuery() string {
	return `SELECT n FROM reply_counts WHERE key = ? AND day = ?`
}

// insertRows gives the replies the ids that follow the last, so that no
// statement has to report them, and inserts them with multi-row INSERTs.
func (b *sqliteBackend) insertRows(tx *sql.Tx, rows []replyRow) error {
	for i := range rows {
		b.lastID++
		rows[i].id = b.lastID
	}
	return b.q.insertMultiRow(tx, rows)
}

func (b *sqliteBackend) writeCounts(tx *sql.Tx, keys []countKey, ns []int) error {
	st := tx.Stmt(b.q.stmts.setCount)
	for i, k := range keys {
		if _, err := st.Exec(k.key, k.day, ns[i]); err != nil {
			return err
		}
	}
	return nil
}

// failed re-reads the last id: should another process have queued
// replies in this database, the next ids follow theirs.
func (b *sqliteBackend) failed() {
	var last int64
	if b.q.db.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&last) == nil {
		b.lastID = max(b.lastID, last)
	}
}

// claim lists due replies: one process owns the file, and its scheduler
// never hands a reply to two deliveries, so nothing is leased.
func (b *sqliteBackend) claim(ctx context.Context, now time.Time, limit int, skip []string, after int64, domain string) ([]Message, error) {
	if after > 0 {
		return b.q.dueAfter(ctx, now, limit, domain, after)
	}
	return b.q.due(ctx, now, limit, skip)
}

func (b *sqliteBackend) release(context.Context, []int64) error { return nil }

func (b *sqliteBackend) nextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var next sql.NullInt64
	err := b.q.db.QueryRowContext(ctx, `SELECT MIN(next_attempt) FROM messages
		WHERE state = 'queued' AND next_attempt > ?`, millis(now)).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("mail queue: finding next attempt: %w", err)
	}
	return time.UnixMilli(next.Int64), next.Valid, nil
}

// depthQuery reads the messages_due index over the queued replies only
// (state, next_attempt and id are all in it; INDEXED BY makes sure of it).
func (b *sqliteBackend) depthQuery() string {
	return `SELECT COUNT(*), COALESCE(SUM(next_attempt > ?), 0), MIN(id)
		FROM messages INDEXED BY messages_due WHERE state = 'queued'`
}

// checkpointer runs passive checkpoints, which never block the writer, in
// place of the automatic ones the writer's connection does not do.
func (b *sqliteBackend) checkpointer() {
	defer close(b.checkpoints)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stopCheckpoints:
			return
		case <-t.C:
			_, _ = b.q.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close folds the WAL into the database, so the files at rest are one.
func (b *sqliteBackend) close() error {
	close(b.stopCheckpoints)
	<-b.checkpoints
	b.wconn.Close()
	_, err := b.q.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
