// Package queue is the durable outgoing mail queue of the SMTP frontend: the
// Active Object of quotesd's design. Receiving sessions call Record, which
// returns only once the reply (or the decision not to send one) is committed
// to an SQLite database; a scheduler goroutine then delivers queued replies
// to a relay or to the recipients' MX hosts, retrying with backoff, so a
// reply survives a crash at any moment and is delivered after restart.
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// migrations are the schema, one step each, applied in order in their own
// transaction and recorded in PRAGMA user_version. Never edit a released
// step: append a new one.
var migrations = []string{
	// 1: messages waiting for or done with delivery; daily reply counts per
	// recipient and per sending IP; decisions not to reply.
	`CREATE TABLE messages (
		id           INTEGER PRIMARY KEY,          -- arrival order
		rcpt         TEXT    NOT NULL,             -- envelope recipient of the reply
		domain       TEXT    NOT NULL,             -- its domain, lower case: a destination without a relay
		created      INTEGER NOT NULL,             -- unix milliseconds
		next_attempt INTEGER NOT NULL,             -- unix milliseconds
		attempts     INTEGER NOT NULL DEFAULT 0,
		state        TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
		done_at      INTEGER,                      -- when sent or given up, unix milliseconds
		last_error   TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX messages_due ON messages (state, next_attempt, id);
	-- The text of a reply lives apart from its small, often updated state
	-- row, so that recording an attempt does not rewrite the text, and is
	-- deleted once the reply is sent or dropped.
	CREATE TABLE bodies (
		id   INTEGER PRIMARY KEY REFERENCES messages (id),
		data BLOB    NOT NULL                      -- the complete reply, signed if DKIM is on
	);
	CREATE TABLE reply_counts (
		key TEXT NOT NULL,                         -- "rcpt:<address>" or "ip:<address>"
		day TEXT NOT NULL,                         -- YYYY-MM-DD, UTC
		n   INTEGER NOT NULL,
		PRIMARY KEY (key, day)
	) WITHOUT ROWID;
	CREATE TABLE skipped (
		id     INTEGER PRIMARY KEY,
		at     INTEGER NOT NULL,                   -- unix milliseconds
		ip     TEXT    NOT NULL,
		sender TEXT    NOT NULL,
		reason TEXT    NOT NULL
	);`,
	// 2: the part of a reply that many replies share (the body of today's
	// quote is the same for every request of the day) is stored once, not
	// once per reply: a reply's own part (its header) is a few hundred
	// bytes, the body a few kilobytes, and writing a page of it per reply
	// was most of what recording a reply wrote.
	`CREATE TABLE texts (
		id   INTEGER PRIMARY KEY,
		hash BLOB    NOT NULL UNIQUE,              -- SHA-256 of data
		data BLOB    NOT NULL
	);
	ALTER TABLE bodies ADD COLUMN text_id INTEGER REFERENCES texts (id); -- what follows data in the reply; NULL: nothing`,
	// 3: a mark committed before each attempt to send a reply, and the
	// count of attempts whose outcome a run never recorded, so that a
	// reply is sent at most once more than it is known to have been,
	// however many restarts follow (see sendmark.go).
	`ALTER TABLE messages ADD COLUMN sending_since INTEGER; -- unix milliseconds: an attempt began, its outcome not recorded yet; NULL: none
	ALTER TABLE messages ADD COLUMN lost_outcomes INTEGER NOT NULL DEFAULT 0; -- attempts of earlier runs whose outcome was never recorded`,
}

// ErrClosed is returned by Record once the queue is shutting down; the
// receiving side answers with a temporary failure so the client retries.
var ErrClosed = errors.New("mail queue is closed")

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

// Entry is one received message as the queue records it.
type Entry struct {
	IP     string // the client's IP address
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
}

// Queue is the durable store of replies. Open one per state directory.
type Queue struct {
	db     *sql.DB
	wconn  *sql.Conn // the writer's own connection: every write goes through it
	path   string
	now    func() time.Time
	limits atomic.Pointer[Limits] // swapped by SetLimits; read by the writer

	ops     chan *op
	hurry   chan struct{} // asks the writer to commit lazy operations now
	stopped chan struct{} // closed when the writer has exited
	wake    chan struct{} // tells the scheduler that something was queued

	stmts struct{ count, bump, skip, unbody, sentMany, unbodyMany, findText, addText *sql.Stmt }
	// Only the writer uses these. inserts are the multi-row INSERTs of
	// replies, by their number of rows (a power of two up to
	// maxInsertRows), prepared on first use. lastID is the id of the last
	// reply queued, and rows the replies queued in the writer's
	// transaction and not yet inserted (see insertRows). texts maps shared
	// texts to their ids in the texts table (see textID).
	inserts map[int]insertStmts
	lastID  int64
	rows    []replyRow
	texts   map[string]int64

	receiving       atomic.Int64 // sessions receiving a message (see Receiving)
	stopCheckpoints chan struct{}
	checkpoints     sync.WaitGroup

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

// WithLimits sets the daily reply caps.
func WithLimits(l Limits) Option { return func(q *Queue) { q.limits.Store(&l) } }

// SetLimits changes the daily reply caps of a running queue (on SIGHUP).
// Replies recorded from then on obey the new caps. A cap raised from 0
// (none) starts counting from the moment it is set.
func (q *Queue) SetLimits(l Limits) { q.limits.Store(&l) }

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
	q := &Queue{
		db:      db,
		path:    path,
		now:     time.Now,
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
	if err := q.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", path, err)
	}
	// The accept path runs these for every message: prepare them once.
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&q.stmts.findText, `SELECT id FROM texts WHERE hash = ?`},
		{&q.stmts.addText, `INSERT INTO texts (hash, data) VALUES (?, ?)`},
		{&q.stmts.unbody, `DELETE FROM bodies WHERE id = ?`},
		{&q.stmts.count, `SELECT n FROM reply_counts WHERE key = ? AND day = ?`},
		{&q.stmts.bump, `INSERT INTO reply_counts (key, day, n) VALUES (?, ?, 1) ON CONFLICT (key, day) DO UPDATE SET n = n + 1`},
		{&q.stmts.skip, `INSERT INTO skipped (at, ip, sender, reason) VALUES (?, ?, ?, ?)`},
		// Sent markers come in groups: the ids are one JSON array.
		{&q.stmts.sentMany, `UPDATE messages SET state = 'sent', done_at = ?, attempts = attempts + 1, last_error = '',
			sending_since = NULL WHERE id IN (SELECT value FROM json_each(?))`},
		{&q.stmts.unbodyMany, `DELETE FROM bodies WHERE id IN (SELECT value FROM json_each(?))`},
	} {
		if *p.stmt, err = db.Prepare(p.sql); err != nil {
			db.Close()
			return nil, fmt.Errorf("mail queue: %s: preparing %q: %w", path, p.sql, err)
		}
	}
	// The writer keeps one connection for itself, on which checkpoints are
	// off: a commit then only appends to the WAL and fsyncs it, and never
	// stalls for a checkpoint that copies megabytes into the database file
	// and fsyncs that too. A background goroutine checkpoints instead.
	if q.wconn, err = db.Conn(context.Background()); err == nil {
		_, err = q.wconn.ExecContext(context.Background(), `PRAGMA wal_autocheckpoint = 0`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", path, err)
	}
	if err := db.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&q.lastID); err != nil {
		db.Close()
		return nil, fmt.Errorf("mail queue: %s: %w", path, err)
	}
	q.stopCheckpoints = make(chan struct{})
	q.checkpoints.Add(1)
	go q.checkpointer()
	go q.writer()
	return q, nil
}

// Path returns the database file's path.
func (q *Queue) Path() string { return q.path }

// checkVersion refuses a queue written by a newer quotesd before anything
// writes to it: opening it read-write would switch it to WAL and so rewrite
// its header, which a downgrade must not do to a file it cannot use.
func checkVersion(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	return newerError(version)
}

func newerError(version int) error {
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this quotesd knows (%d); upgrade quotesd", version, len(migrations))
	}
	return nil
}

func (q *Queue) migrate() error {
	var version int
	if err := q.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if err := newerError(version); err != nil {
		return err
	}
	for i := version; i < len(migrations); i++ {
		tx, err := q.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

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
	close(q.stopCheckpoints)
	q.checkpoints.Wait()
	q.wconn.Close()
	// Fold the WAL into the database, so the files at rest are one.
	_, err := q.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(err, q.db.Close())
}

// checkpointInterval is how often the background checkpointer copies the
// WAL into the database file. Often, because once a checkpoint has copied
// everything the writer starts the WAL over from its beginning: commits
// then overwrite blocks of a file that no longer grows, and an fsync that
// need not also record a new file size is cheaper (about 140 µs against
// 250 µs on the benchmark machine). Under load the WAL stays at a few
// megabytes rather than a second's worth of commits.
const checkpointInterval = 100 * time.Millisecond

// checkpointer runs passive checkpoints, which never block the writer, in
// place of the automatic ones the writer's connection does not do.
func (q *Queue) checkpointer() {
	defer q.checkpoints.Done()
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-q.stopCheckpoints:
			return
		case <-t.C:
			_, _ = q.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// op is one unit of work for the writer, applied inside a shared
// transaction; done receives the outcome of that transaction's commit.
type op struct {
	apply func(tx *sql.Tx) error
	done  chan error
	// lazy says that no one waits for this operation yet: the writer may
	// hold it back for up to lazyDelay, so that it shares a commit (an
	// fsync) with others. An urgent operation, or a call to hurry, ends
	// the wait.
	lazy bool
}

// maxBatch bounds how many operations share one transaction, so one commit
// never holds back an answer for long.
const maxBatch = 512

// gatherDelay bounds how long the writer waits, before a commit, for
// messages that sessions are receiving right now (see Receiving): a commit
// a little later that carries them too costs far less than one more commit
// (each is an fsync). When no session is receiving, it commits at once.
const gatherDelay = time.Millisecond

// lazyDelay bounds how long the writer holds back lazy operations (sent
// markers) when nothing else is to be committed. Delivery records a sent
// marker only after the relay's 250, so a crash within this span is what
// can make a reply go out twice; in exchange, an idle server delivering
// thousands of replies a second commits their markers a hundred times a
// second rather than once or twice per reply.
const lazyDelay = 10 * time.Millisecond

// writer is the single goroutine that writes the database. It takes every
// operation already waiting, and those of messages being received that
// arrive within gatherDelay, applies them all in one transaction, commits
// once, and then tells each caller: group commit.
func (q *Queue) writer() {
	defer close(q.stopped)
	batch := make([]*op, 0, maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range q.ops {
		batch = append(batch[:0], first)
		batch = drain(q.ops, batch)
		if lazyOnly(batch) {
			batch = q.linger(batch, timer)
		}
		if len(batch) < maxBatch && q.receiving.Load() > 0 {
			timer.Reset(gatherDelay)
		gather:
			for len(batch) < maxBatch && q.receiving.Load() > 0 {
				select {
				case o, ok := <-q.ops:
					if !ok {
						break gather
					}
					batch = drain(q.ops, append(batch, o))
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
		err := q.commit(batch)
		q.noteCommit(err)
		if err != nil {
			// Texts added in the failed transaction are not there; and
			// should another process have queued replies in this
			// database, the next ids follow theirs.
			clear(q.texts)
			var last int64
			if q.db.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&last) == nil {
				q.lastID = max(q.lastID, last)
			}
		}
		for _, o := range batch {
			o.done <- err
		}
	}
}

// noteCommit records the outcome of a commit for writeError, and wakes
// the scheduler on a failure so that it pauses delivery at once.
func (q *Queue) noteCommit(err error) {
	if err == nil {
		if q.writeErr.Load() != nil {
			q.writeErr.Store(nil)
		}
		return
	}
	q.writeFailures.Add(1)
	q.writeErr.Store(&err)
	q.notify()
}

// writeError returns the error of the writer's last commit when it failed,
// nil when it succeeded: whether the database can be written, as far as
// the queue knows.
func (q *Queue) writeError() error {
	if p := q.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// lazyOnly reports whether no operation in batch is urgent.
func lazyOnly(batch []*op) bool {
	for _, o := range batch {
		if !o.lazy {
			return false
		}
	}
	return true
}

// linger holds back a batch of lazy operations, adding those that arrive,
// until an urgent one arrives, a caller hurries the writer, lazyDelay
// passes or the batch is full.
func (q *Queue) linger(batch []*op, timer *time.Timer) []*op {
	timer.Reset(lazyDelay)
	defer timer.Stop()
	for len(batch) < maxBatch {
		select {
		case o, ok := <-q.ops:
			if !ok {
				return batch
			}
			batch = drain(q.ops, append(batch, o))
			if !lazyOnly(batch) {
				return batch
			}
		case <-q.hurry:
			// The operations the caller waits for were sent before it
			// hurried us: they are in ops, if not in batch already.
			return drain(q.ops, batch)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// Receiving tells the writer that a session started (+1) or stopped (-1)
// receiving a message whose Record will follow: while any is, the writer
// holds a commit back for up to gatherDelay so that it carries them too.
// A session calls Receiving(-1) just before Record, or when it gives up.
func (q *Queue) Receiving(delta int) { q.receiving.Add(int64(delta)) }

// drain appends to batch what ops holds now, up to maxBatch.
func drain(ops chan *op, batch []*op) []*op {
	for len(batch) < maxBatch {
		select {
		case o, ok := <-ops:
			if !ok {
				return batch
			}
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

func (q *Queue) commit(batch []*op) error {
	tx, err := q.wconn.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("mail queue: begin: %w", err)
	}
	defer tx.Rollback()
	for _, o := range batch {
		if err := o.apply(tx); err != nil {
			q.rows = q.rows[:0]
			return fmt.Errorf("mail queue: %w", err)
		}
	}
	if err := q.insertRows(tx); err != nil {
		return fmt.Errorf("mail queue: queueing replies: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mail queue: commit: %w", err)
	}
	return nil
}

// pending is an operation submitted to the writer, whose commit may not
// have happened yet.
type pending struct {
	done     chan error
	err      error
	finished bool
}

// ready reports, without waiting, whether the operation's commit is over.
func (p *pending) ready() bool {
	if p.finished {
		return true
	}
	select {
	case p.err = <-p.done:
		p.finished = true
	default:
	}
	return p.finished
}

// wait waits for the operation's commit and returns its outcome.
func (p *pending) wait() error {
	if !p.finished {
		p.err, p.finished = <-p.done, true
	}
	return p.err
}

// submitLazy queues apply as a lazy operation (see op.lazy) for one of the
// writer's next transactions, without waiting for its commit.
func (q *Queue) submitLazy(apply func(tx *sql.Tx) error) *pending {
	p := &pending{done: make(chan error, 1)}
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		p.err, p.finished = ErrClosed, true
		return p
	}
	q.active++
	q.mu.Unlock()
	// Once the operation is in the channel, Close may close it: the writer
	// still takes what it holds, and answers done.
	q.ops <- &op{apply: apply, done: p.done, lazy: true}
	q.mu.Lock()
	q.active--
	q.idle.Broadcast()
	q.mu.Unlock()
	return p
}

// hurryWriter asks the writer to commit the lazy operations it holds now,
// because someone waits for them.
func (q *Queue) hurryWriter() {
	select {
	case q.hurry <- struct{}{}:
	default:
	}
}

// do runs apply in the writer's next transaction and waits for its commit.
func (q *Queue) do(ctx context.Context, apply func(tx *sql.Tx) error) error {
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return ErrClosed
	}
	q.active++
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.active--
		q.idle.Broadcast()
		q.mu.Unlock()
	}()
	o := &op{apply: apply, done: make(chan error, 1)}
	select {
	case q.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once submitted, wait for the commit even if ctx ends: the caller must
	// learn whether the record is durable.
	return <-o.done
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

func (q *Queue) queueReply(tx *sql.Tx, e Entry, now time.Time) (skip string, err error) {
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
	q.lastID++
	q.rows = append(q.rows, replyRow{id: q.lastID, rcpt: e.Rcpt, domain: strings.ToLower(domainOf(e.Rcpt)),
		at: millis(now), data: e.Data, text: text})
	return "", nil
}

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

// replyRow is a queued reply waiting, in the writer, to be inserted.
type replyRow struct {
	id, at       int64
	rcpt, domain string
	data         []byte
	text         sql.NullInt64
}

// insertStmts insert n replies at once: their messages rows, and their
// bodies rows.
type insertStmts struct{ messages, bodies *sql.Stmt }

// maxInsertRows is the most rows one INSERT statement carries.
const maxInsertRows = 64

// insertRows inserts the replies queued in the current transaction, with
// one multi-row INSERT per table per up to maxInsertRows replies rather
// than two statements per reply: the writer's transaction, and so every
// session's wait for its 250, is shorter. Ids are assigned by the writer
// (lastID), in arrival order, so no statement has to report them.
func (q *Queue) insertRows(tx *sql.Tx) error {
	rows := q.rows
	defer func() { q.rows = q.rows[:0] }()
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
			margs = append(margs, r.id, r.rcpt, r.domain, r.at, r.at)
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
	if st.messages, err = q.db.Prepare(`INSERT INTO messages (id, rcpt, domain, created, next_attempt) VALUES ` + values("(?, ?, ?, ?, ?)")); err != nil {
		return st, err
	}
	if st.bodies, err = q.db.Prepare(`INSERT INTO bodies (id, data, text_id) VALUES ` + values("(?, ?, ?)")); err != nil {
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
		var res sql.Result
		if res, err = tx.Stmt(q.stmts.addText).Exec(sum[:], b); err == nil {
			id, err = res.LastInsertId()
		}
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

// Message is a queued reply as the scheduler sees it.
type Message struct {
	ID       int64
	Rcpt     string
	Created  time.Time
	Attempts int
}

// due returns queued messages whose next attempt is at or before now, in
// arrival order, at most limit of them, leaving out those for the domains
// in skip (destinations busy or backing off: listing their messages again
// and again would cost the scheduler most of its time under load).
func (q *Queue) due(ctx context.Context, now time.Time, limit int, skip []string) ([]Message, error) {
	query := `SELECT id, rcpt, created, attempts FROM messages WHERE state = 'queued' AND next_attempt <= ?`
	args := []any{millis(now)}
	if len(skip) > 0 {
		query += ` AND domain NOT IN (?` + strings.Repeat(`, ?`, len(skip)-1) + `)`
		for _, d := range skip {
			args = append(args, d)
		}
	}
	rows, err := q.db.QueryContext(ctx, query+` ORDER BY id LIMIT ?`, append(args, limit)...)
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
	query := `SELECT id, rcpt, created, attempts FROM messages WHERE id > ? AND +state = 'queued' AND +next_attempt <= ?`
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
		if err := rows.Scan(&m.ID, &m.Rcpt, &created, &m.Attempts); err != nil {
			return nil, fmt.Errorf("mail queue: listing due messages: %w", err)
		}
		m.Created = time.UnixMilli(created)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// nextDue returns when the earliest queued message not due yet becomes due.
func (q *Queue) nextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var next sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT MIN(next_attempt) FROM messages
		WHERE state = 'queued' AND next_attempt > ?`, millis(now)).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("mail queue: finding next attempt: %w", err)
	}
	return time.UnixMilli(next.Int64), next.Valid, nil
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
	rows, err := q.db.QueryContext(ctx, `SELECT id, data, text_id FROM bodies
		WHERE id IN (?`+strings.Repeat(`, ?`, len(ms)-1)+`)`, args...)
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
	texts, err := q.db.QueryContext(ctx, `SELECT id, data FROM texts WHERE id IN (?`+strings.Repeat(`, ?`, len(shared)-1)+`)`, shared...)
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
		if _, err := tx.Exec(`UPDATE messages SET state = 'failed', done_at = ?, attempts = attempts + 1,
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
		stmt, err := tx.Prepare(`UPDATE messages SET next_attempt = ?, attempts = attempts + 1,
			last_error = ?, sending_since = NULL WHERE id = ?`)
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
			_, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)))
			return err
		}
		for _, r := range rs {
			var err error
			switch r.state {
			case "sent":
				_, err = tx.Exec(`UPDATE messages SET state = 'sent', done_at = ?, attempts = attempts + 1, last_error = '',
					sending_since = NULL WHERE id = ?`, millis(r.at), r.id)
			case "failed":
				_, err = tx.Exec(`UPDATE messages SET state = 'failed', done_at = ?, attempts = attempts + 1, last_error = ?,
					sending_since = NULL WHERE id = ?`, millis(r.at), r.reason, r.id)
			default:
				_, err = tx.Exec(`UPDATE messages SET next_attempt = ?, attempts = attempts + 1, last_error = ?,
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
		if _, err := tx.Exec(`DELETE FROM messages WHERE state != 'queued' AND done_at < ?`, before); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM skipped WHERE at < ?`, before); err != nil {
			return err
		}
		// Shared texts no queued reply uses any more (the replies queued
		// in this transaction first); the writer's map of them may name
		// some.
		if err := q.insertRows(tx); err != nil {
			return err
		}
		clear(q.texts)
		if _, err := tx.Exec(`DELETE FROM texts WHERE id NOT IN (SELECT text_id FROM bodies WHERE text_id IS NOT NULL)`); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM reply_counts WHERE day < ?`, day)
		return err
	})
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
