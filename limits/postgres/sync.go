package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/limits"
)

// Table is the table of the shared budgets: one row per client whose
// bucket is not full, its TAT in µs since the Unix epoch. Unlogged: it is
// a cache of the last minute, not worth a write-ahead log, and emptied by
// a crash of the database, which forgives budgets and loses nothing else.
const Table = "web_rate_limits"

const schema = `
CREATE UNLOGGED TABLE IF NOT EXISTS ` + Table + ` (
	client text PRIMARY KEY,
	tat_us bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS ` + Table + `_tat ON ` + Table + ` (tat_us)`

// schemaLock is the advisory lock under which replicas create the table,
// so that two starting at once do not race on the catalog.
const schemaLock = 0x71756f74_65736472 // "quotesdr"

// syncSQL adds the charges ($1 clients, $2 µs each) at $3 (now, µs), and
// returns the new TAT of those clients, then the TAT of at most $4 other
// clients whose bucket is not full, most used first, as the statement
// began: a replica learns of a client spending its budget elsewhere
// before that client comes to it. A TAT adds a charge to the later of
// itself and now, as a request does.
const syncSQL = `
WITH up AS (
	INSERT INTO ` + Table + ` AS w (client, tat_us)
	SELECT client, $3::bigint + charge FROM unnest($1::text[], $2::bigint[]) AS d(client, charge)
	ON CONFLICT (client) DO UPDATE SET tat_us = greatest(w.tat_us, $3::bigint) + (excluded.tat_us - $3::bigint)
	RETURNING client, tat_us
)
SELECT client, tat_us FROM up
UNION ALL
(SELECT client, tat_us FROM ` + Table + ` WHERE tat_us > $3::bigint ORDER BY tat_us DESC LIMIT $4)`

// deleteSQL deletes the full buckets: a missing row means a full bucket.
const deleteSQL = `DELETE FROM ` + Table + ` WHERE tat_us <= $1::bigint`

// pullMax is how many of the most used clients a sync reads besides
// those it charged: a replica's table holds limits.MaxClients, and the
// read must stay a few milliseconds.
const pullMax = 4096

// deleteEvery is how often a replica deletes the full buckets.
const deleteEvery = 10 * time.Second

// Serve syncs with the database every Interval until ctx ends, then syncs
// a last time so that what this replica let through is counted. It
// returns nil: a failing database makes the limiter degrade, never stop.
func (l *Limiter) Serve(ctx context.Context) error {
	t := time.NewTicker(l.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			_ = l.Sync(final) // a failure is logged; nothing more can be done at exit
			return nil
		case <-t.C:
			// Not cancelled by ctx: a sync cut short at shutdown would
			// read as the database out of reach. It is bounded anyway.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second+l.cfg.Interval)
			_ = l.Sync(sctx)
			cancel()
		}
	}
}

// String names the service in the supervisor's log.
func (l *Limiter) String() string { return "web-rate-shared" }

// Sync sends what this replica has let through since the last sync and
// reads back the shared budgets, in one statement, at the clock's now.
// A failure switches the limiter to per-replica limits (and says so, once)
// until a sync succeeds again; the error is returned as well.
func (l *Limiter) Sync(ctx context.Context) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	now := l.cfg.Now().UnixMicro()
	keys, names, charges := l.takeCharges()
	err := l.ensureSchema(ctx)
	var got map[string]int64
	if err == nil {
		got, err = l.exchange(ctx, names, charges, now)
	}
	if err != nil {
		l.failed(keys, now, err)
		return err
	}
	l.merge(keys, got, now)
	return nil
}

// takeCharges moves the charges made since the last sync in flight,
// sorted by client so that replicas lock the rows in one order.
func (l *Limiter) takeCharges() (keys []limits.Client, names []string, charges []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys, l.dirty = l.dirty, nil
	type charge struct {
		c    limits.Client
		name string
		us   int64
	}
	cs := make([]charge, 0, len(keys))
	for _, c := range keys {
		e := l.clients[c]
		if e == nil {
			continue // forgotten by SetRate(0)
		}
		e.dirty = false
		e.inflight, e.pending = e.pending, 0
		cs = append(cs, charge{c, c.String(), e.inflight})
	}
	slices.SortFunc(cs, func(a, b charge) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	keys, names, charges = make([]limits.Client, len(cs)), make([]string, len(cs)), make([]int64, len(cs))
	for i, c := range cs {
		keys[i], names[i], charges[i] = c.c, c.name, c.us
	}
	return keys, names, charges
}

// ensureSchema creates the table once, under an advisory lock.
func (l *Limiter) ensureSchema(ctx context.Context) error {
	if l.schemaOK {
		return nil
	}
	err := pgx.BeginFunc(ctx, l.cfg.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("creating table %s: %w", Table, err)
	}
	l.schemaOK = true
	return nil
}

// exchange runs syncSQL, and every deleteEvery deleteSQL in the same round
// trip, and returns the TAT of each client read, the latest when a client
// comes twice.
func (l *Limiter) exchange(ctx context.Context, names []string, charges []int64, now int64) (map[string]int64, error) {
	b := &pgx.Batch{}
	b.Queue(syncSQL, names, charges, now, pullMax)
	deleting := now-l.lastDelete >= deleteEvery.Microseconds()
	if deleting {
		b.Queue(deleteSQL, now)
	}
	br := l.cfg.Pool.SendBatch(ctx, b)
	got := make(map[string]int64, len(names))
	rows, err := br.Query()
	if err == nil {
		var name string
		var tat int64
		_, err = pgx.ForEachRow(rows, []any{&name, &tat}, func() error {
			got[name] = max(got[name], tat)
			return nil
		})
	}
	if err == nil && deleting {
		if _, err = br.Exec(); err == nil {
			l.lastDelete = now
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("syncing the shared web rate limits: %w", err)
	}
	return got, nil
}

// merge takes the TATs read: each client's is the later of what this
// replica knew and what the database says (which holds this replica's
// charges just sent). Clients read that this replica has not seen are
// remembered while there is room.
func (l *Limiter) merge(keys []limits.Client, got map[string]int64, now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range keys {
		e := l.clients[c]
		if e == nil {
			continue
		}
		name := c.String()
		if tat, ok := got[name]; ok {
			e.tat = max(e.tat, tat)
			delete(got, name)
		} else {
			e.tat = max(e.tat, now) + e.inflight // cannot happen: the upsert returns every row
		}
		e.inflight = 0
	}
	for name, tat := range got {
		c, ok := parseClient(name)
		if !ok {
			continue
		}
		if e := l.clients[c]; e != nil {
			e.tat = max(e.tat, tat)
		} else if len(l.clients) < limits.MaxClients && l.step != 0 {
			l.clients[c] = &entry{tat: tat}
		}
	}
	if l.degraded {
		l.degraded = false
		l.log.Info("the shared web rate limit reaches the database again: limits are global again")
		l.cfg.Metrics.setDegraded(false)
	}
}

// failed undoes a sync that could not reach the database: the charges in
// flight, and every pending one, are kept in memory, where they count
// against the per-replica limit from now on.
func (l *Limiter) failed(keys []limits.Client, now int64, err error) {
	l.cfg.Metrics.syncFailed()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.clients {
		if e.pending != 0 || e.inflight != 0 {
			e.tat = max(e.tat, now) + e.pending + e.inflight
			e.pending, e.inflight = 0, 0
		}
		e.dirty = false
	}
	l.dirty = nil
	if !l.degraded {
		l.degraded = true
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("interrupted: %w", err)
		}
		l.log.Warn("the shared web rate limit cannot reach the database: each replica limits alone until it can",
			"err", err, "clients_in_flight", len(keys))
		l.cfg.Metrics.setDegraded(true)
	}
}
