package postgres_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// The two stores keep one design: given the same seed and the same
// history, they show the same quote on every day, in every cycle. (Adding
// a quote to a running cycle draws its place at random, in both; the
// changes here are those that draw nothing: an import into empty cycles,
// deletions, pins, a purge, a correction.)
func TestSameScheduleAsSQLite(t *testing.T) {
	clk := quotertest.NewClock(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
	pg := open(t, pgtest.NewDatabase(t), postgres.WithSeed(99), postgres.WithClock(clk.Now))
	lite, err := sqlite.Open(filepath.Join(t.TempDir(), "quotes.db"), sqlite.Create(), sqlite.WithSeed(99), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	stores := []quoter.Library{pg, lite}
	each := func(what string, fn func(quoter.Library) error) {
		t.Helper()
		for _, s := range stores {
			if err := fn(s); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}
	each("import", func(s quoter.Library) error { _, err := s.Import(ctx, quotertest.Sample(), nil); return err })
	f := quoter.Frontier(clk.Now())
	for step, id := range []int64{3, 17, 29} {
		clk.Advance(time.Duration(30+step*20) * time.Hour)
		each("delete", func(s quoter.Library) error { return s.Delete(ctx, id) })
		each("pin", func(s quoter.Library) error { return s.Pin(ctx, quoter.Frontier(clk.Now()).AddDays(5+step), id+1) })
	}
	clk.Advance(50 * time.Hour)
	each("purge", func(s quoter.Library) error { return s.Purge(ctx, 17) })
	text := "A correction, shown on every day of its quote."
	each("correct", func(s quoter.Library) error { _, err := s.Update(ctx, 8, quoter.Update{Text: &text}); return err })

	filters := []quoter.Filter{{}, {Tag: "life"}, {Tag: "wit"}, {Lang: "en"}, {Lang: "fr"},
		{Collection: quoter.DefaultCollection}, {MaxLen: 100}}
	for d := f.AddDays(-100); d.Before(f.AddDays(300)); d = d.AddDays(1) {
		for _, fl := range filters {
			a, errA := pg.Today(ctx, d, fl)
			b, errB := lite.Today(ctx, d, fl)
			if quoter.ErrorCode(errA) != quoter.ErrorCode(errB) || errA == nil && fmt.Sprint(*a) != fmt.Sprint(*b) {
				t.Fatalf("Today(%s, %+v): PostgreSQL %v (%v), SQLite %v (%v)", d, fl, a, errA, b, errB)
			}
		}
	}
}

// Search finds what the SQLite store's FTS4 index finds, word for word
// (whole words, prefixes, phrases split at punctuation, case and accents
// ignored), and ranks close to it: the same best match for most queries
// of the sample library, where only the ranking formulas differ (FTS4
// weighs a word by its hits in all rows, PostgreSQL by the quotes that
// hold it).
func TestSearchMatchesAsSQLite(t *testing.T) {
	pg := open(t, pgtest.NewDatabase(t), postgres.WithSeed(1))
	lite, err := sqlite.Open(filepath.Join(t.TempDir(), "quotes.db"), sqlite.Create(), sqlite.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	for _, s := range []quoter.Library{pg, lite} {
		if _, err := s.Import(ctx, quotertest.Sample(), nil); err != nil {
			t.Fatal(err)
		}
	}
	sorted := func(qs []*quoter.Quote) []int64 {
		ids := []int64{}
		for _, q := range qs {
			ids = append(ids, q.ID)
		}
		slices.Sort(ids)
		return ids
	}
	same, found := 0, 0
	for _, q := range []string{"the", "life", "time", "man", "world", "the stars", "wit", "shakespeare", "soul",
		"of the", "all", "we", "is", "death", "hope", "men", "a", "and", "to be", "war", "god", "wor*", "li*",
		"méthode", "BÖSE", "battle-field", "it's all", "<script>", "quiet desperation", "nobody"} {
		a, na, errA := pg.Search(ctx, q, quoter.Page{Limit: quoter.MaxLimit})
		b, nb, errB := lite.Search(ctx, q, quoter.Page{Limit: quoter.MaxLimit})
		if errA != nil || errB != nil || na != nb || !slices.Equal(sorted(a), sorted(b)) {
			t.Errorf("Search(%q): PostgreSQL finds %v (%d, %v), SQLite %v (%d, %v)", q, sorted(a), na, errA, sorted(b), nb, errB)
			continue
		}
		if na > 0 {
			found++
			if a[0].ID == b[0].ID {
				same++
			}
		}
	}
	t.Logf("the same best match for %d of %d queries with results", same, found)
	if found < 20 || same*10 < found*8 {
		t.Errorf("the same best match for %d of %d queries with results, want at least 80%%", same, found)
	}
}
