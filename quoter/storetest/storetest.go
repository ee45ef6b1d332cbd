// Package storetest is the conformance suite of quote stores: one set of
// tests of the quoter.Library contract (the schedule contract included) that
// every store runs against itself, SQLite and PostgreSQL alike, so that the
// stores cannot drift apart. A store's own tests call Run with an Opener;
// what only one store has (file handling, migrations of its schema) stays in
// that store's tests.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// Store is what the suite tests: the whole library (quoter.Library: the
// quotes and their curation) and a way to close it.
type Store interface {
	quoter.Library
	Close() error
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
