package sqlite_test

import (
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter/sqlite"
	"github.com/quotesd/quotesd/quoter/storetest"
)

// TestConformance runs the stores' shared suite on a temporary SQLite file.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, seed uint64, now func() time.Time) storetest.Store {
		return mustOpen(tb, tempPath(tb), sqlite.Create(), sqlite.WithSeed(seed), sqlite.WithClock(now))
	})
}
