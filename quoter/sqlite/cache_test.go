package sqlite

import (
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// The filter cache holds at most maxFilters filters and maxIDs ids in all,
// dropping the least recently used, whatever users of the API ask for.
func TestCache_FiltersAreBounded(t *testing.T) {
	c := newCache()
	c.update(libState{gen: 1, n: 10}, time.Now(), 0)
	for i := range 3 * maxFilters {
		c.setFilter(1, quoter.Filter{MaxLen: i + 1}, &filterInfo{count: 1})
	}
	if c.lru.Len() != maxFilters || len(c.filters) != maxFilters {
		t.Errorf("%d filters cached (%d in the map), want %d", c.lru.Len(), len(c.filters), maxFilters)
	}
	if _, ok := c.filter(1, quoter.Filter{MaxLen: 1}); ok {
		t.Error("the least recently used filter was kept")
	}
	big := make([]int64, maxIDs/3+1)
	for i := range 4 {
		c.setFilter(1, quoter.Filter{MinLen: i + 1}, &filterInfo{count: len(big), ids: big})
		if c.ids > maxIDs {
			t.Fatalf("%d ids cached after %d big lists, want at most %d", c.ids, i+1, maxIDs)
		}
	}
	if _, ok := c.filter(1, quoter.Filter{MinLen: 4}); !ok {
		t.Error("the filter just stored was evicted")
	}
	huge := make([]int64, maxIDs+1)
	c.setFilter(1, quoter.Filter{Tag: "huge"}, &filterInfo{count: len(huge), ids: huge})
	if _, ok := c.filter(1, quoter.Filter{Tag: "huge"}); !ok || c.lru.Len() != 1 {
		t.Errorf("a list over the budget alone: cached %v, %d entries; want it alone", ok, c.lru.Len())
	}
	c.update(libState{gen: 2, n: 10}, time.Now(), 0)
	if c.ids != 0 || c.lru.Len() != 0 {
		t.Errorf("after the generation moved: %d ids in %d filters, want none", c.ids, c.lru.Len())
	}
}
