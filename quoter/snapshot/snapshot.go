// Package snapshot is a whole quote library as data: its quotes with their
// ids and ranks, the quotes removed from it, its pins, the recorded
// schedule (cycles, slots, days of ended epochs) and its curation
// (collections, submissions, curators' password hashes, notes on authors). A store exports one and
// restores one into an empty library, which is how `quotesd migrate` moves
// a library between stores exactly: every id, pin and past day's quote is
// the same on the other side.
package snapshot

import (
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// Library is the content of one library.
type Library struct {
	Seed        uint64
	Quotes      []Quote // in the library, by id
	Removed     []Removed
	Cycles      []Cycle // by key
	Pins        []Pin   // by day
	Collections []quoter.Collection
	Submissions []quoter.Submission // by id
	Curators    []Curator
	Authors     []quoter.Author // notes on authors (Slug, Bio, Link), by slug
}

// Curator is a curator's password hash (a PHC string) and when it was set.
type Curator struct {
	Name    string
	Hash    string
	Changed time.Time
}

// Quote is a quote of the library and its rank (0..N-1, dense), which
// random draws and a fresh library cycle's origin order use.
type Quote struct {
	quoter.Quote
	Rank int64
}

// Removed is a quote deleted from the library, kept for the days it was
// the quote of the day; a purged one has only its id, lang and times.
type Removed struct {
	quoter.Quote
	RemovedAt time.Time
	Purged    bool
}

// Cycle is one recorded cycle with its slots and the days of its ended
// epochs, as the stores keep it (see quoter/sqlite/migration/004_schedule.sql).
type Cycle struct {
	Key        string
	Slots      int
	OriginN    int
	OriginEnd  *int64
	EpochStart int64
	EpochPos   int
	Slot       []Slot // by slot
	Days       []Day  // by day
}

// Slot is the quote in one slot of a cycle.
type Slot struct {
	Slot   int
	Quote  int64
	Origin *int
	Live   bool
}

// Day is the quote of a day of an ended epoch.
type Day struct {
	Day   int64
	Quote int64
}

// Pin is a quote pinned to a day.
type Pin struct {
	Day   int64
	Quote int64
}
