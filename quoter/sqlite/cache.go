package sqlite

import (
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/internal/memo"
)

// checkEvery is how long the cached library state is trusted before the
// generation counter is read again. Changes made through this DB invalidate
// the cache at once; changes by another process (quotesd import while
// quotesd serve runs) are seen within this delay.
const checkEvery = 500 * time.Millisecond

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
// recompute and valid for one generation (package memo, shared with the
// PostgreSQL store). It is emptied whenever the generation changes.
type cache = memo.Cache[libState, todayKey, filterInfo, cycleView, []collectionInfo]

func newCache() *cache {
	return memo.New[libState, todayKey, filterInfo, cycleView, []collectionInfo](
		func(s libState) int64 { return s.gen },
		func(f *filterInfo) int { return len(f.ids) },
		checkEvery)
}
