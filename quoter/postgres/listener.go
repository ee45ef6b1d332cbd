package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is the channel every change notifies, in its transaction,
// with the library's new generation as payload.
const notifyChannel = "quotesd_library"

// Timings of the listening connection: how often an idle connection is
// pinged (a partition sends no error of its own), how long a ping may take,
// and the bounds of the backoff between reconnections.
const (
	pingEvery   = 5 * time.Second
	pingTimeout = 3 * time.Second
	backoffMin  = 100 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// listener holds one connection of its own on which it LISTENs, and turns
// each notification into cache.notified. It reconnects on its own; while
// it is down the cache is trusted as it stands (the replica serves what it
// knows), and on reconnecting the cache is invalidated, since changes made
// meanwhile were not heard.
type listener struct {
	cfg    *pgx.ConnConfig
	cache  *cache
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	err   error     // why the connection is down; nil while up
	since time.Time // when it went down
}

// listen connects and LISTENs before it returns, so that no change made
// after Open is missed, then keeps listening in a goroutine until stop.
func listen(ctx context.Context, cfg *pgx.ConnConfig, c *cache) (*listener, error) {
	l := &listener{cfg: cfg.Copy(), cache: c, done: make(chan struct{})}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(lctx, conn)
	return l, nil
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// run serves conn until it fails, then reconnects with exponential backoff
// and jitter, until ctx ends.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	backoff := backoffMin
	for {
		err := l.serve(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		l.down(err)
		for {
			wait := backoff/2 + rand.N(backoff/2+1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			backoff = min(2*backoff, backoffMax)
			if conn, err = l.connect(ctx); err == nil {
				break
			}
			l.down(err)
		}
		backoff = backoffMin
		l.up()
	}
}

// serve waits for notifications on conn, pinging it when idle, until it
// fails or ctx ends.
func (l *listener) serve(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			gen, _ := strconv.ParseInt(n.Payload, 10, 64)
			l.cache.Notified(gen)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (l *listener) down(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.since = time.Now()
	}
	l.err = err
}

// up records a new connection, and makes the cache read the state again:
// what changed while it was down was not heard.
func (l *listener) up() {
	l.mu.Lock()
	l.err = nil
	l.mu.Unlock()
	l.cache.Invalidate()
}

func (l *listener) health() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return fmt.Errorf("the library's database is unreachable since %s, serving what this replica knows: %w",
			l.since.UTC().Format(time.RFC3339), l.err)
	}
	return nil
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}
