package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

var (
	simTags  = []string{"love", "war", "time", "wit"}
	simLangs = []string{"en", "fr"}
)

func todayID(t *testing.T, db *sqlite.DB, d quoter.Date, f quoter.Filter) int64 {
	t.Helper()
	q, err := db.Today(ctx, d, f)
	if quoter.ErrorCode(err) == quoter.ENOTFOUND {
		return 0
	} else if err != nil {
		t.Fatalf("Today(%s, %+v): %v", d, f, err)
	}
	return q.ID
}

func buildV3(t *testing.T, path string, n int, seed int64) {
	t.Helper()
	w, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stmts := []string{`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`}
	for v, name := range []string{"001_init.sql", "002_bulk_fts.sql", "003_tag_list.sql"} {
		b, err := os.ReadFile(filepath.Join("migration", name))
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(b), fmt.Sprintf(`INSERT INTO schema_version VALUES (%d, '%s', '2026-01-01T00:00:00.000Z')`, v+1, name))
	}
	stmts = append(stmts, fmt.Sprintf(`UPDATE meta SET value = %d WHERE key = 'seed'`, seed))
	for _, s := range stmts {
		if _, err := w.Exec(s); err != nil {
			t.Fatalf("building a version 3 library: %v", err)
		}
	}
	for i := range n {
		text := fmt.Sprintf("Old quote %d.", i)
		// Ranks as a library that lived a while has them: not in id order.
		rank := (i*7 + 3) % n
		if _, err := w.Exec(`INSERT INTO quotes (text, author, added, rendered_len, fingerprint, rank, tag_list, lang)
			VALUES (?, 'Old Author', '2024-01-01T00:00:00.000Z', ?, ?, ?, ?, ?)`,
			text, len(text)+len("\n    -- Old Author"), []byte(text), rank, simTags[i%len(simTags)], simLangs[i%2]); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(`INSERT INTO tags VALUES (?, ?)`, i+1, simTags[i%len(simTags)]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSchedule_UpgradeKeepsHistory(t *testing.T) {
	const n, seed = 97, 0x5eed
	path := tempPath(t)
	buildV3(t, path, n, seed)

	// What quotesd showed before version 4: the quote whose rank is
	// DailyIndex(seed, day, n).
	byRank := map[int]int64{}
	for i := range n {
		byRank[(i*7+3)%n] = int64(i + 1)
	}
	old := func(day int64) int64 { return byRank[quoter.DailyIndex(seed, day, n)] }

	upgrade := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	clk := quotertest.NewClock(upgrade)
	from := quoter.Date{Year: 2020, Month: 1, Day: 1}.DayNumber()
	upgradeDay := quoter.Frontier(upgrade).DayNumber()

	// Read-only, the old file is read as it is, with the same days.
	ro := mustOpen(t, path, sqlite.ReadOnly())
	for d := from; d <= upgradeDay+30; d += 13 {
		if got, want := todayID(t, ro, quoter.DateOfDay(d), quoter.Filter{}), old(d); got != want {
			t.Fatalf("read-only, %s shows #%d, want #%d", quoter.DateOfDay(d), got, want)
		}
	}
	ro.Close()

	db := mustOpen(t, path, sqlite.WithClock(clk.Now))
	for d := from; d <= upgradeDay+400; d++ {
		if got, want := todayID(t, db, quoter.DateOfDay(d), quoter.Filter{}), old(d); got != want {
			t.Fatalf("after the upgrade, %s shows #%d, want #%d as before", quoter.DateOfDay(d), got, want)
		}
	}
	// Changes after the upgrade leave every begun day alone. The addition
	// may take any day not begun when it is made (its place in the cycle
	// is drawn at random), so the days that begin between it and the
	// deletion are compared with what they showed just before the
	// deletion, the earlier ones with what quotesd showed before version 4.
	clk.Advance(30 * time.Hour)
	if err := db.Add(ctx, &quoter.Quote{Text: "New after the upgrade.", Author: "New"}); err != nil {
		t.Fatal(err)
	}
	begunAtAdd := quoter.Frontier(clk.Now()).DayNumber()
	clk.Advance(50 * time.Hour)
	frontier := quoter.Frontier(clk.Now()).DayNumber()
	shown := map[int64]int64{}
	for d := begunAtAdd + 1; d <= frontier; d++ {
		shown[d] = todayID(t, db, quoter.DateOfDay(d), quoter.Filter{})
	}
	if err := db.Delete(ctx, old(upgradeDay)); err != nil {
		t.Fatal(err)
	}
	for d := from; d <= frontier; d++ {
		want := old(d)
		if d > begunAtAdd {
			want = shown[d]
		}
		if got := todayID(t, db, quoter.DateOfDay(d), quoter.Filter{}); got != want {
			t.Fatalf("after changes, %s shows #%d, want #%d as before", quoter.DateOfDay(d), got, want)
		}
	}
	// Tag and language cycles exist from the upgrade on.
	if q, err := db.Today(ctx, quoter.DateOfDay(upgradeDay), quoter.Filter{Tag: simTags[0]}); err != nil || !slices.Contains(q.Tags, simTags[0]) {
		t.Errorf("the tag's quote of the day = %+v, %v", q, err)
	}
}
