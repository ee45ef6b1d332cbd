package memo

import (
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

type state struct {
	gen int64
	n   int
}

type info struct {
	count int
	ids   []int64
}

type testCache = Cache[state, int64, info, struct{}, []string]

func newTest(ttl time.Duration) *testCache {
	return New[state, int64, info, struct{}, []string](
		func(s state) int64 { return s.gen }, func(f *info) int { return len(f.ids) }, ttl)
}

// The filter cache holds at most MaxFilters filters and MaxIDs ids in all,
// dropping the least recently used, whatever users of the API ask for.
func TestCache_FiltersAreBounded(t *testing.T) {
	c := newTest(time.Second)
	c.Update(state{gen: 1, n: 10}, time.Now(), 0)
	for i := range 3 * MaxFilters {
		c.SetFilter(1, quoter.Filter{MaxLen: i + 1}, &info{count: 1})
	}
	if c.lru.Len() != MaxFilters || len(c.filters) != MaxFilters {
		t.Errorf("%d filters cached (%d in the map), want %d", c.lru.Len(), len(c.filters), MaxFilters)
	}
	if _, ok := c.Filter(1, quoter.Filter{MaxLen: 1}); ok {
		t.Error("the least recently used filter was kept")
	}
	big := make([]int64, MaxIDs/3+1)
	for i := range 4 {
		c.SetFilter(1, quoter.Filter{MinLen: i + 1}, &info{count: len(big), ids: big})
		if c.ids > MaxIDs {
			t.Fatalf("%d ids cached after %d big lists, want at most %d", c.ids, i+1, MaxIDs)
		}
	}
	if _, ok := c.Filter(1, quoter.Filter{MinLen: 4}); !ok {
		t.Error("the filter just stored was evicted")
	}
	huge := make([]int64, MaxIDs+1)
	c.SetFilter(1, quoter.Filter{Tag: "huge"}, &info{count: len(huge), ids: huge})
	if _, ok := c.Filter(1, quoter.Filter{Tag: "huge"}); !ok || c.lru.Len() != 1 {
		t.Errorf("a list over the budget alone: cached %v, %d entries; want it alone", ok, c.lru.Len())
	}
	c.Update(state{gen: 2, n: 10}, time.Now(), 0)
	if c.ids != 0 || c.lru.Len() != 0 {
		t.Errorf("after the generation moved: %d ids in %d filters, want none", c.ids, c.lru.Len())
	}
}

// A state is trusted for the TTL, or, with none, until news of a newer
// generation; news of the generation held changes nothing, and a state read
// before an invalidation is not kept.
func TestCache_FreshnessFollowsTheTTLOrTheNews(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := newTest(500 * time.Millisecond)
	_, epoch, ok := c.Fresh(t0)
	if ok {
		t.Fatal("an empty cache is fresh")
	}
	c.Update(state{gen: 1}, t0, epoch)
	if _, _, ok := c.Fresh(t0.Add(400 * time.Millisecond)); !ok {
		t.Error("stale within the TTL")
	}
	if _, _, ok := c.Fresh(t0.Add(600 * time.Millisecond)); ok {
		t.Error("fresh past the TTL")
	}

	n := newTest(0)
	_, epoch, _ = n.Fresh(t0)
	n.Update(state{gen: 3}, t0, epoch)
	if _, _, ok := n.Fresh(t0.Add(time.Hour)); !ok {
		t.Error("without a TTL, stale after an hour with no news")
	}
	n.Notified(3)
	if _, _, ok := n.Fresh(t0); !ok {
		t.Error("news of the generation held made it stale")
	}
	n.Notified(4)
	_, epoch, ok = n.Fresh(t0)
	if ok {
		t.Error("news of a newer generation left it fresh")
	}
	n.Invalidate()
	n.Update(state{gen: 4}, t0, epoch) // read before the invalidation
	if _, _, ok := n.Fresh(t0); ok {
		t.Error("a state read before an invalidation was kept")
	}
}

// The authors derived for a generation are kept for it and dropped with it:
// a note's change is a write, which is a new generation.
func TestCache_AuthorsAreKeptForTheirGeneration(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := newTest(0)
	_, epoch, _ := c.Fresh(t0)
	c.Update(state{gen: 1}, t0, epoch)
	as := []quoter.Author{{Name: "Lao Tzu", Slug: "lao-tzu", Count: 2}}
	c.SetAuthors(1, as)
	if got, ok := c.Authors(1); !ok || len(got) != 1 || got[0].Slug != "lao-tzu" {
		t.Fatalf("Authors(1) = %v, %v; want what was set", got, ok)
	}
	if _, ok := c.Authors(2); ok {
		t.Error("authors of generation 1 served for generation 2")
	}
	c.Notified(2)
	_, epoch, _ = c.Fresh(t0)
	c.Update(state{gen: 2}, t0, epoch)
	if _, ok := c.Authors(2); ok {
		t.Error("authors kept across a change of generation")
	}
}
