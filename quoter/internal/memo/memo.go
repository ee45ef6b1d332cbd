// Package memo is what a quote store keeps in memory of its library for
// one generation: counts and id lists per filter, quotes of the day,
// cycles, stats and listings. The SQLite and PostgreSQL stores share it;
// they differ only in how they learn that the library changed (the SQLite
// store reads the generation again after a while, the PostgreSQL store
// when a replica's notification says so), which is the TTL given to New.
//
// Everything kept is tagged with the generation it was derived at: a read
// for another generation misses, and a new generation drops it all.
package memo

import (
	"container/list"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// Sizes of the caches: filters seen recently, the ids listed for them in
// all (8 bytes each: 32 MiB; filters come from users of the web API, so
// their number and size must be bounded), and memoised quotes of the day.
const (
	MaxFilters = 64
	MaxIDs     = 4 << 20
	MaxToday   = 256
)

// Cache holds what is derived from one generation of a library. S is the
// store's library state (read from storage, compared whole: any change
// drops what is kept), K the key of a quote of the day, *F what is known
// of one filter, *T a cycle's view and L the list of collections.
type Cache[S comparable, K comparable, F any, T any, L any] struct {
	gen  func(S) int64 // the generation of a state
	size func(*F) int  // the ids a filter's entry holds, counted against MaxIDs
	ttl  time.Duration // how long a state is trusted without reading it again; 0: until invalidated

	mu      sync.Mutex
	valid   bool
	epoch   uint64    // bumped by Invalidate; see Fresh and Update
	checked time.Time // when the state was last read
	st      S

	filters map[quoter.Filter]*list.Element // of *filterEntry, most recent first
	lru     *list.List
	ids     int // ids listed in all filter entries
	today   map[K]*quoter.Quote
	stat    *quoter.Stats
	counts  map[string][]quoter.Count // "authors", "tags": full listings
	cycles  map[string]*T             // by key; nil for a key that names no cycle
	cols    *L                        // every collection; nil until read
	authors []quoter.Author           // every author with its notes; nil until derived
}

type filterEntry[F any] struct {
	f    quoter.Filter
	info *F
}

// New returns an empty cache. gen gives a state's generation, size the ids
// a filter's entry holds; ttl is how long a state read from storage is
// trusted (0: until Invalidate or Notified).
func New[S comparable, K comparable, F any, T any, L any](gen func(S) int64, size func(*F) int, ttl time.Duration) *Cache[S, K, F, T, L] {
	c := &Cache[S, K, F, T, L]{gen: gen, size: size, ttl: ttl, lru: list.New()}
	c.reset()
	return c
}

func (c *Cache[S, K, F, T, L]) reset() {
	c.filters = make(map[quoter.Filter]*list.Element)
	c.lru.Init()
	c.ids = 0
	c.today = make(map[K]*quoter.Quote)
	c.stat = nil
	c.counts = make(map[string][]quoter.Count)
	c.cycles = make(map[string]*T)
	c.cols = nil
	c.authors = nil
}

// Invalidate makes the next Fresh miss: the library has changed, or may
// have while no news of it could arrive.
func (c *Cache[S, K, F, T, L]) Invalidate() {
	c.mu.Lock()
	c.valid = false
	c.epoch++
	c.mu.Unlock()
}

// Notified is Invalidate for news of generation gen: news of a generation
// the cache holds already (the store's own change, read back since)
// changes nothing.
func (c *Cache[S, K, F, T, L]) Notified(gen int64) {
	c.mu.Lock()
	if !c.valid || c.gen(c.st) < gen {
		c.valid = false
		c.epoch++
	}
	c.mu.Unlock()
}

// Fresh returns the state kept, if it may still be trusted at now;
// otherwise it returns the epoch to pass to Update with the state read
// from storage.
func (c *Cache[S, K, F, T, L]) Fresh(now time.Time) (st S, epoch uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && (c.ttl == 0 || now.Sub(c.checked) < c.ttl) {
		return c.st, c.epoch, true
	}
	return st, c.epoch, false
}

// Update records the state read from storage at now, dropping everything
// derived if it changed. If the cache was invalidated since Fresh returned
// epoch, st may predate that change and is not kept: the next call reads
// the state again.
func (c *Cache[S, K, F, T, L]) Update(st S, now time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if !c.valid || st != c.st {
		c.reset()
	}
	c.st, c.valid, c.checked = st, true, now
}

// at reports whether what is kept is of generation gen. c.mu is held.
func (c *Cache[S, K, F, T, L]) at(gen int64) bool {
	return c.valid && c.gen(c.st) == gen
}

// Filter returns what is known of f at generation gen.
func (c *Cache[S, K, F, T, L]) Filter(gen int64, f quoter.Filter) (*F, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return nil, false
	}
	e, ok := c.filters[f]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*filterEntry[F]).info, true
}

// SetFilter keeps info for f, evicting the least recently used filters
// beyond MaxFilters or MaxIDs, but never the entry just stored.
func (c *Cache[S, K, F, T, L]) SetFilter(gen int64, f quoter.Filter, info *F) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return
	}
	if e, ok := c.filters[f]; ok {
		c.ids -= c.size(e.Value.(*filterEntry[F]).info)
		e.Value.(*filterEntry[F]).info = info
		c.lru.MoveToFront(e)
	} else {
		c.filters[f] = c.lru.PushFront(&filterEntry[F]{f, info})
	}
	c.ids += c.size(info)
	for c.lru.Len() > 1 && (c.lru.Len() > MaxFilters || c.ids > MaxIDs) {
		last := c.lru.Back()
		c.lru.Remove(last)
		e := last.Value.(*filterEntry[F])
		delete(c.filters, e.f)
		c.ids -= c.size(e.info)
	}
}

// TodayQuote returns the quote of the day kept for k.
func (c *Cache[S, K, F, T, L]) TodayQuote(gen int64, k K) (*quoter.Quote, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return nil, false
	}
	q, ok := c.today[k]
	return q, ok
}

// SetToday keeps q as the quote of the day for k.
func (c *Cache[S, K, F, T, L]) SetToday(gen int64, k K, q *quoter.Quote) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return
	}
	if len(c.today) >= MaxToday {
		clear(c.today) // rarely: many archive days or filters in one generation
	}
	c.today[k] = q
}

// Stats returns the library's stats kept.
func (c *Cache[S, K, F, T, L]) Stats(gen int64) (quoter.Stats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) || c.stat == nil {
		return quoter.Stats{}, false
	}
	return *c.stat, true
}

// SetStats keeps s.
func (c *Cache[S, K, F, T, L]) SetStats(gen int64, s quoter.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at(gen) {
		c.stat = &s
	}
}

// CountList returns the full listing name ("authors", "tags") kept.
func (c *Cache[S, K, F, T, L]) CountList(gen int64, name string) ([]quoter.Count, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return nil, false
	}
	cs, ok := c.counts[name]
	return cs, ok
}

// SetCountList keeps the full listing name.
func (c *Cache[S, K, F, T, L]) SetCountList(gen int64, name string, cs []quoter.Count) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at(gen) {
		c.counts[name] = cs
	}
}

// Cycle returns the view kept of the cycle key.
func (c *Cache[S, K, F, T, L]) Cycle(gen int64, key string) (*T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return nil, false
	}
	v, ok := c.cycles[key]
	return v, ok
}

// SetCycle keeps v, the cycle key at generation gen. The number of cycles
// is bounded by the library's tags, languages and collections; of the
// keys clients ask for that name no cycle (v is nil), at most MaxFilters
// are kept.
func (c *Cache[S, K, F, T, L]) SetCycle(gen int64, key string, v *T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at(gen) && (v != nil || len(c.cycles) < MaxFilters) {
		c.cycles[key] = v
	}
}

// Collections returns the list of collections kept.
func (c *Cache[S, K, F, T, L]) Collections(gen int64) (l L, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) || c.cols == nil {
		return l, false
	}
	return *c.cols, true
}

// SetCollections keeps the list of collections.
func (c *Cache[S, K, F, T, L]) SetCollections(gen int64, l L) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at(gen) {
		c.cols = &l
	}
}

// Authors returns the authors derived for generation gen (their counts
// and notes: a note's change is a new generation). Callers must not
// change the slice.
func (c *Cache[S, K, F, T, L]) Authors(gen int64) ([]quoter.Author, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) || c.authors == nil {
		return nil, false
	}
	return c.authors, true
}

// SetAuthors keeps the authors derived for generation gen.
func (c *Cache[S, K, F, T, L]) SetAuthors(gen int64, as []quoter.Author) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at(gen) && as != nil {
		c.authors = as
	}
}
