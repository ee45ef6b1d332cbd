package queue

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// The queue in PostgreSQL is shared by every replica of quotesd that names
// the same database: each accepts mail and commits its replies, with the
// daily caps, in its own writer's transactions (one commit for many
// sessions, as with SQLite); each replica's scheduler claims due replies
// with FOR UPDATE SKIP LOCKED, which leases them to it (lease_owner,
// lease_until) so that no other replica sends them, and renews its leases
// while it lives. A replica that dies stops renewing: once its leases end,
// the others take its replies, and settle the sending marks it left (the
// same bound as across restarts: at most one extra copy of a reply whose
// delivery it did not record). A replica that queues replies notifies the
// others (LISTEN/NOTIFY), so an idle scheduler wakes at once.

//go:embed migrations/postgres/*.sql
var pgMigrations embed.FS

const (
	// pgSchema holds the queue's tables, apart from the quote library's.
	pgSchema = "mailqueue"
	// pgChannel is the channel of the notifications of queued replies.
	pgChannel = "quotesd_mail_queue"
	// pgMigrationLock is the advisory lock that replicas starting at once
	// take to migrate the schema one at a time.
	pgMigrationLock = 0x71756f7465736d71 // "quotesmq"
)

// OpenPostgres opens the queue shared by the replicas that use the
// PostgreSQL database at dbURL, creating or upgrading its schema
// (mailqueue), and starts its writer, the renewal of this replica's leases
// and the listener of the others' notifications. Close it, or let
// Delivery.Serve close it at shutdown.
func OpenPostgres(ctx context.Context, dbURL string, opts ...Option) (*Queue, error) {
	where := redactURL(dbURL)
	// Parsed as a pool's URL, so that the pool_* settings the library's
	// pool takes (pool_max_conns) are not sent to the server as run-time
	// parameters, which it would refuse.
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("mail queue: %s: %w", where, err)
	}
	cfg := pcfg.ConnConfig
	// The statements name the tables without their schema.
	cfg.RuntimeParams["search_path"] = pgSchema
	if cfg.ConnectTimeout == 0 {
		// The writer's transactions have no deadline of their own: a
		// database that does not answer must fail them (a 451 to the
		// sessions waiting), not hold them until the clients give up.
		cfg.ConnectTimeout = 10 * time.Second
	}
	db := stdlib.OpenDB(*cfg.Copy())
	// The writer uses one connection at a time; the scheduler, the
	// deliveries' claims and reads, the renewals and the counts of the
	// depth gauges a few more.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := migratePostgres(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", where, err)
	}
	var owner [8]byte
	_, _ = rand.Read(owner[:])
	b := &pgBackend{url: where, cfg: cfg, owner: hex.EncodeToString(owner[:])}
	q := newQueue(db, b, opts)
	b.q = q
	if err := q.prepare(); err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", where, err)
	}
	bg, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.wg.Add(2)
	go b.renew(bg)
	go b.listen(bg)
	go q.writer()
	return q, nil
}

// redactURL returns u without its password, for logs.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return p.Redacted()
}

// migratePostgres applies the embedded migrations not yet applied, each in
// its own transaction, recorded in mailqueue.schema_migrations, under an
// advisory lock so that replicas starting together apply each once.
func migratePostgres(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(pgMigrationLock)); err != nil {
		return fmt.Errorf("locking the schema: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(pgMigrationLock))
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgSchema+`;
		CREATE TABLE IF NOT EXISTS `+pgSchema+`.schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
		)`); err != nil {
		return fmt.Errorf("creating schema %s: %w", pgSchema, err)
	}
	files, err := fs.Glob(pgMigrations, "migrations/postgres/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(files)
	var version int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(files) {
		return fmt.Errorf("schema version %d is newer than this quotesd knows (%d); upgrade quotesd", version, len(files))
	}
	for i := version; i < len(files); i++ {
		body, err := pgMigrations.ReadFile(files[i])
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, string(body))
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1)
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", i+1, files[i], err)
		}
	}
	return nil
}

// pgBackend is the queue in a PostgreSQL database shared by replicas.
type pgBackend struct {
	q     *Queue
	url   string          // without its password
	cfg   *pgx.ConnConfig // for the listener's own connection
	owner string          // this replica's name in lease_owner: random, new each run

	binds struct {
		sync.Mutex
		m map[string]string // statement written for SQLite -> its PostgreSQL form
	}

	// held is what this replica's renewals extend: the replies it claimed
	// and has not given back. Renewing every lease in its name instead
	// would keep forever a reply whose giving back failed (the database
	// went away in between), for no delivery here holds it any more; kept
	// apart, such a lease ends on time and any replica takes the reply.
	held struct {
		sync.Mutex
		ids map[int64]struct{}
	}

	stop context.CancelFunc // of renew and listen
	wg   sync.WaitGroup
}

// hold notes ids as claimed by this replica, to be renewed.
func (b *pgBackend) hold(ms []Message) {
	b.held.Lock()
	defer b.held.Unlock()
	if b.held.ids == nil {
		b.held.ids = make(map[int64]struct{})
	}
	for _, m := range ms {
		b.held.ids[m.ID] = struct{}{}
	}
}

// unhold stops renewing ids, whether or not the database heard that they
// were given back.
func (b *pgBackend) unhold(ids []int64) {
	b.held.Lock()
	defer b.held.Unlock()
	for _, id := range ids {
		delete(b.held.ids, id)
	}
}

// heldIDs returns the ids to renew.
func (b *pgBackend) heldIDs() []int64 {
	b.held.Lock()
	defer b.held.Unlock()
	ids := make([]int64, 0, len(b.held.ids))
	for id := range b.held.ids {
		ids = append(ids, id)
	}
	return ids
}

func (b *pgBackend) where() string { return b.url }
func (b *pgBackend) shared() bool  { return true }
func (b *pgBackend) failed()       {}
func (b *pgBackend) probe() string { return `SELECT 1` }
func (b *pgBackend) owned() string { return " AND lease_owner = '" + b.owner + "'" }
func (b *pgBackend) countQuery() string {
	// Inserting the count's row if it is missing and locking it, in one
	// statement: a replica's writer counting the same key waits for this
	// transaction and then reads what it committed, so the caps hold
	// across replicas.
	return `INSERT INTO reply_counts (key, day, n) VALUES (?, ?, 0)
		ON CONFLICT (key, day) DO UPDATE SET n = reply_counts.n RETURNING n`
}

func (b *pgBackend) depthQuery() string {
	return `SELECT COUNT(*), COALESCE(SUM(CASE WHEN next_attempt > $1 THEN 1 ELSE 0 END), 0), MIN(id)
		FROM messages WHERE state = 'queued'`
}

// settleScope leaves out the marks of replies whose lease still runs: a
// live replica is sending them, and will record the outcome.
func (b *pgBackend) settleScope(now time.Time) string {
	return fmt.Sprintf(" AND (lease_until IS NULL OR lease_until <= %d)", millis(now))
}

// pgTranslations are what rebind changes in a statement written for
// SQLite, besides its placeholders: a list of ids given as one JSON array;
// and every statement that records an outcome (it clears the sending
// mark) ends the reply's lease too.
var pgTranslations = strings.NewReplacer(
	`SELECT value FROM json_each(?)`, `SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)`,
	`sending_since = NULL`, `sending_since = NULL, lease_owner = NULL, lease_until = NULL`,
)

// maxBinds bounds the statements rebind keeps translated.
const maxBinds = 256

// rebind translates a statement written for SQLite: the translations
// above, and ? placeholders numbered ($1, $2...). No statement of the
// queue has a ? inside a string.
func (b *pgBackend) rebind(query string) string {
	b.binds.Lock()
	defer b.binds.Unlock()
	if s, ok := b.binds.m[query]; ok {
		return s
	}
	s := pgTranslations.Replace(query)
	var out strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			out.WriteByte('$')
			out.WriteString(strconv.Itoa(n))
			continue
		}
		out.WriteByte(s[i])
	}
	// Multi-row inserts and lists of ids of every length pass here, and
	// settle's statements name the time: keep the short statements, and
	// start over when there are many.
	if n <= 8 {
		if b.binds.m == nil || len(b.binds.m) >= maxBinds {
			b.binds.m = make(map[string]string)
		}
		b.binds.m[query] = out.String()
	}
	return out.String()
}

// insertRows inserts the replies of a transaction in one statement,
// whatever their number (a statement is a round trip to the server): each
// column is an array, which unnest turns into rows, in arrival order; the
// ids come from the table's sequence, which every replica shares, in that
// order; and the other replicas are notified when the transaction
// commits.
func (b *pgBackend) insertRows(tx *sql.Tx, rows []replyRow) error {
	n := len(rows)
	ats, dues := make([]int64, n), make([]int64, n)
	rcpts, domains, senders := make([]string, n), make([]string, n), make([]string, n)
	data, texts := make([][]byte, n), make([]*int64, n)
	for i, r := range rows {
		ats[i], dues[i], rcpts[i], domains[i], senders[i], data[i] = r.at, r.due, r.rcpt, r.domain, r.sender, r.data
		if r.text.Valid {
			texts[i] = &rows[i].text.Int64
		}
	}
	// "replies" is referenced twice, so it is computed once (each row's
	// nextval too); its rows come sorted by arrival before nextval runs.
	_, err := tx.Exec(`WITH replies AS (
			SELECT nextval('messages_id_seq') AS id, u.rcpt, u.domain, u.at, u.due, u.sender, u.data, u.text_id FROM (
				SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bigint[], $7::bigint[], $8::text[])
					WITH ORDINALITY AS r (rcpt, domain, at, data, text_id, due, sender, ord)
				ORDER BY ord) u),
		queued AS (
			INSERT INTO messages (id, rcpt, domain, created, next_attempt, sender)
			SELECT id, rcpt, domain, at, due, sender FROM replies),
		notified AS (SELECT pg_notify($6, ''))
		INSERT INTO bodies (id, data, text_id)
		SELECT id, data, text_id FROM replies, notified`,
		rcpts, domains, ats, data, texts, pgChannel, dues, senders)
	return err
}

// writeCounts sets the counts in one statement: the transaction holds
// their rows locked since it read them (countQuery).
func (b *pgBackend) writeCounts(tx *sql.Tx, keys []countKey, ns []int) error {
	ks, days, vs := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		ks[i], days[i], vs[i] = k.key, k.day, int64(ns[i])
	}
	_, err := tx.Exec(`INSERT INTO reply_counts (key, day, n)
		SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
		ON CONFLICT (key, day) DO UPDATE SET n = excluded.n`, ks, days, vs)
	return err
}

// retryable is a deadlock or a serialization failure: PostgreSQL aborted
// this transaction so that another could go on.
func (b *pgBackend) retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// claim leases due replies to this replica, skipping those another
// replica's claim holds locked at this moment (SKIP LOCKED), those leased
// and those whose sending mark a replica that stopped left (settle counts
// those first).
func (b *pgBackend) claim(ctx context.Context, now time.Time, limit int, skip []string, after int64, domain string) ([]Message, error) {
	at := millis(now)
	query := `SELECT id FROM messages WHERE state = 'queued' AND next_attempt <= ?
		AND (lease_until IS NULL OR lease_until <= ?) AND sending_since IS NULL`
	args := []any{b.owner, at + b.q.lease.Milliseconds(), at, at}
	if after > 0 {
		query += ` AND id > ?`
		args = append(args, after)
	}
	if domain != "" {
		query += ` AND domain = ?`
		args = append(args, domain)
	}
	if len(skip) > 0 {
		query += ` AND domain NOT IN (?` + strings.Repeat(`, ?`, len(skip)-1) + `)`
		for _, d := range skip {
			args = append(args, d)
		}
	}
	args = append(args, limit)
	rows, err := b.q.db.QueryContext(ctx, b.rebind(`UPDATE messages m SET lease_owner = ?, lease_until = ?
		FROM (`+query+` ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) c
		WHERE m.id = c.id RETURNING m.id, m.rcpt, m.created, m.attempts, m.sender`), args...)
	if err != nil {
		return nil, fmt.Errorf("mail queue: claiming due messages: %w", err)
	}
	ms, err := scanMessages(rows)
	slices.SortFunc(ms, func(a, b Message) int { return cmp.Compare(a.ID, b.ID) })
	b.hold(ms)
	return ms, err
}

// release ends this replica's lease of ids, unless a sending mark says an
// attempt began.
func (b *pgBackend) release(ctx context.Context, ids []int64) error {
	b.unhold(ids)
	_, err := b.q.db.ExecContext(ctx, b.rebind(`UPDATE messages SET lease_owner = NULL, lease_until = NULL
		WHERE id IN (SELECT value FROM json_each(?)) AND sending_since IS NULL`+b.owned()), idList(ids))
	return err
}

// nextDue counts the end of a lease as a time a reply becomes due: the
// replies of a replica that died are taken then.
func (b *pgBackend) nextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var next sql.NullInt64
	err := b.q.db.QueryRowContext(ctx, `SELECT MIN(GREATEST(next_attempt, COALESCE(lease_until, 0))) FROM messages
		WHERE state = 'queued' AND GREATEST(next_attempt, COALESCE(lease_until, 0)) > $1`, millis(now)).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("mail queue: finding next attempt: %w", err)
	}
	return time.UnixMilli(next.Int64), next.Valid, nil
}

// renew extends the leases of the replies this replica holds every third
// of a lease, until close. A reply whose outcome was recorded has no lease
// any more (recording ends it), so the renewal no longer finds it in this
// replica's name, and it stops being held.
func (b *pgBackend) renew(ctx context.Context) {
	defer b.wg.Done()
	t := time.NewTicker(b.q.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ids := b.heldIDs()
			if len(ids) == 0 {
				continue
			}
			rows, err := b.q.db.QueryContext(ctx, `UPDATE messages SET lease_until = $1
				WHERE lease_owner = $2 AND state = 'queued' AND id = ANY($3) RETURNING id`,
				millis(b.q.now().Add(b.q.lease)), b.owner, ids)
			if err != nil {
				continue // the leases end unless a later renewal gets through
			}
			still := make(map[int64]bool, len(ids))
			for rows.Next() {
				var id int64
				if rows.Scan(&id) == nil {
					still[id] = true
				}
			}
			if rows.Close() != nil || rows.Err() != nil {
				continue
			}
			var ended []int64
			for _, id := range ids {
				if !still[id] {
					ended = append(ended, id)
				}
			}
			b.unhold(ended)
		}
	}
}

// listen wakes the scheduler whenever a replica queues replies, on a
// connection of its own, reconnecting with backoff when it is lost; each
// (re)connection wakes it once too, for what was queued meanwhile.
func (b *pgBackend) listen(ctx context.Context) {
	defer b.wg.Done()
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, b.cfg.Copy())
		if err == nil {
			if _, err = conn.Exec(ctx, `LISTEN `+pgChannel); err == nil {
				wait = 100 * time.Millisecond
				b.q.notify()
				for err == nil {
					if _, err = conn.WaitForNotification(ctx); err == nil {
						b.q.notify()
					}
				}
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// close stops the renewals and the listener, and gives back the leases
// of replies this replica claimed and did not begin to send.
func (b *pgBackend) close() error {
	b.stop()
	b.wg.Wait()
	_, err := b.q.db.Exec(`UPDATE messages SET lease_owner = NULL, lease_until = NULL
		WHERE lease_owner = $1 AND sending_since IS NULL`, b.owner)
	return err
}
