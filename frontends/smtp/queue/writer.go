package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointInterval is how often the background checkpointer copies the
// WAL into the database file. Often, because once a checkpoint has copied
// everything the writer starts the WAL over from its beginning: commits
// then overwrite blocks of a file that no longer grows, and an fsync that
// need not also record a new file size is cheaper (about 140 µs against
// 250 µs on the benchmark machine). Under load the WAL stays at a few
// megabytes rather than a second's worth of commits.
const checkpointInterval = 100 * time.Millisecond

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
			// Texts added in the failed transaction are not there.
			clear(q.texts)
			q.b.failed()
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

// maxRetries bounds how often the writer runs a transaction again after
// a deadlock with another replica's writer (each counting the same keys
// of the daily caps in another order): PostgreSQL aborts one of the two,
// which then runs again and waits for the other.
const maxRetries = 3

// commit applies batch in one transaction and commits it, running it again
// when the backend says the failure was a conflict with another replica.
// Every operation's apply may run more than once: each sets what it
// reports from scratch.
func (q *Queue) commit(batch []*op) error {
	for try := 0; ; try++ {
		err := q.commitOnce(batch)
		if err == nil || try == maxRetries || !q.b.retryable(err) {
			return err
		}
		clear(q.texts)
		q.b.failed()
	}
}

func (q *Queue) commitOnce(batch []*op) error {
	tx, err := q.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("mail queue: begin: %w", err)
	}
	defer tx.Rollback()
	clear(q.counts)
	for _, o := range batch {
		if err := o.apply(tx); err != nil {
			q.rows = q.rows[:0]
			return fmt.Errorf("mail queue: %w", err)
		}
	}
	if err := q.flushCounts(tx); err != nil {
		q.rows = q.rows[:0]
		return fmt.Errorf("mail queue: %w", err)
	}
	if err := q.insertRows(tx); err != nil {
		q.rows = q.rows[:0]
		return fmt.Errorf("mail queue: queueing replies: %w", err)
	}
	if err := tx.Commit(); err != nil {
		q.rows = q.rows[:0]
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
