package postgres

import (
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/internal/memo"
)

// The cache is the SQLite store's (package memo) with one difference: the
// state read from the database is trusted until a change is heard of, by
// this DB's own writes or by a notification from another replica (see
// listener.go), never re-read on a timer (a TTL of 0). A replica cut off
// from the database keeps it, and reads the state again on reconnecting.

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
// recompute and valid for one generation (package memo). It is emptied
// whenever the generation changes.
type cache = memo.Cache[libState, todayKey, filterInfo, cycleView, []collectionInfo]

func newCache() *cache {
	return memo.New[libState, todayKey, filterInfo, cycleView, []collectionInfo](
		func(s libState) int64 { return s.gen },
		func(f *filterInfo) int { return len(f.ids) },
		0)
}
