// Package queue is the durable outgoing mail queue of the SMTP frontend: the
// Active Object of quotesd's design. Receiving sessions call Record, which
// returns only once the reply (or the decision not to send one) is committed
// to the database: an SQLite file of this process's own (Open), or a
// PostgreSQL database that replicas share (OpenPostgres, postgres.go); a
// scheduler goroutine then delivers queued replies to a relay or to the
// recipients' MX hosts, retrying with backoff, so a reply survives a crash
// at any moment and is delivered after restart (or by another replica).
//
// Durability costs an fsync per commit, so commits are grouped: one writer
// goroutine owns every write and puts all requests that arrived while the
// previous commit was in progress into the next transaction. Under load many
// messages share one fsync; an idle server still commits each at once.
package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// ErrClosed is returned by Record once the queue is shutting down; the
// receiving side answers with a temporary failure so the client retries.
var ErrClosed = errors.New("mail queue is closed")

// Entry is one received message as the queue records it.
type Entry struct {
	IP     string // the client's IP address, as the log of skipped replies keeps it
	Sender string // the envelope sender, for the log of skipped replies
	// Rcpt and Data are the reply: its envelope recipient and its text,
	// or the start of its text when Shared holds the rest. Data is nil
	// when no reply is due.
	Rcpt string
	Data []byte
	// Shared, when not empty, is the end of the reply's text, which many
	// replies share (the body of today's quote): the queue stores it once
	// for all of them.
	Shared []byte
	// Skip is why no reply is due, when Data is nil (a policy reason).
	Skip string
	// From is the envelope sender of the reply: "" for the null reverse
	// path, which automatic replies use (RFC 3834 §3.3); the daily mail
	// of a subscription uses a per-subscriber bounce address (VERP), so
	// that a bounce names whom it is about.
	From string
	// Due is when the reply may first be sent; the zero time means now.
	// The daily mail spreads a large list over time with it, per
	// destination domain.
	Due time.Time
}

// Queue is the durable store of replies. Open one per state directory.
type Queue struct {
	db *sql.DB
	b  backend
	// wdb is what the writer begins its transactions on: SQLite's own
	// connection, or PostgreSQL's pool (a connection lost is replaced).
	wdb interface {
		BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
	}
	now func() time.Time
	// lease is how long a reply claimed by a replica's scheduler stays
	// its own without being renewed (PostgreSQL only).
	lease  time.Duration
	limits atomic.Pointer[Limits] // swapped by SetLimits; read by the writer

	ops     chan *op
	hurry   chan struct{} // asks the writer to commit lazy operations now
	stopped chan struct{} // closed when the writer has exited
	wake    chan struct{} // tells the scheduler that something was queued

	stmts struct{ count, setCount, skip, unbody, sentMany, unbodyMany, findText, addText *sql.Stmt }
	// Only the writer uses these. inserts are the multi-row INSERTs of
	// replies, by their number of rows (a power of two up to
	// maxInsertRows), prepared on first use. rows are the replies queued
	// in the writer's transaction and not yet inserted (see insertRows).
	// texts maps shared texts to their ids in the texts table (see
	// textID).
	inserts map[int]insertStmts
	rows    []replyRow
	counts  map[countKey]*txCount // the daily counts of the writer's transaction (see countReply)
	texts   map[string]int64

	receiving atomic.Int64 // sessions receiving a message (see Receiving)

	// The outcome of the writer's commits, which Delivery pauses on (see
	// pause.go): writeErr is the error of the last commit when it failed,
	// nil once one succeeded; writeFailures counts failed commits.
	writeErr      atomic.Pointer[error]
	writeFailures atomic.Uint64

	mu      sync.Mutex
	closing bool
	active  int // Record calls in progress
	holds   int // see Hold
	idle    *sync.Cond
}

// Option configures Open.
type Option func(*Queue)

// WithClock replaces time.Now, for tests of retries and daily limits.
func WithClock(now func() time.Time) Option { return func(q *Queue) { q.now = now } }

// FileName is the queue database's name inside the state directory.
const FileName = "smtp-queue.db"

// Open opens (creating if needed) the queue database in dir and starts its
// writer. Close it, or let Delivery.Serve close it at shutdown.
func Open(dir string, opts ...Option) (*Queue, error) {
	if dir == "" {
		return nil, errors.New("mail queue: no state directory (set --state-dir)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail queue: creating state directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := checkVersion(path); err != nil {
		return nil, fmt.Errorf("mail queue: %s: %w", path, err)
	}
	// WAL lets the scheduler read while the writer commits; synchronous=FULL
	// makes each commit an fsync, which is what "durably stored" means (the
	// writer groups commits to pay for it once per batch); _txlock=immediate
	// takes the write lock at BEGIN so a transaction never fails half way on
	// a busy database.
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("mail queue: opening %s: %w", path, err)
	}
	b := &sqliteBackend{path: path}
	q := newQueue(db, b, opts)
	b.q = q
	if err := q.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", path, err)
	}
	// The writer keeps one connection for itself, on which checkpoints are
	// off: a commit then only appends to the WAL and fsyncs it, and never
	// stalls for a checkpoint that copies megabytes into the database file
	// and fsyncs that too. A background goroutine checkpoints instead.
	if b.wconn, err = db.Conn(context.Background()); err == nil {
		_, err = b.wconn.ExecContext(context.Background(), `PRAGMA wal_autocheckpoint = 0`)
	}
	if err == nil {
		err = db.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&b.lastID)
	}
	if err == nil {
		err = q.prepare()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", path, err)
	}
	q.wdb = b.wconn
	b.stopCheckpoints, b.checkpoints = make(chan struct{}), make(chan struct{})
	go b.checkpointer()
	go q.writer()
	return q, nil
}

// newQueue returns a queue on db, not started: the backend's opening
// function migrates and prepares it, then starts its writer.
func newQueue(db *sql.DB, b backend, opts []Option) *Queue {
	q := &Queue{
		db:      db,
		b:       b,
		wdb:     db,
		now:     time.Now,
		lease:   defaultLease,
		ops:     make(chan *op, 4096),
		hurry:   make(chan struct{}, 1),
		stopped: make(chan struct{}),
		wake:    make(chan struct{}, 1),
	}
	q.limits.Store(&Limits{})
	q.idle = sync.NewCond(&q.mu)
	for _, o := range opts {
		o(q)
	}
	return q
}

// prepare prepares the statements the accept path runs for every message.
func (q *Queue) prepare() error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&q.stmts.findText, `SELECT id FROM texts WHERE hash = ?`},
		{&q.stmts.addText, `INSERT INTO texts (hash, data) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING RETURNING id`},
		{&q.stmts.unbody, `DELETE FROM bodies WHERE id = ?`},
		{&q.stmts.count, q.b.countQuery()},
		{&q.stmts.setCount, `INSERT INTO reply_counts (key, day, n) VALUES (?, ?, ?) ON CONFLICT (key, day) DO UPDATE SET n = excluded.n`},
		{&q.stmts.skip, `INSERT INTO skipped (at, ip, sender, reason) VALUES (?, ?, ?, ?)`},
		// Sent markers come in groups: the ids are one JSON array.
		{&q.stmts.sentMany, `UPDATE messages SET state = 'sent', done_at = ?, attempts = attempts + 1, last_error = '',
			sending_since = NULL WHERE id IN (SELECT value FROM json_each(?))`},
		{&q.stmts.unbodyMany, `DELETE FROM bodies WHERE id IN (SELECT value FROM json_each(?))`},
	} {
		var err error
		if *p.stmt, err = q.db.Prepare(q.b.rebind(p.sql)); err != nil {
			return fmt.Errorf("preparing %q: %w", p.sql, err)
		}
	}
	return nil
}

// WithLease sets how long a reply claimed by one replica's delivery stays
// its own without being renewed, when replicas share a PostgreSQL queue:
// a replica that dies leaves its replies to the others after this long.
// A lease must be positive: WithLease panics otherwise.
func WithLease(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("queue: WithLease(%v): want more than 0", d))
	}
	return func(q *Queue) { q.lease = d }
}

// defaultLease is the lease of claimed replies (WithLease). A replica
// renews its leases every third of it, so a slow relay never loses a
// reply to another replica; after its death the others wait at most this
// long before they send what it had claimed.
const defaultLease = 30 * time.Second

// Path returns the database's name: a file's path, or a PostgreSQL URL
// without its password.
func (q *Queue) Path() string { return q.b.where() }

// Hold keeps the queue taking records until release is called: Close
// waits for every hold to be released before it refuses records. The SMTP
// server holds the queue while it serves, so that the sessions it lets
// finish at shutdown can still store their messages (Delivery closes the
// queue as soon as its own context ends). Hold fails with ErrClosed once
// Close has begun refusing records.
func (q *Queue) Hold() (release func(), err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return nil, ErrClosed
	}
	q.holds++
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			q.holds--
			q.idle.Broadcast()
			q.mu.Unlock()
		})
	}, nil
}

// Close waits until no one holds the queue (see Hold), stops accepting
// records, waits for those in progress, stops the writer and closes the
// database.
func (q *Queue) Close() error {
	q.mu.Lock()
	for q.holds > 0 && !q.closing {
		q.idle.Wait()
	}
	if q.closing {
		q.mu.Unlock()
		<-q.stopped
		return nil
	}
	q.closing = true
	// Calls in progress finish quickly: the writer still runs and commits
	// them. Only then may ops be closed, or they would send on it.
	for q.active > 0 {
		q.idle.Wait()
	}
	q.mu.Unlock()
	close(q.ops)
	<-q.stopped
	err := q.b.close()
	return errors.Join(err, q.db.Close())
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// domainOf returns the part of an address after its last "@".
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// Record durably stores what was decided about one received message: the
// reply to send, or the reason not to. It applies the daily reply limits in
// the same transaction, so concurrent sessions and restarts cannot exceed
// them. It returns "" when the reply is queued, or the reason it is not
// (e.Skip, or SkipRecipientLimit/SkipIPLimit), once the decision is
// committed.
func (q *Queue) Record(ctx context.Context, e Entry) (skip string, err error) {
	now := q.now()
	err = q.do(ctx, func(tx *sql.Tx) error {
		skip = e.Skip
		if e.Data != nil {
			s, err := q.queueReply(tx, e, now)
			if err != nil {
				return err
			}
			skip = s
		}
		if skip != "" {
			_, err := tx.Stmt(q.stmts.skip).Exec(millis(now), e.IP, e.Sender, skip)
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if skip == "" {
		q.notify()
	}
	return skip, nil
}

// queueReply queues the reply e in the writer's transaction, unless a
// daily cap refuses it (skip then names the cap).
func (q *Queue) queueReply(tx *sql.Tx, e Entry, now time.Time) (skip string, err error) {
	if skip, err := q.countReply(tx, e, now); skip != "" || err != nil {
		return skip, err
	}
	return q.queueUncapped(tx, e, now)
}

// queueUncapped queues the reply e in the writer's transaction, whatever
// the daily caps say.
func (q *Queue) queueUncapped(tx *sql.Tx, e Entry, now time.Time) (skip string, err error) {
	var text sql.NullInt64
	if len(e.Shared) > 0 {
		if text.Int64, err = q.textID(tx, e.Shared); err != nil {
			return "", fmt.Errorf("queueing reply: %w", err)
		}
		text.Valid = true
	}
	// The rows are inserted with those of the other replies of the
	// transaction, just before it commits (insertRows); until then the row
	// refers to e.Data, which the caller keeps until Record returns.
	due := millis(now)
	if e.Due.After(now) {
		due = millis(e.Due)
	}
	q.rows = append(q.rows, replyRow{rcpt: e.Rcpt, domain: strings.ToLower(domainOf(e.Rcpt)),
		at: millis(now), due: due, sender: e.From, data: e.Data, text: text})
	return "", nil
}

// replyRow is a queued reply waiting, in the writer, to be inserted.
type replyRow struct {
	id, at, due          int64
	rcpt, domain, sender string
	data                 []byte
	text                 sql.NullInt64
}

// insertStmts insert n replies at once: their messages rows, and their
// bodies rows.
type insertStmts struct{ messages, bodies *sql.Stmt }

// maxInsertRows is the most rows one INSERT statement carries.
const maxInsertRows = 64

// insertRows inserts the replies queued in the current transaction, all
// at once, just before it commits: the writer's transaction, and so every
// session's wait for its 250, is shorter than with statements per reply.
func (q *Queue) insertRows(tx *sql.Tx) error {
	rows := q.rows
	defer func() { q.rows = q.rows[:0] }()
	if len(rows) == 0 {
		return nil
	}
	return q.b.insertRows(tx, rows)
}

// insertMultiRow inserts rows, whose ids are set, with one multi-row
// INSERT per table per up to maxInsertRows replies rather than two
// statements per reply.
func (q *Queue) insertMultiRow(tx *sql.Tx, rows []replyRow) error {
	var margs, bargs []any
	for len(rows) > 0 {
		n := maxInsertRows
		for n > len(rows) {
			n /= 2
		}
		st, err := q.insertStmts(n)
		if err != nil {
			return err
		}
		margs, bargs = margs[:0], bargs[:0]
		for _, r := range rows[:n] {
			margs = append(margs, r.id, r.rcpt, r.domain, r.at, r.due, r.sender)
			bargs = append(bargs, r.id, r.data, r.text)
		}
		if _, err := tx.Stmt(st.messages).Exec(margs...); err != nil {
			return err
		}
		if _, err := tx.Stmt(st.bodies).Exec(bargs...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// insertStmts returns the statements that insert n replies, preparing them
// the first time.
func (q *Queue) insertStmts(n int) (insertStmts, error) {
	if st, ok := q.inserts[n]; ok {
		return st, nil
	}
	values := func(row string) string { return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") }
	var st insertStmts
	var err error
	if st.messages, err = q.db.Prepare(q.b.rebind(`INSERT INTO messages (id, rcpt, domain, created, next_attempt, sender) VALUES ` + values("(?, ?, ?, ?, ?, ?)"))); err != nil {
		return st, err
	}
	if st.bodies, err = q.db.Prepare(q.b.rebind(`INSERT INTO bodies (id, data, text_id) VALUES ` + values("(?, ?, ?)"))); err != nil {
		st.messages.Close()
		return st, err
	}
	if q.inserts == nil {
		q.inserts = make(map[int]insertStmts)
	}
	q.inserts[n] = st
	return st, nil
}

// maxTexts bounds the writer's map of shared texts; it is emptied when
// full (a day brings a few new texts per domain).
const maxTexts = 256

// textID returns the id of the shared text b in the texts table, adding it
// if it is not there. It runs in the writer's transaction.
func (q *Queue) textID(tx *sql.Tx, b []byte) (int64, error) {
	if id, ok := q.texts[string(b)]; ok {
		return id, nil
	}
	sum := sha256.Sum256(b)
	var id int64
	err := tx.Stmt(q.stmts.findText).QueryRow(sum[:]).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.Stmt(q.stmts.addText).QueryRow(sum[:], b).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		// Another replica added it since: it is there now.
		err = tx.Stmt(q.stmts.findText).QueryRow(sum[:]).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("storing shared text: %w", err)
	}
	if q.texts == nil || len(q.texts) >= maxTexts {
		q.texts = make(map[string]int64)
	}
	q.texts[string(b)] = id
	return id, nil
}

func (q *Queue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Counts reports how many messages are in each state, for tests and metrics.
func (q *Queue) Counts(ctx context.Context) (queued, sent, failed int, err error) {
	rows, err := q.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM messages GROUP BY state`)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("mail queue: counting: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return 0, 0, 0, err
		}
		switch state {
		case "queued":
			queued = n
		case "sent":
			sent = n
		case "failed":
			failed = n
		}
	}
	return queued, sent, failed, rows.Err()
}
