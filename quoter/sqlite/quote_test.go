package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

var fixedNow = time.Date(2026, 5, 4, 3, 2, 1, 987654321, time.UTC)

func TestDB_Add(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db := newDB(t, sqlite.WithClock(func() time.Time { return fixedNow }))
		q := &quoter.Quote{Text: "  Simplify,   simplify.\r\n", Author: " Henry  David Thoreau", Source: "Walden", Year: 1854, Tags: []string{"Simplicity", "life"}}
		if err := db.Add(ctx, q); err != nil {
			t.Fatalf("Add: %v", err)
		}
		if q.ID == 0 || !q.Added.Equal(fixedNow.Truncate(time.Millisecond)) {
			t.Errorf("Add set ID %d, Added %v; want an id and %v", q.ID, q.Added, fixedNow)
		}
		got, err := db.Quote(ctx, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := quoter.Quote{ID: q.ID, Text: "  Simplify,   simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854,
			Tags: []string{"life", "simplicity"}, Lang: "en", Added: fixedNow.Truncate(time.Millisecond), Collection: quoter.DefaultCollection}
		if fmt.Sprint(*got) != fmt.Sprint(want) || fmt.Sprint(*q) != fmt.Sprint(want) {
			t.Errorf("stored %+v\nreturned %+v\nwant %+v", *got, *q, want)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		db := newDB(t)
		for _, q := range []quoter.Quote{
			{Text: " \n ", Author: "Nobody"},
			{Text: "No author."},
			{Text: strings.Repeat("x", quoter.MaxTextLen+1), Author: "Verbose"},
			{Text: "Bad \xff UTF-8", Author: "Mojibake"},
			{Text: "Bad tag", Author: "A", Tags: []string{"two words"}},
		} {
			wantCode(t, db.Add(ctx, &q), quoter.EINVALID)
		}
		if st, _ := db.Stats(ctx); st.Quotes != 0 {
			t.Errorf("%d quotes stored after invalid adds", st.Quotes)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		db := newDB(t)
		if err := db.Add(ctx, &quoter.Quote{Text: "Brevity is the soul of wit.", Author: "William Shakespeare"}); err != nil {
			t.Fatal(err)
		}
		dup := &quoter.Quote{Text: "BREVITY is the\n soul   of wit.", Author: "Someone Else"}
		err := db.Add(ctx, dup)
		wantCode(t, err, quoter.ECONFLICT)
		if dup.ID != 0 {
			t.Errorf("a rejected duplicate got id %d", dup.ID)
		}
	})
}

func TestDB_Quote(t *testing.T) {
	db := quotertest.NewLibrary(t)
	t.Run("OK", func(t *testing.T) {
		qs, _, _ := db.Search(ctx, "Gettysburg", quoter.Page{})
		if len(qs) != 1 {
			t.Fatalf("search found %d", len(qs))
		}
		q, err := db.Quote(ctx, qs[0].ID)
		if err != nil || q.Text != quotertest.Gettysburg || q.Year != 1863 || q.Added.IsZero() {
			t.Errorf("Quote = %+v, %v", q, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.Quote(ctx, 12345)
		wantCode(t, err, quoter.ENOTFOUND)
	})
}

func TestDB_Update(t *testing.T) {
	setup := func(t *testing.T) (*sqlite.DB, *quoter.Quote, *quoter.Quote) {
		db := newDB(t)
		a := &quoter.Quote{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Tags: []string{"simplicity"}}
		b := &quoter.Quote{Text: "Brevity is the soul of wit.", Author: "William Shakespeare"}
		for _, q := range []*quoter.Quote{a, b} {
			if err := db.Add(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		return db, a, b
	}
	ptr := func(s string) *string { return &s }
	t.Run("OK_PartialKeepsOtherFields", func(t *testing.T) {
		db, a, _ := setup(t)
		year := 1854
		got, err := db.Update(ctx, a.ID, quoter.Update{Year: &year, Tags: &[]string{"Life", "walden"}})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if got.Text != a.Text || got.Source != "Walden" || got.Year != 1854 || fmt.Sprint(got.Tags) != "[life walden]" || !got.Added.Equal(a.Added) {
			t.Errorf("Update returned %+v", got)
		}
		stored, _ := db.Quote(ctx, a.ID)
		if fmt.Sprint(stored) != fmt.Sprint(got) {
			t.Errorf("stored %+v, returned %+v", stored, got)
		}
	})
	t.Run("OK_TextIsReindexed", func(t *testing.T) {
		db, a, _ := setup(t)
		if _, err := db.Update(ctx, a.ID, quoter.Update{Text: ptr("Our life is frittered away by detail.")}); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.Search(ctx, "simplify", quoter.Page{}); n != 0 {
			t.Errorf("old text still found (%d)", n)
		}
		if qs, _, _ := db.Search(ctx, "frittered", quoter.Page{}); len(qs) != 1 || qs[0].ID != a.ID {
			t.Errorf("new text not found: %v", qs)
		}
		if qs, _, _ := db.List(ctx, quoter.Filter{MinLen: len("Our life is frittered away by detail.\n    -- Henry David Thoreau, Walden")}, quoter.Page{}); len(qs) != 1 {
			t.Errorf("rendered length not updated: %d quotes fit", len(qs))
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _, _ := setup(t)
		_, err := db.Update(ctx, 999, quoter.Update{Text: ptr("x")})
		wantCode(t, err, quoter.ENOTFOUND)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		db, a, _ := setup(t)
		_, err := db.Update(ctx, a.ID, quoter.Update{Author: ptr("   ")})
		wantCode(t, err, quoter.EINVALID)
		if q, _ := db.Quote(ctx, a.ID); q.Author != a.Author {
			t.Errorf("a failed update changed the author to %q", q.Author)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		db, a, b := setup(t)
		_, err := db.Update(ctx, a.ID, quoter.Update{Text: ptr("brevity is the soul of WIT.")})
		wantCode(t, err, quoter.ECONFLICT)
		// Changing a quote's own text in case only is no conflict.
		if _, err := db.Update(ctx, b.ID, quoter.Update{Text: ptr("Brevity is the Soul of Wit.")}); err != nil {
			t.Errorf("re-casing own text: %v", err)
		}
	})
}

func TestDB_Delete(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db := seeded(t, 10) // ids 1 and 6 are tagged "five"
		if err := db.Delete(ctx, 1); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err := db.Quote(ctx, 1)
		wantCode(t, err, quoter.EGONE) // removed: its days of the past keep it
		if tags, _ := db.Tags(ctx); len(tags) != 1 || tags[0] != (quoter.Count{Name: "five", Count: 1}) {
			t.Errorf("Tags() after deleting a tagged quote = %v, want five: 1", tags)
		}
		checkDenseRanks(t, db)
		if _, n, _ := db.Search(ctx, "number", quoter.Page{}); n != 9 {
			t.Errorf("search finds %d quotes after a delete, want 9", n)
		}
		if st, _ := db.Stats(ctx); st.Quotes != 9 {
			t.Errorf("Stats.Quotes = %d, want 9", st.Quotes)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db := seeded(t, 3)
		wantCode(t, db.Delete(ctx, 42), quoter.ENOTFOUND)
	})
}

// checkDenseRanks asserts the invariant Today and Random rely on: the ranks
// of N quotes are exactly 0..N-1.
func checkDenseRanks(t *testing.T, db *sqlite.DB) {
	t.Helper()
	var n, distinct, lo, hi int
	err := raw(t, db.Path()).QueryRow(`SELECT count(*), count(DISTINCT rank), coalesce(min(rank), 0), coalesce(max(rank), -1) FROM quotes`).
		Scan(&n, &distinct, &lo, &hi)
	if err != nil {
		t.Fatal(err)
	}
	if distinct != n || n > 0 && (lo != 0 || hi != n-1) {
		t.Fatalf("ranks of %d quotes: %d distinct in [%d, %d], want 0..%d", n, distinct, lo, hi, n-1)
	}
}

// Property: whatever sequence of adds, imports and deletes, ranks stay dense.
func TestDB_RanksStayDense(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	db := newDB(t)
	var ids []int64
	next := 0
	for step := range 300 {
		switch op := r.IntN(10); {
		case op < 4 || len(ids) == 0:
			q := &quoter.Quote{Text: fmt.Sprintf("Quote %d.", next), Author: "A"}
			next++
			if err := db.Add(ctx, q); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, q.ID)
		case op < 5:
			batch := synthetic(next + 5)[next:]
			next += 5
			if _, err := db.Import(ctx, batch, nil); err != nil {
				t.Fatal(err)
			}
			all, _, _ := db.List(ctx, quoter.Filter{}, quoter.Page{Sort: quoter.SortID, Desc: true, Limit: 5})
			for _, q := range all {
				ids = append(ids, q.ID)
			}
		default:
			i := r.IntN(len(ids))
			if err := db.Delete(ctx, ids[i]); err != nil {
				t.Fatalf("step %d: Delete(%d): %v", step, ids[i], err)
			}
			ids = slices.Delete(ids, i, i+1)
		}
		if step%10 == 0 {
			checkDenseRanks(t, db)
		}
	}
	checkDenseRanks(t, db)
	if st, _ := db.Stats(ctx); st.Quotes != len(ids) {
		t.Errorf("Stats.Quotes = %d, want %d", st.Quotes, len(ids))
	}
}

func TestDB_List(t *testing.T) {
	clock := fixedNow
	db := newDB(t, sqlite.WithClock(func() time.Time { clock = clock.Add(time.Second); return clock }))
	for _, q := range []*quoter.Quote{
		{Text: "Bbb.", Author: "Zeno", Tags: []string{"x"}},
		{Text: "A much longer quote than the others.", Author: "aristotle", Lang: "el"},
		{Text: "Ccc.", Author: "Plato", Tags: []string{"x"}},
	} {
		if err := db.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	texts := func(qs []*quoter.Quote) string {
		var s []string
		for _, q := range qs {
			s = append(s, q.Text[:3])
		}
		return strings.Join(s, " ")
	}
	for _, tt := range []struct {
		name  string
		f     quoter.Filter
		p     quoter.Page
		want  string
		total int
	}{
		{"DefaultByID", quoter.Filter{}, quoter.Page{}, "Bbb A m Ccc", 3},
		{"AddedDesc", quoter.Filter{}, quoter.Page{Sort: quoter.SortAdded, Desc: true}, "Ccc A m Bbb", 3},
		{"AuthorIgnoresCase", quoter.Filter{}, quoter.Page{Sort: quoter.SortAuthor}, "A m Ccc Bbb", 3},
		{"LengthDesc", quoter.Filter{}, quoter.Page{Sort: quoter.SortLength, Desc: true}, "A m Ccc Bbb", 3},
		{"Paged", quoter.Filter{}, quoter.Page{Offset: 1, Limit: 1}, "A m", 3},
		{"PastTheEnd", quoter.Filter{}, quoter.Page{Offset: 10}, "", 3},
		{"TagFilter", quoter.Filter{Tag: "X"}, quoter.Page{}, "Bbb Ccc", 2},
		{"AuthorFilter", quoter.Filter{Author: "ARISTOTLE"}, quoter.Page{}, "A m", 1},
		{"LangFilter", quoter.Filter{Lang: "el"}, quoter.Page{}, "A m", 1},
		{"MaxLen", quoter.Filter{MaxLen: 20}, quoter.Page{}, "Bbb Ccc", 2},
		{"MinLen", quoter.Filter{MinLen: 20}, quoter.Page{}, "A m", 1},
		{"NoMatch", quoter.Filter{Tag: "nope"}, quoter.Page{}, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			qs, total, err := db.List(ctx, tt.f, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(qs); got != tt.want || total != tt.total {
				t.Errorf("List = %q (total %d), want %q (total %d)", got, total, tt.want, tt.total)
			}
		})
	}
	t.Run("LimitClamped", func(t *testing.T) {
		db := seeded(t, quoter.MaxLimit+10)
		qs, total, err := db.List(ctx, quoter.Filter{}, quoter.Page{Limit: 1000})
		if err != nil || len(qs) != quoter.MaxLimit || total != quoter.MaxLimit+10 {
			t.Errorf("List(limit 1000) = %d quotes, total %d, %v", len(qs), total, err)
		}
		if qs, _, _ := db.List(ctx, quoter.Filter{}, quoter.Page{}); len(qs) != quoter.DefaultLimit {
			t.Errorf("List(default) = %d quotes, want %d", len(qs), quoter.DefaultLimit)
		}
	})
	t.Run("RareTagSorted", func(t *testing.T) {
		db := seeded(t, 60)
		for _, text := range []string{"Solo, the longer one of the two.", "Solo."} {
			if err := db.Add(ctx, &quoter.Quote{Text: text, Author: "A", Tags: []string{"solo"}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, sort := range []string{quoter.SortLength, quoter.SortAdded, quoter.SortAuthor} {
			qs, total, err := db.List(ctx, quoter.Filter{Tag: "solo"}, quoter.Page{Sort: sort, Desc: true})
			if err != nil || total != 2 || len(qs) != 2 {
				t.Fatalf("List(tag solo, %s) = %d quotes, total %d, %v", sort, len(qs), total, err)
			}
			if sort == quoter.SortLength && qs[0].Text != "Solo, the longer one of the two." {
				t.Errorf("List(tag solo, length desc) starts with %q", qs[0].Text)
			}
		}
	})
	t.Run("ErrInvalidSort", func(t *testing.T) {
		_, _, err := db.List(ctx, quoter.Filter{}, quoter.Page{Sort: "text; DROP TABLE quotes"})
		wantCode(t, err, quoter.EINVALID)
	})
	t.Run("ErrNegative", func(t *testing.T) {
		_, _, err := db.List(ctx, quoter.Filter{}, quoter.Page{Offset: -1})
		wantCode(t, err, quoter.EINVALID)
		_, _, err = db.List(ctx, quoter.Filter{MaxLen: -5}, quoter.Page{})
		wantCode(t, err, quoter.EINVALID)
	})
}

func TestDB_AuthorsTagsStats(t *testing.T) {
	db := quotertest.NewLibrary(t)
	authors, total, err := db.Authors(ctx, quoter.Page{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(authors) != 3 || authors[0] != (quoter.Count{Name: "William Shakespeare", Count: 3}) {
		t.Errorf("Authors = %v, want William Shakespeare (3) first", authors)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if total != st.Authors || total < 30 {
		t.Errorf("Authors total = %d, Stats.Authors = %d", total, st.Authors)
	}
	all, _, _ := db.Authors(ctx, quoter.Page{Limit: quoter.MaxLimit})
	if len(all) != total {
		t.Errorf("all authors = %d, total %d", len(all), total)
	}
	tags, err := db.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != st.Tags || tags[0].Name != "poetry" {
		t.Errorf("Tags = %v (Stats.Tags %d), want poetry first", tags, st.Tags)
	}
	for i := 1; i < len(tags); i++ {
		if tags[i].Count > tags[i-1].Count {
			t.Errorf("tags not most used first: %v", tags)
		}
	}
	t.Run("OK_SeeChangesAtOnce", func(t *testing.T) {
		q := &quoter.Quote{Text: "A new voice.", Author: "Newcomer", Tags: []string{"brand-new"}}
		if err := db.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.Authors(ctx, quoter.Page{}); n != total+1 {
			t.Errorf("Authors total after an add = %d, want %d", n, total+1)
		}
		if tags, _ := db.Tags(ctx); !slices.Contains(tags, quoter.Count{Name: "brand-new", Count: 1}) {
			t.Errorf("Tags after an add = %v, want brand-new among them", tags)
		}
		if err := db.Delete(ctx, q.ID); err != nil {
			t.Fatal(err)
		}
		if tags, _ := db.Tags(ctx); len(tags) != st.Tags {
			t.Errorf("Tags after the delete = %d, want %d", len(tags), st.Tags)
		}
	})
	t.Run("OK_ResultsAreCopies", func(t *testing.T) {
		tags, _ := db.Tags(ctx)
		tags[0].Name = "changed"
		authors, _, _ := db.Authors(ctx, quoter.Page{Limit: 1})
		authors[0].Name = "changed"
		if tags, _ := db.Tags(ctx); tags[0].Name == "changed" {
			t.Error("Tags returned the cached slice itself")
		}
		if authors, _, _ := db.Authors(ctx, quoter.Page{Limit: 1}); authors[0].Name == "changed" {
			t.Error("Authors returned the cached slice itself")
		}
	})
	t.Run("ErrNegative", func(t *testing.T) {
		_, _, err := db.Authors(ctx, quoter.Page{Limit: -1})
		wantCode(t, err, quoter.EINVALID)
	})
}

func TestDB_Import(t *testing.T) {
	t.Run("OK_WithProgress", func(t *testing.T) {
		db := newDB(t)
		var calls []int
		res, err := db.Import(ctx, synthetic(2500), func(done int) { calls = append(calls, done) })
		if err != nil || res != (quoter.ImportResult{Added: 2500}) {
			t.Fatalf("Import = %+v, %v", res, err)
		}
		if fmt.Sprint(calls) != "[1000 2000 2500]" {
			t.Errorf("progress calls = %v, want [1000 2000 2500]", calls)
		}
		checkDenseRanks(t, db)
		if qs, _, _ := db.List(ctx, quoter.Filter{Tag: "five"}, quoter.Page{Limit: 1}); len(qs) != 1 || fmt.Sprint(qs[0].Tags) != "[five]" {
			t.Errorf("imported tags not stored: %v", qs)
		}
	})
	t.Run("OK_Idempotent", func(t *testing.T) {
		db := quotertest.NewLibrary(t)
		res, err := db.Import(ctx, quotertest.Sample(), nil)
		if err != nil || res != (quoter.ImportResult{Skipped: len(quotertest.Sample())}) {
			t.Errorf("second import = %+v, %v; want all skipped", res, err)
		}
	})
	t.Run("OK_DuplicatesWithinBatch", func(t *testing.T) {
		db := newDB(t)
		qs := []quoter.Quote{
			{Text: "Veni, vidi, vici.", Author: "Julius Caesar"},
			{Text: "veni,  VIDI, vici.", Author: "Caesar"},
			{Text: "Alea iacta est.", Author: "Julius Caesar"},
		}
		res, err := db.Import(ctx, qs, nil)
		if err != nil || res != (quoter.ImportResult{Added: 2, Skipped: 1}) {
			t.Errorf("Import = %+v, %v; want 2 added, 1 skipped", res, err)
		}
		checkDenseRanks(t, db)
	})
	t.Run("OK_KeepsAdded", func(t *testing.T) {
		db := newDB(t)
		when := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		db.Import(ctx, []quoter.Quote{{Text: "Old.", Author: "A", Added: when}}, nil)
		if q, _ := db.Quote(ctx, 1); !q.Added.Equal(when) {
			t.Errorf("Added = %v, want %v", q.Added, when)
		}
	})
	t.Run("ErrInvalidRecord_AddsNothing", func(t *testing.T) {
		db := seeded(t, 5)
		qs := synthetic(20)[10:]
		qs[7].Text = ""
		_, err := db.Import(ctx, qs, nil)
		wantCode(t, err, quoter.EINVALID)
		if want := "record 8: text is empty"; quoter.ErrorMessage(err) != want {
			t.Errorf("message = %q, want %q", quoter.ErrorMessage(err), want)
		}
		if st, _ := db.Stats(ctx); st.Quotes != 5 {
			t.Errorf("%d quotes after a failed import, want 5", st.Quotes)
		}
	})
	t.Run("ErrCancelled_RollsBack", func(t *testing.T) {
		db := seeded(t, 5)
		cctx, cancel := context.WithCancel(ctx)
		_, err := db.Import(cctx, synthetic(3000)[5:], func(int) { cancel() })
		if err == nil {
			t.Fatal("cancelled import succeeded")
		}
		if st, _ := db.Stats(ctx); st.Quotes != 5 {
			t.Errorf("%d quotes after a cancelled import, want 5", st.Quotes)
		}
	})
}

// Many goroutines reading and writing at once: no error, no race.
func TestDB_ConcurrentUse(t *testing.T) {
	db := quotertest.NewLibrary(t)
	day := quoter.Date{Year: 2026, Month: 7, Day: 1}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				var err error
				switch g % 3 {
				case 0:
					err = db.Add(ctx, &quoter.Quote{Text: fmt.Sprintf("Concurrent %d-%d.", g, i), Author: "Racer"})
				case 1:
					_, err = db.Random(ctx, quoter.Filter{MaxLen: 300})
				case 2:
					_, err = db.Today(ctx, day.AddDays(i), quoter.Filter{})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkDenseRanks(t, db)
}
