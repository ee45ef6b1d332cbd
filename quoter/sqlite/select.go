package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

const stateSQL = `SELECT
	(SELECT value FROM meta WHERE key = 'generation'),
	(SELECT value FROM meta WHERE key = 'seed'),
	(SELECT coalesce(max(rank) + 1, 0) FROM quotes)`

// state returns the library's generation, seed and size, from the cache if
// it was checked within checkEvery, else with one query: every value in it
// is a lookup in a small table or one step down the rank index, so it costs
// the same at a thousand quotes as at a million.
func (db *DB) state(ctx context.Context) (libState, error) {
	now := time.Now()
	st, epoch, ok := db.cache.Fresh(now)
	if ok {
		return st, nil
	}
	var seed int64
	stmt, err := db.stmt(ctx, stateSQL)
	if err != nil {
		return libState{}, err
	}
	if err := stmt.QueryRowContext(ctx).Scan(&st.gen, &seed, &st.n); err != nil {
		return libState{}, quoter.Internal("read library state of "+db.path, err)
	}
	st.seed = uint64(seed)
	db.cache.Update(st, now, epoch)
	return st, nil
}

// errEmpty is the ENOTFOUND of an empty library, worded so a person knows
// what to do about it.
func (db *DB) errEmpty() error {
	return quoter.Errorf(quoter.ENOTFOUND, "the library is empty: add quotes with `quotesd add` or `quotesd import`")
}

func errNoMatch() error {
	return quoter.Errorf(quoter.ENOTFOUND, "no quote matches the filter")
}

// queries are the SQL texts of the hot paths, built once per DB for the
// schema version of its file, so that no call builds SQL.
type queries struct {
	cols        string               // see quoteCols
	removedCols string               // see removedCols
	byRank      [len(condSQL)]string // the quote at a rank if it passes the conditions in the mask
	byID        string
}

func newQueries(version int) *queries {
	q := &queries{cols: quoteCols(version), removedCols: removedCols(version)}
	for mask, cond := range condSQL {
		q.byRank[mask] = `SELECT ` + q.cols + ` FROM quotes q WHERE q.rank = ? AND ` + cond
	}
	q.byID = `SELECT ` + q.cols + ` FROM quotes q WHERE q.id = ?`
	return q
}

// byRank returns the quote at rank r if it passes f in scope, and (nil,
// nil) if it does not or r is no longer a rank (the library shrank since st
// was read).
func (db *DB) byRank(ctx context.Context, r int, f quoter.Filter, scope string) (*quoter.Quote, error) {
	mask, args := filterArgs(f, scope, r)
	stmt, err := db.stmt(ctx, db.sql.byRank[mask])
	if err != nil {
		return nil, err
	}
	q, err := scanQuote(stmt.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, quoter.Internal("read quote by rank", err)
	}
	return q, nil
}

// byID returns the quote with the given id, or (nil, nil) if there is none.
func (db *DB) byID(ctx context.Context, id int64) (*quoter.Quote, error) {
	stmt, err := db.stmt(ctx, db.sql.byID)
	if err != nil {
		return nil, err
	}
	q, err := scanQuote(stmt.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, quoter.Internal(fmt.Sprintf("read quote %d", id), err)
	}
	return q, nil
}

// count returns how many quotes pass f: the library size for the zero
// filter while every collection with quotes is public, else a count
// computed once per filter and generation. Errors: those of scope.
func (db *DB) count(ctx context.Context, f quoter.Filter) (int, error) {
	st, err := db.state(ctx)
	if err != nil {
		return 0, err
	}
	scope, err := db.scope(ctx, st, f)
	if err != nil {
		return 0, err
	}
	if noFilter(f, scope) {
		return st.n, nil
	}
	info, err := db.filterInfo(ctx, st, f, false)
	if err != nil {
		return 0, err
	}
	return info.count, nil
}

// noFilter reports whether f in scope lets every quote of the library
// pass.
func noFilter(f quoter.Filter, scope string) bool {
	f.Collection = ""
	return f.IsZero() && scope == ""
}

// filterInfo returns what is known of f at generation st.gen, counting the
// matching quotes on first use and listing their ids when withIDs is set.
func (db *DB) filterInfo(ctx context.Context, st libState, f quoter.Filter, withIDs bool) (*filterInfo, error) {
	if info, ok := db.cache.Filter(st.gen, f); ok && (info.ids != nil || !withIDs) {
		return info, nil
	}
	scope, err := db.scope(ctx, st, f)
	if err != nil {
		return nil, err
	}
	cond, args := where(f, scope)
	info := &filterInfo{}
	if withIDs {
		rows, err := db.rdb.QueryContext(ctx, `SELECT q.id FROM quotes q WHERE `+cond+` ORDER BY q.id`, args...)
		if err != nil {
			return nil, quoter.Internal("list matching quotes", err)
		}
		defer rows.Close()
		info.ids = []int64{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, quoter.Internal("list matching quotes", err)
			}
			info.ids = append(info.ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, quoter.Internal("list matching quotes", err)
		}
		info.count = len(info.ids)
	} else {
		if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM quotes q WHERE `+cond, args...).Scan(&info.count); err != nil {
			return nil, quoter.Internal("count matching quotes", err)
		}
	}
	db.cache.SetFilter(st.gen, f, info)
	return info, nil
}

// todayWalk is how many days Today looks ahead for a quote that passes a
// filter before it falls back to choosing among the matching quotes.
const todayWalk = 64

// Today returns the quote of the day for day, keeping the contract of
// quoter.Quoter.Today with the schedule recorded in the file (schedule.go):
// the day's quote in the cycle the filter selects (the library's, a tag's
// or a language's), one lookup after the cycle's current epoch is read
// once per generation. What is left of the filter is checked by walking
// the cycle's days from day onwards; if none of the next todayWalk days has
// a quote that passes, Today picks among all matching quotes by the
// library's permutation, so the answer is still a function of the library
// and the day. Results are memoised per day, filter and generation.
// Errors: ENOTFOUND for an empty library, an unknown tag or language, or
// when no quote passes f; EGONE when the day's quote was purged.
func (db *DB) Today(ctx context.Context, day quoter.Date, f quoter.Filter) (*quoter.Quote, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	k := todayKey{day.DayNumber(), f}
	for attempt := 0; ; attempt++ {
		st, err := db.state(ctx)
		if err != nil {
			return nil, err
		}
		if q, ok := db.cache.TodayQuote(st.gen, k); ok {
			return q.Clone(), nil
		}
		if _, err := db.scope(ctx, st, f); err != nil {
			return nil, err
		}
		var q *quoter.Quote
		if db.schema < 4 {
			q, err = db.todayBefore4(ctx, st, k.day, f)
		} else {
			q, err = db.today(ctx, st, k.day, f)
		}
		if err != nil {
			return nil, err
		}
		if q != nil {
			db.cache.SetToday(st.gen, k, q)
			return q.Clone(), nil
		}
		// Another process changed the library since st was read: read
		// the state again.
		db.cache.Invalidate()
		if attempt == 3 {
			return nil, quoter.Internal("quote of the day", errors.New("library keeps changing"))
		}
	}
}

// today selects the quote for day number day, or returns (nil, nil) if the
// library changed since st was read.
func (db *DB) today(ctx context.Context, st libState, day int64, f quoter.Filter) (*quoter.Quote, error) {
	if db.schema < 5 {
		// One collection, classics, whose cycle is the library's (scope
		// has checked that f names no other).
		f.Collection = ""
	}
	key, rest := cycleFor(f)
	steps := todayWalk
	if rest.IsZero() {
		steps = 1
	}
	q, ok, err := db.scheduled(ctx, st.gen, key, day, steps, rest.Match)
	if !ok || err != nil || q != nil {
		return q, err
	}
	return db.todayAmongMatches(ctx, st, day, f)
}

// todayBefore4 is Today for a library of schema version 3 or older, opened
// read-only, which has no recorded schedule: every day is in the origin
// epoch of the library's cycle, which is this permutation.
func (db *DB) todayBefore4(ctx context.Context, st libState, day int64, f quoter.Filter) (*quoter.Quote, error) {
	if st.n == 0 {
		return nil, db.errEmpty()
	}
	// A library of this age has one collection, classics, so any
	// collection the filter names (scope checked it exists) is all of it.
	f.Collection = ""
	steps := todayWalk
	if f.IsZero() {
		steps = 1
	}
	for i := range steps {
		q, err := db.byRank(ctx, quoter.DailyIndex(st.seed, day+int64(i), st.n), f, "")
		if err != nil || q != nil {
			return q, err
		}
	}
	if f.IsZero() {
		return nil, nil // the library shrank since st was read
	}
	return db.todayAmongMatches(ctx, st, day, f)
}

// todayAmongMatches is Today's last resort for a filter no quote of the
// walked days passes: it picks among all the quotes that pass f by the
// library's permutation, so the answer is still a function of the library
// and the day.
func (db *DB) todayAmongMatches(ctx context.Context, st libState, day int64, f quoter.Filter) (*quoter.Quote, error) {
	info, err := db.filterInfo(ctx, st, f, true)
	if err != nil {
		return nil, err
	}
	if info.count == 0 {
		return nil, errNoMatch()
	}
	return db.byID(ctx, info.ids[quoter.DailyIndex(st.seed, day, info.count)])
}

// rejectionTries bounds rejection sampling in Random. With at least half of
// the quotes matching, 64 misses in a row happen with probability under
// 2^-64; it only guards against a library changed by another process.
const rejectionTries = 64

// Random returns a quote chosen uniformly among those that pass f.
//
// It never scans the library per call. The zero filter draws a rank in
// [0, N) and fetches it: one index lookup. Otherwise the number M of
// matching quotes is counted once per filter and library generation. When
// M >= N/2, Random draws ranks uniformly and keeps the first quote that
// passes (rejection sampling: exactly uniform, at most 2 draws expected).
// When fewer match, the ids of the matching quotes are listed once, and
// Random draws from that list. Errors: ENOTFOUND when no quote passes f.
func (db *DB) Random(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		q, err := db.random(ctx, f)
		if err != nil || q != nil {
			return q, err
		}
		// The library changed under us (a quote vanished between reading
		// the state and fetching it): read the state again.
		db.cache.Invalidate()
		if attempt == 3 {
			return nil, quoter.Internal("random quote", errors.New("library keeps changing"))
		}
	}
}

func (db *DB) random(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
	st, err := db.state(ctx)
	if err != nil {
		return nil, err
	}
	if st.n == 0 {
		return nil, db.errEmpty()
	}
	scope, err := db.scope(ctx, st, f)
	if err != nil {
		return nil, err
	}
	if noFilter(f, scope) {
		return db.byRank(ctx, rand.IntN(st.n), quoter.Filter{}, "")
	}
	info, err := db.filterInfo(ctx, st, f, false)
	if err != nil {
		return nil, err
	}
	if info.count == 0 {
		return nil, errNoMatch()
	}
	if 2*info.count >= st.n {
		for range rejectionTries {
			q, err := db.byRank(ctx, rand.IntN(st.n), f, scope)
			if err != nil || q != nil {
				return q, err
			}
		}
	}
	if info.ids == nil {
		if info, err = db.filterInfo(ctx, st, f, true); err != nil {
			return nil, err
		}
		if info.count == 0 {
			return nil, errNoMatch()
		}
	}
	return db.byID(ctx, info.ids[rand.IntN(len(info.ids))])
}
