// Package quoter is the core of quotesd: what a quote is, how the quote of
// the day and a random quote are chosen, and the Quoter interface that every
// frontend talks to.
//
// Frontends (RFC 865, HTTP, SMTP, IRC) translate their protocol into calls on
// Quoter and back; they never reach into storage. This package therefore holds
// no networking code at all (a test enforces it), so that the rules about
// quotes live in exactly one place.
package quoter

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Quote is one entry of the library.
type Quote struct {
	ID     int64     `json:"id"`
	Text   string    `json:"text"`
	Author string    `json:"author"`
	Source string    `json:"source,omitempty"` // the work it comes from, e.g. "Walden"
	Year   int       `json:"year,omitempty"`   // year of the work; 0 when unknown, negative for BCE
	Tags   []string  `json:"tags"`
	Lang   string    `json:"lang"`           // BCP 47 language tag, e.g. "en"
	Added  time.Time `json:"added,omitzero"` // when it entered this library

	// Modified is when the quote was last edited; zero when never. A
	// correction shows on every day the quote was the quote of the day,
	// so caches and feeds use it to tell that a past day's content changed.
	Modified time.Time `json:"modified,omitzero"`
	// Removed marks a quote deleted from the library. Only Today returns
	// such quotes, for the days they were the quote of the day: the past
	// keeps its quotes (see Quoter.Today).
	Removed bool `json:"removed,omitempty"`

	// Collection is the collection the quote belongs to (see Collection);
	// empty becomes DefaultCollection when the quote is stored.
	Collection string `json:"collection"`
	// AddedBy is who added the quote and how; EditedBy who last changed
	// it (zero when never). Their private parts are for curators only (see
	// Provenance.Public).
	AddedBy  Provenance `json:"added_by,omitzero"`
	EditedBy Provenance `json:"edited_by,omitzero"`
}

// Changed is when the quote's content last changed: Modified, or Added for
// a quote never edited.
func (q *Quote) Changed() time.Time {
	if q.Modified.After(q.Added) {
		return q.Modified
	}
	return q.Added
}

// Clone returns a copy of q that shares nothing it may change with q: a
// store hands out copies of the quotes it keeps in memory, so a caller
// can change what it gets.
func (q *Quote) Clone() *Quote {
	c := *q
	c.Tags = slices.Clone(q.Tags)
	return &c
}

// Attribution is the line credited under a quote: "Author, Source (Year)",
// with the parts that are unknown left out.
func (q *Quote) Attribution() string {
	s := q.Author
	if q.Source != "" {
		s += ", " + q.Source
	}
	if q.Year != 0 {
		s += " (" + formatYear(q.Year) + ")"
	}
	return s
}

// Render is the canonical plain-text form of a quote: the text, then a line
// "    -- Attribution", as fortune(6) prints it. Length filters measure this
// form in bytes, so a frontend that needs a quote to fit its protocol (512
// bytes for RFC 865, one IRC line) can ask for one that does.
func (q *Quote) Render() string {
	return q.Text + "\n    -- " + q.Attribution()
}

// Len is the length in bytes of Render().
func (q *Quote) Len() int {
	return len(q.Render())
}

// Filter narrows the quotes a selection may return. The zero Filter matches
// every quote.
type Filter struct {
	MinLen int    // minimum byte length of Render(); 0 means no bound
	MaxLen int    // maximum byte length of Render(); 0 means no bound
	Tag    string // exact tag, case-insensitive
	Author string // exact author name, case-insensitive
	Lang   string // exact language tag, case-insensitive

	// Collection names the collection to draw from, or several joined by
	// commas ("club-quotes,classics": a channel's own quotes and the
	// public ones it is given). Empty means every public collection: a
	// private collection is only ever served where a filter names it.
	Collection string
}

// IsZero reports whether f matches every quote.
func (f Filter) IsZero() bool { return f == Filter{} }

// Match reports whether q passes f. A Collection set is checked by name
// only: whether a quote of an empty Collection filter is public is the
// store's to know.
func (f Filter) Match(q *Quote) bool {
	if f.Collection != "" && !inSet(q.Collection, f.Collection) {
		return false
	}
	n := q.Len()
	if f.MinLen > 0 && n < f.MinLen || f.MaxLen > 0 && n > f.MaxLen {
		return false
	}
	if f.Author != "" && !equalFold(f.Author, q.Author) {
		return false
	}
	if f.Lang != "" && !equalFold(f.Lang, q.Lang) {
		return false
	}
	if f.Tag != "" {
		for _, t := range q.Tags {
			if equalFold(t, f.Tag) {
				return true
			}
		}
		return false
	}
	return true
}

// Page selects a window of a listing.
type Page struct {
	Offset int    // quotes to skip
	Limit  int    // at most this many; 0 means DefaultLimit
	Sort   string // one of the Sort* constants; "" means SortID
	Desc   bool   // descending order
}

// Sort keys accepted by Page.Sort.
const (
	SortID     = "id"
	SortAdded  = "added"
	SortAuthor = "author"
	SortLength = "length"
)

// Limits on listings and on quote contents.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxTextLen   = 4096 // bytes of Quote.Text
	MaxAuthorLen = 200
	MaxSourceLen = 300
	MaxTags      = 16
	MaxTagLen    = 32
)

// Count is a name (author or tag) with the number of quotes that carry it.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Stats summarises a library.
type Stats struct {
	Quotes  int `json:"quotes"`
	Authors int `json:"authors"`
	Tags    int `json:"tags"`
}

// Update changes some fields of a quote; nil fields are left as they are.
// A full replacement (HTTP PUT) sets every field.
type Update struct {
	Text   *string
	Author *string
	Source *string
	Year   *int
	Tags   *[]string
	Lang   *string

	// Collection moves the quote; a collection that does not exist is
	// created public, as by Add.
	Collection *string
	// By is who makes the change, recorded as the quote's EditedBy (a
	// zero By records that who is not known).
	By Provenance
}

// Pinned is a quote pinned to a day.
type Pinned struct {
	Day     Date   `json:"date"`
	QuoteID int64  `json:"id"`
	Quote   *Quote `json:"quote,omitempty"`
}

// ImportResult says what an import did.
type ImportResult struct {
	Added   int `json:"added"`   // new quotes stored
	Skipped int `json:"skipped"` // duplicates of stored quotes or of earlier records
}

// Quoter is the library as the frontends see it. Every method is safe for
// concurrent use. Errors are *Error values carrying one of the codes
// ENOTFOUND, EINVALID, ECONFLICT or EINTERNAL (see ErrorCode); frontends map
// those codes to their protocol and never inspect messages.
type Quoter interface {
	// Today returns the quote of the day for the calendar date day. The
	// days before a collection turned private keep its quotes in the
	// library's, tags' and languages' cycles (the past is fixed). Its
	// contract, which every store keeps (docs/ARCHITECTURE.md, "Choosing
	// the quote of the day", says how):
	//
	//   - The past is fixed. Once day has begun anywhere on Earth (day <=
	//     Frontier(now)), its quote never changes, whatever is added,
	//     edited, deleted or imported afterwards. An edit of that quote
	//     shows on its days; a deleted quote is still returned for its
	//     days, with Removed set; a purged one gives EGONE.
	//   - No repeats. The days run through the library in cycles: within
	//     a cycle every quote is shown once before any is shown again.
	//     Quotes added mid-cycle join the rest of the current cycle, and
	//     no addition or deletion brings back a quote shown within the
	//     last N days (N: the library's size), pinned days aside.
	//   - Deterministic without writes: every process reading the same
	//     library gives the same quote for the same day; answering never
	//     writes. Changes record what history needs in their own
	//     transaction.
	//   - Pins (see Pin) override the cycle on their day; the cycle
	//     pauses that day, and skips the pinned quote's own turn near it.
	//
	// A filter with only Tag, or only Lang, selects that tag's or that
	// language's own cycle, with the same guarantees; Tag wins when both
	// are set. A filter naming a Collection selects that collection's own
	// cycle (a set's first collection's), and any Tag or Lang beside it is
	// walked as below. Any other field of f (and Lang beside Tag) is applied by
	// walking forward from day in that cycle to the first quote that
	// passes: the same answer in every process, stable while the library
	// is unchanged (QOTD's "fits in 512 bytes" is such a walk).
	// Errors: ENOTFOUND for an empty library, an unknown tag or language
	// (naming it) or when no quote passes f; EGONE when the day's quote was
	// purged.
	Today(ctx context.Context, day Date, f Filter) (*Quote, error)

	// Random returns a quote chosen uniformly among those that pass f.
	// Errors: ENOTFOUND when none does.
	Random(ctx context.Context, f Filter) (*Quote, error)

	// Quote returns the quote with the given id, whatever its collection:
	// a frontend that serves the public must not show a quote of a
	// private collection it was not configured to serve (its Collection
	// is in Curator.Collections, with its privacy).
	// Errors: ENOTFOUND; EGONE when it was removed from the library.
	Quote(ctx context.Context, id int64) (*Quote, error)

	// Search returns quotes whose text, author or source match the words of
	// query (all of them, as full words or prefixes written "word*"), best
	// matches first, and the total number of matches. Only public
	// collections are searched (see SearchIn).
	// Errors: EINVALID for an empty or malformed query.
	Search(ctx context.Context, query string, p Page) ([]*Quote, int, error)

	// SearchIn is Search among the quotes that pass f: in the collections
	// f names (private ones too; the public ones when it names none, as
	// Search), with f's other fields applied as List applies them.
	// Errors: those of Search; ENOTFOUND naming an unknown collection.
	SearchIn(ctx context.Context, query string, f Filter, p Page) ([]*Quote, int, error)

	// List returns the quotes that pass f in the order p asks, and the total
	// number that pass f. Errors: EINVALID for an unknown sort key or a
	// negative offset or limit; a limit above MaxLimit is clamped.
	List(ctx context.Context, f Filter, p Page) ([]*Quote, int, error)

	// Authors returns authors with their quote counts, most quoted first
	// (then by name), and the total number of authors.
	Authors(ctx context.Context, p Page) ([]Count, int, error)

	// Author returns the author whose slug (see Slug) is slug, with the
	// notes kept for it and the number of its public quotes.
	// Errors: ENOTFOUND when no public quote carries a name of that slug.
	Author(ctx context.Context, slug string) (*Author, error)

	// AuthorList returns the authors of public quotes with their notes
	// and counts, in the order p asks (Sort "" or SortCount: most quoted
	// first; SortName: by name), and the total number of authors.
	// Errors: EINVALID for an unknown sort key or a negative offset or
	// limit; a limit above MaxLimit is clamped.
	AuthorList(ctx context.Context, p Page) ([]Author, int, error)

	// Tags returns every tag with its quote count, most used first.
	Tags(ctx context.Context) ([]Count, error)

	// Stats counts quotes, authors and tags.
	Stats(ctx context.Context) (Stats, error)

	// Add validates and stores q, setting q.ID and q.Added, with
	// q.AddedBy as its provenance, in q.Collection (DefaultCollection when
	// empty; a collection the library does not have is created, public).
	// Errors: EINVALID (see Quote.Validate); ECONFLICT when a quote with
	// the same text (ignoring case and white space) is already stored.
	Add(ctx context.Context, q *Quote) error

	// Update applies u to the quote with the given id and returns the result.
	// Errors: ENOTFOUND, EINVALID, ECONFLICT as for Add.
	Update(ctx context.Context, id int64, u Update) (*Quote, error)

	// Delete removes the quote with the given id from the library: it is
	// no longer listed, searched, drawn or scheduled, but the days it was
	// the quote of the day keep it (Today returns it with Removed set),
	// and pins of it on days to come are dropped. Errors: ENOTFOUND.
	Delete(ctx context.Context, id int64) error

	// Purge erases a quote for good, deleting it first if it is still in
	// the library: its text is gone, and the days it was the quote of the
	// day answer EGONE. Errors: ENOTFOUND when there never was such a
	// quote, or it is purged already.
	Purge(ctx context.Context, id int64) error

	// Pin makes the quote with the given id the quote of the day on day.
	// Errors: EINVALID when day has begun somewhere (the past is fixed);
	// ENOTFOUND when there is no such quote in the library. Pinning a day
	// pinned already replaces its pin.
	Pin(ctx context.Context, day Date, id int64) error

	// Unpin removes the pin of day. Errors: EINVALID when day has begun
	// somewhere; ENOTFOUND when day has no pin.
	Unpin(ctx context.Context, day Date) error

	// Pins lists the pins of day from onwards, soonest first.
	Pins(ctx context.Context, from Date) ([]Pinned, error)

	// Import stores quotes in one transaction: either all new ones are added
	// or, on error, none. Duplicates (of stored quotes or within qs) are
	// skipped, so importing the same data twice adds nothing the second time.
	// progress, when not nil, is called now and then with the number of
	// records handled so far. Errors: EINVALID naming the record (by index
	// from 1) that failed validation.
	Import(ctx context.Context, qs []Quote, progress func(done int)) (ImportResult, error)
}

// inSet reports whether name is one of the comma-separated names of set.
func inSet(name, set string) bool {
	for s := range strings.SplitSeq(set, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}
