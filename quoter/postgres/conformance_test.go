package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/storetest"
)

var ctx = context.Background()

// open opens a library in the database at url, closed when the test ends
// (before the database is dropped).
func open(tb testing.TB, url string, opts ...postgres.Option) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(ctx, url, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the stores' shared suite on a throwaway database
// per test.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, seed uint64, now func() time.Time) storetest.Store {
		url := pgtest.NewDatabase(tb)
		return &adapter{open(tb, url, postgres.WithSeed(seed), postgres.WithClock(now)), url, now}
	})
}

// adapter gives the suite what it asks of a store's tests.
type adapter struct {
	*postgres.DB
	url string
	now func() time.Time
}

func (a *adapter) Ranks(ctx context.Context) (n, distinct, lo, hi int, err error) {
	conn, err := pgx.Connect(ctx, a.url)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT rank), coalesce(min(rank), 0), coalesce(max(rank), -1) FROM quotes`).
		Scan(&n, &distinct, &lo, &hi)
	return
}

func (a *adapter) Reopen(tb testing.TB) storetest.Store {
	return &adapter{open(tb, a.url, postgres.WithClock(a.now)), a.url, a.now}
}
