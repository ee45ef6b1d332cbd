// Package logs is where quotesd's log records go: the formats an operator
// chooses between, and the output that batches the high-volume ones.
package logs

import (
	"io"
	"sync"
	"time"
)

// Batching of high-volume log records (the web access log): a batch is
// written when it reaches batchBytes, or batchDelay after its first record,
// whichever comes first.
const (
	batchBytes = 32 << 10
	batchDelay = 100 * time.Millisecond
)

// Output is serve's log destination, usually stderr: a pipe to journald
// or a file. Most records are written through at once, as slog does. The
// access log, one record per HTTP request, goes through Batched instead,
// which gathers records and writes them in batches: under load a write(2)
// per request cost more CPU than the request itself did (about a tenth of
// quotesd's time per /api/v1/today request), and nginx's access_log buffer
// exists for the same reason.
//
// Order is kept: a record written through first writes out the batch
// gathered before it. The price of batching is that the access records of
// the last batchDelay are lost if the process dies at once (kill -9, a
// fatal runtime error); every other record is written before the call that
// logs it returns. Serve calls Flush when it ends.
type Output struct {
	w     io.Writer
	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // flushes a batch batchDelay after its first record
}

// NewOutput returns an Output writing to w.
func NewOutput(w io.Writer) *Output {
	o := &Output{w: w}
	o.timer = time.AfterFunc(time.Hour, func() { o.Flush() })
	o.timer.Stop()
	return o
}

// Write writes p at once, after any batched records.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	return o.w.Write(p)
}

// Flush writes the records batched so far.
func (o *Output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked()
}

func (o *Output) flushLocked() error {
	if len(o.buf) == 0 {
		return nil
	}
	o.timer.Stop()
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	return err
}

// Batched returns a writer of the same output whose writes are batched.
// Each Write must be whole records (slog's handlers write one record per
// call), so that a batch never ends inside one.
func (o *Output) Batched() io.Writer { return batched{o} }

type batched struct{ o *Output }

func (b batched) Write(p []byte) (int, error) {
	o := b.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf) == 0 {
		o.timer.Reset(batchDelay)
	}
	o.buf = append(o.buf, p...)
	if len(o.buf) >= batchBytes {
		if err := o.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
