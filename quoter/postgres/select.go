package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
)

const stateSQL = `SELECT
	(SELECT value FROM meta WHERE key = 'generation'),
	(SELECT value FROM meta WHERE key = 'seed'),
	(SELECT coalesce(max(rank) + 1, 0) FROM quotes)`

// state returns the library's generation, seed and size: from memory
// until a change is heard of (see cache), else with one query whose every
// value is a lookup in a small table or one step down the rank index.
func (db *DB) state(ctx context.Context) (libState, error) {
	st, epoch, ok := db.cache.Fresh(db.now())
	if ok {
		return st, nil
	}
	var seed int64
	if err := db.pool.QueryRow(ctx, stateSQL).Scan(&st.gen, &seed, &st.n); err != nil {
		return libState{}, quoter.Internal("read library state of "+db.url, err)
	}
	st.seed = uint64(seed)
	db.cache.Update(st, db.now(), epoch)
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

// byRank returns the quote at rank r if it passes f in scope, and (nil,
// nil) if it does not or r is no longer a rank (the library shrank since st
// was read).
func (db *DB) byRank(ctx context.Context, r int, f quoter.Filter, scope []string) (*quoter.Quote, error) {
	cond, args := filterArgs(f, scope, r)
	q, err := scanQuote(db.pool.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes q WHERE q.rank = $1 AND `+cond, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, quoter.Internal("read quote by rank", err)
	}
	return q, nil
}

// byID returns the quote with the given id, or (nil, nil) if there is none.
func (db *DB) byID(ctx context.Context, id int64) (*quoter.Quote, error) {
	q, err := scanQuote(db.pool.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes q WHERE q.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
func noFilter(f quoter.Filter, scope []string) bool {
	f.Collection = ""
	return f.IsZero() && scope == nil
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
	cond, args := filterArgs(f, scope)
	info := &filterInfo{}
	if withIDs {
		rows, err := db.pool.Query(ctx, `SELECT q.id FROM quotes q WHERE `+cond+` ORDER BY q.id`, args...)
		if err != nil {
			return nil, quoter.Internal("list matching quotes", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, quoter.Internal("list matching quotes", err)
		}
		info.ids = append([]int64{}, ids...)
		info.count = len(info.ids)
	} else {
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM quotes q WHERE `+cond, args...).Scan(&info.count); err != nil {
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
// quoter.Quoter.Today exactly as the SQLite store does (see its Today):
// the day's quote in the cycle the filter selects, then a walk forward for
// what is left of the filter, then a choice among all matching quotes.
// Results are kept in memory per day, filter and generation, so that the
// quote of the day costs no query until the library changes.
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
		q, err := db.today(ctx, st, k.day, f)
		if err != nil {
			return nil, err
		}
		if q != nil {
			db.cache.SetToday(st.gen, k, q)
			return q.Clone(), nil
		}
		// Another replica changed the library since st was read: read
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

// rejectionTries bounds rejection sampling in Random.
const rejectionTries = 64

// Random returns a quote chosen uniformly among those that pass f, as the
// SQLite store draws it: a rank for the zero filter (one index lookup),
// rejection sampling over ranks when at least half the library passes,
// else a draw from the matching ids, listed once per filter and
// generation. Errors: ENOTFOUND when no quote passes f.
func (db *DB) Random(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		q, err := db.random(ctx, f)
		if err != nil || q != nil {
			return q, err
		}
		// The library changed under us: read the state again.
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
		return db.byRank(ctx, rand.IntN(st.n), quoter.Filter{}, nil)
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
