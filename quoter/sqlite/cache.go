package sqlite

import (
	"container/list"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// checkEvery is how long the cached library state is trusted before the
// generation counter is read again. Changes made through this DB invalidate
// the cache at once; changes by another process (quotesd import while
// quotesd serve runs) are seen within this delay.
const checkEvery = 500 * time.Millisecond

// Sizes of the caches: filters seen recently, the ids listed for them in
// all (8 bytes each: 32 MiB; filters come from users of the web API, so
// their number and size must be bounded), and memoised quotes of the day.
const (
	maxFilters = 64
	maxIDs     = 4 << 20
	maxToday   = 256
)

// libState is what every selection needs to know about the library: its
// generation, shuffle seed and number of quotes (= 1 + the highest rank).
type libState struct {
	gen  int64
	seed uint64
	n    int
}

// filterInfo is what is known about one filter at one generation.
type filterInfo struct {
	count int     // quotes that pass the filter
	ids   []int64 // their ids in id order; nil until needed
}

type todayKey struct {
	day int64
	f   quoter.Filter
}

// cache holds everything derived from the library that is costly to
// recompute and valid for one generation: counts and id lists per filter,
// quotes of the day, stats. It is emptied whenever the generation changes.
type cache struct {
	mu      sync.Mutex
	valid   bool
	epoch   uint64    // bumped by invalidate; see begin and update
	checked time.Time // when gen was last read from the file
	st      libState

	filters map[quoter.Filter]*list.Element // of *filterEntry, most recent first
	lru     *list.List
	ids     int // ids listed in all filterInfo
	today   map[todayKey]*quoter.Quote
	stat    *quoter.Stats
	counts  map[string][]quoter.Count // "authors", "tags": full listings
	cycles  map[string]*cycleView     // by key; nil for a cycle that does not exist
	cols    []collectionInfo          // every collection; nil until read
}

type filterEntry struct {
	f    quoter.Filter
	info *filterInfo
}

func newCache() *cache {
	c := &cache{lru: list.New()}
	c.reset()
	return c
}

func (c *cache) reset() {
	c.filters = make(map[quoter.Filter]*list.Element)
	c.lru.Init()
	c.ids = 0
	c.today = make(map[todayKey]*quoter.Quote)
	c.stat = nil
	c.counts = make(map[string][]quoter.Count)
	c.cycles = make(map[string]*cycleView)
	c.cols = nil
}

// invalidate forgets everything: this process has just changed the library.
func (c *cache) invalidate() {
	c.mu.Lock()
	c.valid = false
	c.epoch++
	c.mu.Unlock()
}

// fresh returns the cached state if it was checked recently; otherwise it
// returns the epoch to pass to update with the state read from the file.
func (c *cache) fresh(now time.Time) (st libState, epoch uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && now.Sub(c.checked) < checkEvery {
		return c.st, c.epoch, true
	}
	return libState{}, c.epoch, false
}

// update records the state read from the file at time now, dropping all
// derived data if the generation moved. If the cache was invalidated since
// fresh returned epoch, st may predate a write of this process and is not
// kept: the next call reads the state again.
func (c *cache) update(st libState, now time.Time, epoch uint64) {
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

func (c *cache) filter(gen int64, f quoter.Filter) (*filterInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen {
		return nil, false
	}
	e, ok := c.filters[f]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*filterEntry).info, true
}

func (c *cache) setFilter(gen int64, f quoter.Filter, info *filterInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen {
		return
	}
	if e, ok := c.filters[f]; ok {
		c.ids -= len(e.Value.(*filterEntry).info.ids)
		e.Value.(*filterEntry).info = info
		c.lru.MoveToFront(e)
	} else {
		c.filters[f] = c.lru.PushFront(&filterEntry{f, info})
	}
	c.ids += len(info.ids)
	// Evict the least recently used, but never the entry just stored.
	for c.lru.Len() > 1 && (c.lru.Len() > maxFilters || c.ids > maxIDs) {
		last := c.lru.Back()
		c.lru.Remove(last)
		e := last.Value.(*filterEntry)
		delete(c.filters, e.f)
		c.ids -= len(e.info.ids)
	}
}

func (c *cache) todayQuote(gen int64, k todayKey) (*quoter.Quote, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen {
		return nil, false
	}
	q, ok := c.today[k]
	return q, ok
}

func (c *cache) setToday(gen int64, k todayKey, q *quoter.Quote) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen {
		return
	}
	if len(c.today) >= maxToday {
		clear(c.today) // rarely: many archive days or filters in one generation
	}
	c.today[k] = q
}

func (c *cache) stats(gen int64) (quoter.Stats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen || c.stat == nil {
		return quoter.Stats{}, false
	}
	return *c.stat, true
}

func (c *cache) setStats(gen int64, s quoter.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.st.gen == gen {
		c.stat = &s
	}
}

func (c *cache) countList(gen int64, name string) ([]quoter.Count, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen {
		return nil, false
	}
	cs, ok := c.counts[name]
	return cs, ok
}

func (c *cache) setCountList(gen int64, name string, cs []quoter.Count) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.st.gen == gen {
		c.counts[name] = cs
	}
}

func (c *cache) cycle(gen int64, key string) (*cycleView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen {
		return nil, false
	}
	v, ok := c.cycles[key]
	return v, ok
}

// setCycle keeps v, the cycle key at generation gen. The number of cycles
// is bounded by the library's tags and languages, and unknown keys asked
// by clients are not kept.
func (c *cache) setCycle(gen int64, key string, v *cycleView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.st.gen == gen && (v != nil || len(c.cycles) < maxFilters) {
		c.cycles[key] = v
	}
}

func (c *cache) collections(gen int64) ([]collectionInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.st.gen != gen || c.cols == nil {
		return nil, false
	}
	return c.cols, true
}

func (c *cache) setCollections(gen int64, cols []collectionInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.st.gen == gen {
		c.cols = cols
	}
}
