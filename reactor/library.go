package reactor

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/quotesd/quotesd/quoter"
)

// Library is the quoter.Library every frontend shares: it forwards each call
// to the library currently open, and Swap replaces that library (SIGHUP
// reopens the file, e.g. after an operator replaced it) without failing a
// call in flight and without dropping a connection. The old library is
// closed once the calls that were using it have returned.
type Library struct {
	cur atomic.Pointer[libHandle]
	gen atomic.Uint64
}

// libHandle is one open library. Calls hold mu for reading while they run;
// retiring takes it for writing, so it waits for them, then marks the
// handle closed so that a caller that loaded it just before the swap tries
// again with the new one.
type libHandle struct {
	q      quoter.Library
	closer io.Closer
	mu     sync.RWMutex
	closed bool
}

// NewLibrary returns a Library forwarding to q; closer (may be nil) is
// closed when q is swapped out or the Library is closed.
func NewLibrary(q quoter.Library, closer io.Closer) *Library {
	l := &Library{}
	l.cur.Store(&libHandle{q: q, closer: closer})
	return l
}

// Swap makes q the library from now on, waits for the calls still using
// the previous one, and closes it, returning what its Close returned.
func (l *Library) Swap(q quoter.Library, closer io.Closer) error {
	old := l.cur.Swap(&libHandle{q: q, closer: closer})
	l.gen.Add(1)
	return old.retire()
}

// Generation counts swaps; caches of quotes compare it to know when to
// drop what they hold.
func (l *Library) Generation() uint64 { return l.gen.Load() }

// Close closes the current library after the calls in flight.
func (l *Library) Close() error {
	return l.cur.Load().retire()
}

func (h *libHandle) retire() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if h.closer == nil {
		return nil
	}
	return h.closer.Close()
}

// errClosed is returned by calls made after Close.
var errClosed = quoter.Internal("library is closed", errors.New("reactor: Library used after Close"))

// acquire returns the current library, read-locked; the caller must call
// release. After Close it returns nil.
func (l *Library) acquire() *libHandle {
	for {
		h := l.cur.Load()
		h.mu.RLock()
		if !h.closed {
			return h
		}
		h.mu.RUnlock()
		if l.cur.Load() == h {
			return nil // closed for good
		}
	}
}

func (h *libHandle) release() { h.mu.RUnlock() }

// with runs f on the current library.
func with[T any](l *Library, f func(q quoter.Library) (T, error)) (T, error) {
	h := l.acquire()
	if h == nil {
		var zero T
		return zero, errClosed
	}
	defer h.release()
	return f(h.q)
}

func (l *Library) Today(ctx context.Context, day quoter.Date, f quoter.Filter) (*quoter.Quote, error) {
	return with(l, func(q quoter.Library) (*quoter.Quote, error) { return q.Today(ctx, day, f) })
}

func (l *Library) Random(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
	return with(l, func(q quoter.Library) (*quoter.Quote, error) { return q.Random(ctx, f) })
}

func (l *Library) Quote(ctx context.Context, id int64) (*quoter.Quote, error) {
	return with(l, func(q quoter.Library) (*quoter.Quote, error) { return q.Quote(ctx, id) })
}

// page is the result of Search, List and Authors: items and a total.
type page[T any] struct {
	items T
	total int
}

func (l *Library) Search(ctx context.Context, query string, p quoter.Page) ([]*quoter.Quote, int, error) {
	r, err := with(l, func(q quoter.Library) (page[[]*quoter.Quote], error) {
		qs, n, err := q.Search(ctx, query, p)
		return page[[]*quoter.Quote]{qs, n}, err
	})
	return r.items, r.total, err
}

func (l *Library) SearchIn(ctx context.Context, query string, f quoter.Filter, p quoter.Page) ([]*quoter.Quote, int, error) {
	r, err := with(l, func(q quoter.Library) (page[[]*quoter.Quote], error) {
		qs, n, err := q.SearchIn(ctx, query, f, p)
		return page[[]*quoter.Quote]{qs, n}, err
	})
	return r.items, r.total, err
}

func (l *Library) List(ctx context.Context, f quoter.Filter, p quoter.Page) ([]*quoter.Quote, int, error) {
	r, err := with(l, func(q quoter.Library) (page[[]*quoter.Quote], error) {
		qs, n, err := q.List(ctx, f, p)
		return page[[]*quoter.Quote]{qs, n}, err
	})
	return r.items, r.total, err
}

func (l *Library) Authors(ctx context.Context, p quoter.Page) ([]quoter.Count, int, error) {
	r, err := with(l, func(q quoter.Library) (page[[]quoter.Count], error) {
		cs, n, err := q.Authors(ctx, p)
		return page[[]quoter.Count]{cs, n}, err
	})
	return r.items, r.total, err
}

func (l *Library) Tags(ctx context.Context) ([]quoter.Count, error) {
	return with(l, func(q quoter.Library) ([]quoter.Count, error) { return q.Tags(ctx) })
}

func (l *Library) Stats(ctx context.Context) (quoter.Stats, error) {
	return with(l, func(q quoter.Library) (quoter.Stats, error) { return q.Stats(ctx) })
}

func (l *Library) Add(ctx context.Context, nq *quoter.Quote) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Add(ctx, nq) })
	return err
}

func (l *Library) Update(ctx context.Context, id int64, u quoter.Update) (*quoter.Quote, error) {
	return with(l, func(q quoter.Library) (*quoter.Quote, error) { return q.Update(ctx, id, u) })
}

func (l *Library) Delete(ctx context.Context, id int64) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Delete(ctx, id) })
	return err
}

func (l *Library) Import(ctx context.Context, qs []quoter.Quote, progress func(done int)) (quoter.ImportResult, error) {
	return with(l, func(q quoter.Library) (quoter.ImportResult, error) { return q.Import(ctx, qs, progress) })
}

func (l *Library) Purge(ctx context.Context, id int64) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Purge(ctx, id) })
	return err
}

func (l *Library) Pin(ctx context.Context, day quoter.Date, id int64) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Pin(ctx, day, id) })
	return err
}

func (l *Library) Unpin(ctx context.Context, day quoter.Date) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Unpin(ctx, day) })
	return err
}

func (l *Library) Pins(ctx context.Context, from quoter.Date) ([]quoter.Pinned, error) {
	return with(l, func(q quoter.Library) ([]quoter.Pinned, error) { return q.Pins(ctx, from) })
}

func (l *Library) Collections(ctx context.Context) ([]quoter.Collection, error) {
	return with(l, func(q quoter.Library) ([]quoter.Collection, error) { return q.Collections(ctx) })
}

func (l *Library) SetCollection(ctx context.Context, c quoter.Collection) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.SetCollection(ctx, c) })
	return err
}

func (l *Library) Submit(ctx context.Context, s *quoter.Submission) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Submit(ctx, s) })
	return err
}

func (l *Library) Submissions(ctx context.Context, status string, p quoter.Page) ([]*quoter.Submission, int, error) {
	r, err := with(l, func(q quoter.Library) (page[[]*quoter.Submission], error) {
		ss, n, err := q.Submissions(ctx, status, p)
		return page[[]*quoter.Submission]{ss, n}, err
	})
	return r.items, r.total, err
}

func (l *Library) Submission(ctx context.Context, id int64) (*quoter.Submission, error) {
	return with(l, func(q quoter.Library) (*quoter.Submission, error) { return q.Submission(ctx, id) })
}

func (l *Library) Approve(ctx context.Context, id int64, by quoter.Provenance, edit *quoter.Update) (*quoter.Quote, error) {
	return with(l, func(q quoter.Library) (*quoter.Quote, error) { return q.Approve(ctx, id, by, edit) })
}

func (l *Library) Reject(ctx context.Context, id int64, by quoter.Provenance, reason string) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.Reject(ctx, id, by, reason) })
	return err
}

func (l *Library) SetPassword(ctx context.Context, curator, hash string) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.SetPassword(ctx, curator, hash) })
	return err
}

func (l *Library) PasswordHash(ctx context.Context, curator string) (string, error) {
	return with(l, func(q quoter.Library) (string, error) { return q.PasswordHash(ctx, curator) })
}

var _ quoter.Library = (*Library)(nil)

func (l *Library) Author(ctx context.Context, slug string) (*quoter.Author, error) {
	return with(l, func(q quoter.Library) (*quoter.Author, error) { return q.Author(ctx, slug) })
}

func (l *Library) AuthorList(ctx context.Context, p quoter.Page) ([]quoter.Author, int, error) {
	r, err := with(l, func(q quoter.Library) (page[[]quoter.Author], error) {
		as, n, err := q.AuthorList(ctx, p)
		return page[[]quoter.Author]{as, n}, err
	})
	return r.items, r.total, err
}

func (l *Library) SetAuthor(ctx context.Context, a quoter.Author) error {
	_, err := with(l, func(q quoter.Library) (struct{}, error) { return struct{}{}, q.SetAuthor(ctx, a) })
	return err
}
