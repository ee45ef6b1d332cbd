package storetest

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

var day0 = quoter.Date{Year: 2026, Month: 11, Day: 23}

func mustToday(t *testing.T, db Store, d quoter.Date, f quoter.Filter) *quoter.Quote {
	t.Helper()
	q, err := db.Today(ctx, d, f)
	if err != nil {
		t.Fatalf("Today(%s, %+v): %v", d, f, err)
	}
	return q
}

// Over N consecutive days a library of N quotes shows every quote once.
func init() { register("Today_PermutationOverNDays", testToday_PermutationOverNDays) }

func testToday_PermutationOverNDays(t *testing.T, open Opener) {
	for _, n := range []int{1, 2, 37} {
		db := seeded(t, open, n)
		seen := map[int64]quoter.Date{}
		for i := range n {
			d := day0.AddDays(i)
			q := mustToday(t, db, d, quoter.Filter{})
			if prev, ok := seen[q.ID]; ok {
				t.Fatalf("n=%d: quote #%d shown on %s and again on %s", n, q.ID, prev, d)
			}
			seen[q.ID] = d
		}
		if len(seen) != n {
			t.Errorf("n=%d: %d distinct quotes over %d days", n, len(seen), n)
		}
	}
}

// A filter today's quote passes changes nothing: QOTD's "fits in 512
// bytes" shows exactly what `quotesd today` prints.
func init() {
	register("Today_FilterTodaysQuotePassesGivesSameQuote", testToday_FilterTodaysQuotePassesGivesSameQuote)
}

func testToday_FilterTodaysQuotePassesGivesSameQuote(t *testing.T, open Opener) {
	db := sample(t, open)
	for i := range 60 {
		d := day0.AddDays(i)
		q := mustToday(t, db, d, quoter.Filter{})
		for _, f := range []quoter.Filter{
			{MaxLen: q.Len()},
			{MinLen: q.Len(), MaxLen: 512 + q.Len()},
			{Author: q.Author},
		} {
			if got := mustToday(t, db, d, f); got.ID != q.ID {
				t.Errorf("Today(%s, %+v) = #%d, want today's #%d", d, f, got.ID, q.ID)
			}
		}
	}
}

// When today's quote fails the filter, the answer is the next day's quote
// that passes.
func init() {
	register("Today_FilterTakesFirstLaterDayThatPasses", testToday_FilterTakesFirstLaterDayThatPasses)
}

func testToday_FilterTakesFirstLaterDayThatPasses(t *testing.T, open Opener) {
	db := sample(t, open)
	f := quoter.Filter{MaxLen: 80}
	checked := 0
	for i := range 60 {
		d := day0.AddDays(i)
		if f.Match(mustToday(t, db, d, quoter.Filter{})) {
			continue
		}
		var want *quoter.Quote
		for j := 1; want == nil; j++ {
			if q := mustToday(t, db, d.AddDays(j), quoter.Filter{}); f.Match(q) {
				want = q
			}
		}
		if got := mustToday(t, db, d, f); got.ID != want.ID {
			t.Errorf("Today(%s, MaxLen 80) = #%d, want #%d", d, got.ID, want.ID)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no day's quote was too long: the test checked nothing")
	}
}

func init() { register("Today_RareFilter", testToday_RareFilter) }

func testToday_RareFilter(t *testing.T, open Opener) {
	db := sample(t, open)
	t.Run("OK_OnlyMatchEveryDay", func(t *testing.T) {
		for i := range 10 {
			q := mustToday(t, db, day0.AddDays(i), quoter.Filter{Author: "test fixture"})
			if q.Text != quotertest.Script {
				t.Fatalf("Today(author Test Fixture) = %q", q.Text)
			}
		}
	})
	t.Run("OK_FewMatchesAllAppear", func(t *testing.T) {
		// Far more days than the walk looks ahead: the fallback still
		// spreads the days over every matching quote.
		seen := map[int64]bool{}
		for i := range 400 {
			seen[mustToday(t, db, day0.AddDays(i), quoter.Filter{Lang: "de"}).ID] = true
		}
		if len(seen) != 2 {
			t.Errorf("German quotes of the day over 400 days: %d distinct, want both", len(seen))
		}
	})
	t.Run("OK_FallbackBeyondTheWalk", func(t *testing.T) {
		// One match among 2000: the walk over the next days rarely finds
		// it, and the fallback must.
		big := seeded(t, open, 2000)
		rare := &quoter.Quote{Text: "Rare.", Author: "Rare Author"}
		if err := big.Add(ctx, rare); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if q := mustToday(t, big, day0.AddDays(i), quoter.Filter{Author: "Rare Author"}); q.ID != rare.ID {
				t.Fatalf("Today(Rare Author) = %+v", q)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.Today(ctx, day0, quoter.Filter{Tag: "no-such-tag"})
		wantCode(t, err, quoter.ENOTFOUND)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := db.Today(ctx, day0, quoter.Filter{MinLen: -1})
		wantCode(t, err, quoter.EINVALID)
	})
}

func init() { register("Today_ErrEmptyLibrary", testToday_ErrEmptyLibrary) }

func testToday_ErrEmptyLibrary(t *testing.T, open Opener) {
	db := newDB(t, open)
	_, err := db.Today(ctx, day0, quoter.Filter{})
	wantCode(t, err, quoter.ENOTFOUND)
	if !strings.Contains(quoter.ErrorMessage(err), "empty") {
		t.Errorf("message = %q, want it to say the library is empty", quoter.ErrorMessage(err))
	}
	_, err = db.Random(ctx, quoter.Filter{})
	wantCode(t, err, quoter.ENOTFOUND)
}

// The caller may change what Today returns without changing the memo.
func init() { register("Today_ResultIsACopy", testToday_ResultIsACopy) }

func testToday_ResultIsACopy(t *testing.T, open Opener) {
	db := sample(t, open)
	q := mustToday(t, db, day0, quoter.Filter{})
	text := q.Text
	q.Text = "changed"
	if len(q.Tags) > 0 {
		q.Tags[0] = "changed"
	}
	if again := mustToday(t, db, day0, quoter.Filter{}); again.Text != text || len(again.Tags) > 0 && again.Tags[0] == "changed" {
		t.Errorf("Today's memo was changed through a returned quote: %+v", again)
	}
}

// chiSquare returns the chi-square statistic of counts against a uniform
// expectation over k buckets.
func chiSquare(counts map[int64]int, k, draws int) float64 {
	want := float64(draws) / float64(k)
	var x float64
	for _, c := range counts {
		x += (float64(c) - want) * (float64(c) - want) / want
	}
	return x + float64(k-len(counts))*want // buckets never drawn
}

// Random is uniform on each of its three paths. The bound is far in the
// tail (about p < 1e-6 for these degrees of freedom), so the test does not
// flake, yet it fails for any visible bias such as a missed or doubled quote.
func init() { register("Random_Uniform", testRandom_Uniform) }

func testRandom_Uniform(t *testing.T, open Opener) {
	db := seeded(t, open, 30) // 20 in English, 6 tagged "five"
	for _, tt := range []struct {
		name    string
		f       quoter.Filter
		matches int
	}{
		{"ZeroFilter", quoter.Filter{}, 30},
		{"MostMatch_RejectionSampling", quoter.Filter{Lang: "en"}, 20},
		{"FewMatch_IDList", quoter.Filter{Tag: "five"}, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			draws := 300 * tt.matches
			counts := map[int64]int{}
			for range draws {
				q, err := db.Random(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				if !tt.f.Match(q) {
					t.Fatalf("Random(%+v) returned %+v, which does not pass", tt.f, q)
				}
				counts[q.ID]++
			}
			if len(counts) != tt.matches {
				t.Errorf("%d distinct quotes drawn, want all %d", len(counts), tt.matches)
			}
			df := float64(tt.matches - 1)
			if x := chiSquare(counts, tt.matches, draws); x > df+10*math.Sqrt(2*df) {
				t.Errorf("chi-square = %.1f over %d quotes: not uniform (counts %v)", x, tt.matches, counts)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.Random(ctx, quoter.Filter{Author: "Nobody"})
		wantCode(t, err, quoter.ENOTFOUND)
		_, err = db.Random(ctx, quoter.Filter{MinLen: 100, MaxLen: 10})
		wantCode(t, err, quoter.ENOTFOUND)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := db.Random(ctx, quoter.Filter{MaxLen: -1})
		wantCode(t, err, quoter.EINVALID)
	})
}

// Changes through this DB show at once, even in cached counts.
func init() { register("Random_SeesOwnChangesAtOnce", testRandom_SeesOwnChangesAtOnce) }

func testRandom_SeesOwnChangesAtOnce(t *testing.T, open Opener) {
	db := seeded(t, open, 10)
	if _, err := db.Random(ctx, quoter.Filter{Author: "Newcomer"}); quoter.ErrorCode(err) != quoter.ENOTFOUND {
		t.Fatalf("Random(Newcomer) before adding = %v", err)
	}
	q := &quoter.Quote{Text: "Fresh.", Author: "Newcomer"}
	if err := db.Add(ctx, q); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Random(ctx, quoter.Filter{Author: "Newcomer"}); err != nil || got.ID != q.ID {
		t.Errorf("Random(Newcomer) after adding = %v, %v", got, err)
	}
	if err := db.Delete(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	_, err := db.Random(ctx, quoter.Filter{Author: "Newcomer"})
	wantCode(t, err, quoter.ENOTFOUND)
}

func init() { register("Today_DeterministicAcrossHandles", testToday_DeterministicAcrossHandles) }

// Processes (replicas) that open the same library agree on every day, past
// days included.
func testToday_DeterministicAcrossHandles(t *testing.T, open Opener) {
	db := open(t, 5, time.Now)
	if _, err := db.Import(ctx, quotertest.Sample(), nil); err != nil {
		t.Fatal(err)
	}
	other := db.Reopen(t)
	for _, d := range []quoter.Date{{Year: 1999, Month: 12, Day: 31}, day0, day0.AddDays(1), day0.AddDays(400)} {
		for _, f := range []quoter.Filter{{}, {Tag: "wit"}, {Lang: "fr"}, {MaxLen: 100}} {
			if got, want := mustToday(t, other, d, f).ID, mustToday(t, db, d, f).ID; got != want {
				t.Errorf("Today(%s, %+v) = #%d through another handle, want #%d", d, f, got, want)
			}
		}
	}
}

func init() { register("DB_SeesChangesByAnotherHandle", testDB_SeesChangesByAnotherHandle) }

// A running server sees what another process or replica changed (`quotesd
// import`, an admin's edit on another replica) within a second, without
// restarting, even in what it keeps in memory.
func testDB_SeesChangesByAnotherHandle(t *testing.T, open Opener) {
	server := seeded(t, open, 5)
	if st, _ := server.Stats(ctx); st.Quotes != 5 {
		t.Fatalf("Stats.Quotes = %d, want 5", st.Quotes)
	}
	server.Random(ctx, quoter.Filter{Author: "Importer"}) // cache a count of 0
	today := mustToday(t, server, day0, quoter.Filter{})  // and a quote of the day

	importer := server.Reopen(t)
	if _, err := importer.Import(ctx, []quoter.Quote{{Text: "New one.", Author: "Importer"}}, nil); err != nil {
		t.Fatal(err)
	}
	text := today.Text + " (corrected)"
	if _, err := importer.Update(ctx, today.ID, quoter.Update{Text: &text}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		st, err1 := server.Stats(ctx)
		q, err2 := server.Random(ctx, quoter.Filter{Author: "Importer"})
		d, err3 := server.Today(ctx, day0, quoter.Filter{})
		if err1 == nil && st.Quotes == 6 && err2 == nil && q.Text == "New one." && err3 == nil && d.Text == text {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 1 s the server still sees %+v (%v), %v (%v) and %v (%v)", st, err1, q, err2, d, err3)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
