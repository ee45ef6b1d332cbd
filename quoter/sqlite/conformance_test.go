package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter/sqlite"
	"github.com/quotesd/quotesd/quoter/storetest"
)

// TestConformance runs the stores' shared suite on a temporary SQLite file.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, seed uint64, now func() time.Time) storetest.Store {
		path := tempPath(tb)
		return &adapter{mustOpen(tb, path, sqlite.Create(), sqlite.WithSeed(seed), sqlite.WithClock(now)), now}
	})
}

// adapter gives the suite what it asks of a store's tests.
type adapter struct {
	*sqlite.DB
	now func() time.Time
}

func (a *adapter) Ranks(ctx context.Context) (n, distinct, lo, hi int, err error) {
	r, err := sql.Open("sqlite3", "file:"+a.Path()+"?mode=ro")
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer r.Close()
	err = r.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT rank), coalesce(min(rank), 0), coalesce(max(rank), -1) FROM quotes`).
		Scan(&n, &distinct, &lo, &hi)
	return
}

func (a *adapter) Reopen(tb testing.TB) storetest.Store {
	return &adapter{mustOpen(tb, a.Path(), sqlite.WithClock(a.now)), a.now}
}

// checkDenseRanks asserts the invariant Today and Random rely on: the ranks
// of N quotes are exactly 0..N-1.
func checkDenseRanks(t *testing.T, db *sqlite.DB) {
	t.Helper()
	n, distinct, lo, hi, err := (&adapter{DB: db}).Ranks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if distinct != n || n > 0 && (lo != 0 || hi != n-1) {
		t.Fatalf("ranks of %d quotes: %d distinct in [%d, %d], want 0..%d", n, distinct, lo, hi, n-1)
	}
}
