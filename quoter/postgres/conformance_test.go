package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/storetest"
)

var ctx = context.Background()

// open opens a library in a new throwaway database, closed when the test
// ends (before the database is dropped).
func open(tb testing.TB, opts ...postgres.Option) *postgres.DB {
	tb.Helper()
	url := pgtest.NewDatabase(tb)
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
		return open(tb, postgres.WithSeed(seed), postgres.WithClock(now))
	})
}
