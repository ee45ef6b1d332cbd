package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

var day0 = quoter.Date{Year: 2026, Month: 11, Day: 23}

func mustToday(t *testing.T, db *sqlite.DB, d quoter.Date, f quoter.Filter) *quoter.Quote {
	t.Helper()
	q, err := db.Today(ctx, d, f)
	if err != nil {
		t.Fatalf("Today(%s, %+v): %v", d, f, err)
	}
	return q
}

func TestToday_DeterministicAcrossOpensAndCopies(t *testing.T) {
	path := tempPath(t)
	db, err := sqlite.Open(path, sqlite.Create())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Import(ctx, quotertest.Sample(), nil); err != nil {
		t.Fatal(err)
	}
	days := []quoter.Date{{Year: 1999, Month: 12, Day: 31}, day0, day0.AddDays(1), day0.AddDays(400)}
	var want []int64
	for _, d := range days {
		want = append(want, mustToday(t, db, d, quoter.Filter{}).ID)
	}
	db.Close()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(cp, b, 0o644)
	for _, p := range []string{path, cp} {
		for _, opts := range [][]sqlite.Option{nil, {sqlite.ReadOnly()}} {
			db := mustOpen(t, p, opts...)
			for i, d := range days {
				if got := mustToday(t, db, d, quoter.Filter{}).ID; got != want[i] {
					t.Errorf("%s: Today(%s) = #%d, want #%d", filepath.Base(p), d, got, want[i])
				}
			}
			db.Close()
		}
	}
}

func TestDB_SeesChangesByAnotherHandle(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		name := "ReadWrite"
		if readOnly {
			name = "ReadOnly"
		}
		t.Run(name, func(t *testing.T) {
			path := tempPath(t)
			w, err := sqlite.Open(path, sqlite.Create())
			if err != nil {
				t.Fatal(err)
			}
			w.Import(ctx, synthetic(5), nil)
			if readOnly {
				w.Finalize(ctx) // the shipped library's journal mode
			} else {
				w.Close()
			}
			var opts []sqlite.Option
			if readOnly {
				opts = append(opts, sqlite.ReadOnly())
			}
			server := mustOpen(t, path, opts...)
			if st, _ := server.Stats(ctx); st.Quotes != 5 {
				t.Fatalf("Stats.Quotes = %d, want 5", st.Quotes)
			}
			server.Random(ctx, quoter.Filter{Author: "Importer"}) // cache a count of 0

			importer := mustOpen(t, path)
			if _, err := importer.Import(ctx, []quoter.Quote{{Text: "New one.", Author: "Importer"}}, nil); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				st, err1 := server.Stats(ctx)
				q, err2 := server.Random(ctx, quoter.Filter{Author: "Importer"})
				if err1 == nil && st.Quotes == 6 && err2 == nil && q.Text == "New one." {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 5 s the server still sees %+v (%v) and %v (%v)", st, err1, q, err2)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
