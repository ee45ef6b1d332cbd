// Package storetest is the conformance suite of quote stores: one set of
// tests of the quoter.Library contract (the schedule contract included) that
// every store runs against itself, SQLite and PostgreSQL alike, so that the
// stores cannot drift apart. A store's own tests call Run with an Opener;
// what only one store has (file handling, migrations of its schema) stays in
// that store's tests.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// Store is what the suite tests: the whole library (quoter.Library: the
// quotes and their curation) and a way to close it, with two hooks that a
// store's test adapter (not the store itself) provides.
type Store interface {
	quoter.Library
	Close() error

	// Ranks looks inside the store at the invariant Today and Random
	// rely on: the number of quotes, of distinct ranks among them, and
	// the lowest and highest rank (0 and -1 for an empty library).
	Ranks(ctx context.Context) (n, distinct, lo, hi int, err error)
	// Reopen opens another handle on the same library, as another
	// process (or replica) would, with the same clock; it is closed when
	// the test ends.
	Reopen(tb testing.TB) Store
}

// Opener returns a new, empty library for one test, with the given shuffle
// seed and clock; it arranges for the library to be closed and its storage
// removed when the test ends.
type Opener func(tb testing.TB, seed uint64, now func() time.Time) Store

// Run runs the whole suite against the store open makes.
func Run(t *testing.T, open Opener) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

type test struct {
	name string
	fn   func(t *testing.T, open Opener)
}

// tests is the suite, in the order Run runs it. Each file of the suite adds
// its tests with register.
var tests []test

func register(name string, fn func(t *testing.T, open Opener)) {
	tests = append(tests, test{name, fn})
}

var ctx = context.Background()

// fixedNow is the clock of the tests of writes.
var fixedNow = time.Date(2026, 5, 4, 3, 2, 1, 987654321, time.UTC)

// newDB returns an empty library with a fixed seed and the real clock.
func newDB(tb testing.TB, open Opener) Store {
	tb.Helper()
	return open(tb, 42, time.Now)
}

// synthetic returns n distinct quotes; every third is in French and every
// fifth carries the tag "five".
func synthetic(n int) []quoter.Quote {
	qs := make([]quoter.Quote, n)
	for i := range qs {
		qs[i] = quoter.Quote{
			Text:   fmt.Sprintf("Synthetic quote number %d says something.", i),
			Author: fmt.Sprintf("Author %d", i%7),
			Lang:   "en",
		}
		if i%3 == 0 {
			qs[i].Lang = "fr"
		}
		if i%5 == 0 {
			qs[i].Tags = []string{"five"}
		}
	}
	return qs
}

// seeded returns a library of synthetic(n).
func seeded(tb testing.TB, open Opener, n int) Store {
	tb.Helper()
	db := newDB(tb, open)
	if _, err := db.Import(ctx, synthetic(n), nil); err != nil {
		tb.Fatalf("Import: %v", err)
	}
	return db
}

// sample returns a library of quotertest.Sample() with quotertest's seed,
// as quotertest.NewLibrary makes for the frontends' tests.
func sample(tb testing.TB, open Opener) Store {
	tb.Helper()
	db := open(tb, quotertest.Seed, time.Now)
	qs := quotertest.Sample()
	res, err := db.Import(ctx, qs, nil)
	if err != nil || res.Added != len(qs) {
		tb.Fatalf("seed library: %+v, %v", res, err)
	}
	return db
}

// checkDenseRanks asserts the invariant Today and Random rely on: the ranks
// of N quotes are exactly 0..N-1.
func checkDenseRanks(t *testing.T, db Store) {
	t.Helper()
	n, distinct, lo, hi, err := db.Ranks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if distinct != n || n > 0 && (lo != 0 || hi != n-1) {
		t.Fatalf("ranks of %d quotes: %d distinct in [%d, %d], want 0..%d", n, distinct, lo, hi, n-1)
	}
}

// fixed is the clock of tests that do not move time.
func fixed() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }

// wantCode fails the test unless err carries the quoter error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := quoter.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func init() {
	register("AddThenQuote", func(t *testing.T, open Opener) {
		lib := open(t, 42, fixed)
		q := &quoter.Quote{Text: "A quote the suite adds.", Author: "The Suite"}
		if err := lib.Add(ctx, q); err != nil {
			t.Fatalf("Add: %v", err)
		}
		got, err := lib.Quote(ctx, q.ID)
		if err != nil {
			t.Fatalf("Quote(%d): %v", q.ID, err)
		}
		if got.Text != q.Text || got.Author != q.Author || !got.Added.Equal(fixed()) {
			t.Errorf("Quote(%d) = %+v, want the added quote stamped %v", q.ID, got, fixed())
		}
		_, err = lib.Quote(ctx, q.ID+1)
		wantCode(t, err, quoter.ENOTFOUND)
	})
}
