package sqlite_test

import (
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// simTags and simLangs are what the simulated library's quotes carry.
var (
	simTags  = []string{"love", "war", "time", "wit"}
	simLangs = []string{"en", "fr"}
)

// simQuote makes the i-th synthetic quote of a simulation.
func simQuote(r *rand.Rand, i int) quoter.Quote {
	q := quoter.Quote{
		Text:   fmt.Sprintf("Simulated quote number %d, %x.", i, r.Uint32()),
		Author: fmt.Sprintf("Author %d", r.IntN(20)),
		Lang:   simLangs[r.IntN(len(simLangs))],
	}
	for _, t := range simTags {
		if r.IntN(3) == 0 {
			q.Tags = append(q.Tags, t)
		}
	}
	return q
}

// simCycles are the filters whose daily cycles the simulation checks.
func simCycles() []quoter.Filter {
	fs := []quoter.Filter{{}}
	for _, t := range simTags {
		fs = append(fs, quoter.Filter{Tag: t})
	}
	for _, l := range simLangs {
		fs = append(fs, quoter.Filter{Lang: l})
	}
	return fs
}

// simCollections are the collections of the simulated library: classics,
// always public, and club, which the simulation makes private and public
// again.
var simCollections = []string{quoter.DefaultCollection, "club"}

// propCycles are simCycles and the collections' cycles.
func propCycles() []quoter.Filter {
	fs := simCycles()
	for _, c := range simCollections {
		fs = append(fs, quoter.Filter{Collection: c})
	}
	return fs
}

// simQuoteIn is simQuote in a collection drawn from simCollections.
func simQuoteIn(r *rand.Rand, i int) quoter.Quote {
	q := simQuote(r, i)
	q.Collection = simCollections[r.IntN(len(simCollections))]
	return q
}

// The contract of Quoter.Today, checked over random changes spread over
// simulated years, in the library's cycle and in each tag's, language's and
// collection's (rule 5), through the curation's changes too: quotes moved
// between collections, a collection made private and public again (its
// quotes leave and rejoin the cycles of public quotes), submissions
// approved. After every step:
//   - no day that has begun anywhere shows another quote than it did (rule 1);
//   - the change brought no quote back sooner than it was due, but by one
//     day for each quote it took out of the cycle (rule 2: adding never
//     brings a quote back sooner; a deletion shortens the wait of the
//     quotes after it by the day it freed);
//   - a quote just added is shown within the cycle's size in days (it
//     joins the rest of the current cycle).
//   - in the schedule the change leaves, any N days in a row show the N
//     quotes of the cycle, each once (rule 2: within a cycle every quote is
//     shown once before any is shown again).
func TestSchedule_PropertiesUnderRandomChanges(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			clk := quotertest.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
			db := mustOpen(t, tempPath(t), sqlite.Create(), sqlite.WithSeed(seed), sqlite.WithClock(clk.Now))
			next := 0
			var batch []quoter.Quote
			for range 30 {
				batch = append(batch, simQuoteIn(r, next))
				next++
			}
			if _, err := db.Import(ctx, batch, nil); err != nil {
				t.Fatal(err)
			}
			h := &history{shown: map[quoter.Filter]map[int64]int64{}, cycles: propCycles()}
			clubPrivate := false
			// inCycle reports whether q is in the cycle of f.
			inCycle := func(f quoter.Filter, q *quoter.Quote) bool {
				if f.Collection != "" {
					return q.Collection == f.Collection
				}
				return !(clubPrivate && q.Collection == "club") && f.Match(q)
			}
			first := quoter.Frontier(clk.Now()).DayNumber() - 10
			steps := 100
			if testing.Short() {
				steps = 40
			}
			for step := range steps {
				clk.Advance(time.Duration(r.IntN(72)) * time.Hour)
				f := quoter.Frontier(clk.Now()).DayNumber()
				h.record(t, db, first, f, step)
				before := h.upcoming(t, db, f)
				var added []int64
				pinnedBefore := h.pinsAround(t, db, f)
				removed := map[quoter.Filter]int64{}
				note := func(id int64) { // a quote leaves cycles
					q, err := db.Quote(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range h.cycles {
						if inCycle(f, q) {
							removed[f]++
						}
					}
				}
				switch op := r.IntN(14); {
				case op < 3: // add
					q := simQuoteIn(r, next)
					next++
					if err := db.Add(ctx, &q); err != nil {
						t.Fatal(err)
					}
					if inCycle(quoter.Filter{}, &q) {
						added = append(added, q.ID)
					}
				case op < 4: // import a batch
					batch = batch[:0]
					for range 1 + r.IntN(8) {
						batch = append(batch, simQuoteIn(r, next))
						next++
					}
					if _, err := db.Import(ctx, batch, nil); err != nil {
						t.Fatal(err)
					}
				case op < 6: // delete
					if id := randomID(t, db, r); libSize(t, db) > 20 {
						note(id)
						if err := db.Delete(ctx, id); err != nil {
							t.Fatal(err)
						}
					}
				case op < 7: // correct a text
					id := randomID(t, db, r)
					text := fmt.Sprintf("Corrected quote %d, %x.", id, r.Uint32())
					if _, err := db.Update(ctx, id, quoter.Update{Text: &text}); err != nil {
						t.Fatal(err)
					}
				case op < 8: // retag
					tags := []string{simTags[r.IntN(len(simTags))]}
					id := randomID(t, db, r)
					note(id)
					if _, err := db.Update(ctx, id, quoter.Update{Tags: &tags}); err != nil {
						t.Fatal(err)
					}
				case op < 9: // change language
					lang := simLangs[r.IntN(len(simLangs))]
					id := randomID(t, db, r)
					note(id)
					if _, err := db.Update(ctx, id, quoter.Update{Lang: &lang}); err != nil {
						t.Fatal(err)
					}
				case op < 10: // pin a day to come, or unpin one
					ps, err := db.Pins(ctx, quoter.DateOfDay(f+1))
					if err != nil {
						t.Fatal(err)
					}
					if len(ps) > 0 && r.IntN(3) == 0 {
						p := ps[r.IntN(len(ps))]
						if err := db.Unpin(ctx, p.Day); err != nil {
							t.Fatal(err)
						}
					} else if err := db.Pin(ctx, quoter.DateOfDay(f+1+int64(r.IntN(40))), randomID(t, db, r)); err != nil {
						t.Fatal(err)
					}
				case op < 11: // move a quote to the other collection
					q, err := db.Random(ctx, quoter.Filter{Collection: "classics,club"})
					if err != nil {
						t.Fatal(err)
					}
					to := simCollections[0]
					if q.Collection == to {
						to = simCollections[1]
					}
					note(q.ID)
					if _, err := db.Update(ctx, q.ID, quoter.Update{Collection: &to, By: quoter.Provenance{By: "mover"}}); err != nil {
						t.Fatal(err)
					}
				case op < 12: // club turns private, or public again
					if !clubPrivate {
						qs, _, err := db.List(ctx, quoter.Filter{Collection: "club"}, quoter.Page{Limit: quoter.MaxLimit})
						if err != nil {
							t.Fatal(err)
						}
						for _, q := range qs {
							for _, f := range simCycles() {
								if inCycle(f, q) {
									removed[f]++
								}
							}
						}
					}
					clubPrivate = !clubPrivate
					if err := db.SetCollection(ctx, quoter.Collection{Name: "club", Private: clubPrivate}); err != nil {
						t.Fatal(err)
					}
				case op < 13: // a submission, approved
					sub := &quoter.Submission{Quote: simQuoteIn(r, next), From: quoter.Provenance{By: "nick", Via: quoter.ViaIRC}}
					next++
					if err := db.Submit(ctx, sub); err != nil {
						t.Fatal(err)
					}
					q, err := db.Approve(ctx, sub.ID, quoter.Provenance{By: "curator"}, nil)
					if err != nil {
						t.Fatal(err)
					}
					if inCycle(quoter.Filter{}, q) {
						added = append(added, q.ID)
					}
				default: // nothing: time passes
				}
				h.record(t, db, first, f, step)
				after := h.upcoming(t, db, f)
				// A pin's day pauses the cycle, and its quote's own turn
				// nearest it is passed over. A change may find another turn
				// nearest, on the other side of the pin: the quotes between
				// the two may come up to two days sooner per pin about
				// (the pause and the skip trade sides), and the pinned
				// quotes themselves have turns of their own.
				pinned := h.pinsAround(t, db, f)
				maps.Copy(pinned, pinnedBefore) // a pin replaced unpins its quote
				removed[quoter.Filter{}] += 2 * int64(len(pinned))
				for id := range pinned {
					delete(before[quoter.Filter{}], id)
				}
				h.checkWaits(t, db, f, before, after, added, removed, step)
			}
		})
	}
}

// pinsAround returns the quotes pinned to days from a cycle's length before
// frontier on, whose pins may pass over their quotes' turns.
func (h *history) pinsAround(t *testing.T, db *sqlite.DB, frontier int64) map[int64]bool {
	t.Helper()
	ps, err := db.Pins(ctx, quoter.DateOfDay(frontier-int64(libSize(t, db))-1))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, p := range ps {
		ids[p.QuoteID] = true
	}
	return ids
}

// history is what a simulation has seen shown for each cycle and day.
type history struct {
	shown  map[quoter.Filter]map[int64]int64 // cycle -> day -> quote id (0: no quote)
	cycles []quoter.Filter                   // the cycles checked
}

// record checks that every day already recorded still shows the same quote
// and records the days that have begun since.
func (h *history) record(t *testing.T, db *sqlite.DB, first, frontier int64, step int) {
	t.Helper()
	for _, f := range h.cycles {
		shown := h.shown[f]
		if shown == nil {
			shown = map[int64]int64{}
			h.shown[f] = shown
		}
		// Every recorded day would be thorough and slow: the last 40
		// days, where changes bite, and a sample of the older ones.
		for day := first; day <= frontier; day++ {
			old, seen := shown[day]
			if seen && day < frontier-40 && day%7 != int64(step%7) {
				continue
			}
			id := todayID(t, db, quoter.DateOfDay(day), f)
			if seen && id != old {
				t.Fatalf("step %d: %s of %+v shows #%d, was #%d: the past changed", step, quoter.DateOfDay(day), f, id, old)
			}
			shown[day] = id
		}
	}
}

// upcoming returns, per cycle, the first day after frontier on which each
// quote is shown by the cycle, over twice the cycle's size, and checks
// that any N days in a row show the N quotes of the cycle; in the
// library's cycle, that pinned days show their pins, and that N days in a
// row of the cycle (pinned days aside) show N quotes but for one a pin
// made the cycle pass over.
func (h *history) upcoming(t *testing.T, db *sqlite.DB, frontier int64) map[quoter.Filter]map[int64]int64 {
	t.Helper()
	pins := map[int64]int64{}
	ps, err := db.Pins(ctx, quoter.DateOfDay(frontier+1))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		pins[p.Day.DayNumber()] = p.QuoteID
	}
	next := map[quoter.Filter]map[int64]int64{}
	for _, f := range h.cycles {
		next[f] = map[int64]int64{}
		n := int64(cycleSize(t, db, f))
		slack := 0
		if f == (quoter.Filter{}) {
			slack = len(h.pinsAround(t, db, frontier))
		}
		var days []int64
		for d := frontier + 1; d <= frontier+2*n+1+int64(slack); d++ {
			id := todayID(t, db, quoter.DateOfDay(d), f)
			if pin, ok := pins[d]; ok && slack > 0 {
				if id != pin {
					t.Fatalf("%s is pinned to #%d but shows #%d", quoter.DateOfDay(d), pin, id)
				}
				continue
			}
			days = append(days, id)
			if _, ok := next[f][id]; !ok && id != 0 {
				next[f][id] = d
			}
		}
		for i := 0; i+int(n) <= len(days); i++ {
			seen := map[int64]bool{}
			for _, id := range days[i : i+int(n)] {
				seen[id] = true
			}
			if len(seen) < int(n)-slack || seen[0] {
				t.Fatalf("%+v: the %d days from %s show %d different quotes, want %d",
					f, n, quoter.DateOfDay(frontier+1+int64(i)), len(seen), n)
			}
		}
	}
	return next
}

// checkWaits checks the waits of rule 2 and the turns of added quotes.
func (h *history) checkWaits(t *testing.T, db *sqlite.DB, frontier int64, before, after map[quoter.Filter]map[int64]int64, added []int64, removed map[quoter.Filter]int64, step int) {
	t.Helper()
	for _, f := range h.cycles {
		n := int64(cycleSize(t, db, f))
		for id, d := range after[f] {
			if b, wasDue := before[f][id]; wasDue && d < b-removed[f] {
				t.Errorf("step %d, %+v: quote #%d, due %s, now comes back %s, after %d quotes left the cycle",
					step, f, id, quoter.DateOfDay(b), quoter.DateOfDay(d), removed[f])
			}
		}
		if f != (quoter.Filter{}) {
			continue
		}
		for _, id := range added {
			if d, ok := after[f][id]; !ok || d > frontier+n {
				t.Errorf("step %d: quote #%d, added when %s had begun, is not shown within %d days (first on %s)",
					step, id, quoter.DateOfDay(frontier), n, quoter.DateOfDay(d))
			}
		}
	}
}

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

func randomID(t *testing.T, db *sqlite.DB, _ *rand.Rand) int64 {
	t.Helper()
	q, err := db.Random(ctx, quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return q.ID
}

func libSize(t *testing.T, db *sqlite.DB) int {
	t.Helper()
	s, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s.Quotes
}

func cycleSize(t *testing.T, db *sqlite.DB, f quoter.Filter) int {
	t.Helper()
	_, n, err := db.List(ctx, f, quoter.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newClockedLibrary returns a library of n synthetic quotes with a clock
// the test moves, at 2026-03-01 10:00 UTC.
func newClockedLibrary(t *testing.T, n int) (*sqlite.DB, *quotertest.Clock) {
	t.Helper()
	clk := quotertest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	db := mustOpen(t, tempPath(t), sqlite.Create(), sqlite.WithSeed(7), sqlite.WithClock(clk.Now))
	r := rand.New(rand.NewPCG(7, 7))
	var qs []quoter.Quote
	for i := range n {
		qs = append(qs, simQuote(r, i))
	}
	if _, err := db.Import(ctx, qs, nil); err != nil {
		t.Fatal(err)
	}
	return db, clk
}

// scheduleOf returns the library's quotes of the days from..to.
func scheduleOf(t *testing.T, db *sqlite.DB, from, to int64) []int64 {
	t.Helper()
	var ids []int64
	for d := from; d <= to; d++ {
		ids = append(ids, todayID(t, db, quoter.DateOfDay(d), quoter.Filter{}))
	}
	return ids
}

// A pin shows its quote on its day; the cycle waits that day, so the
// quote due then comes the day after, and the pinned quote's own turn
// near the pin is passed over. Days that have begun cannot be pinned.
func TestSchedule_Pins(t *testing.T) {
	db, clk := newClockedLibrary(t, 40)
	f := quoter.Frontier(clk.Now()).DayNumber()
	past := scheduleOf(t, db, f-30, f)
	before := scheduleOf(t, db, f+1, f+60)

	// Pin, ten days on, the quote due 15 days on: its turn is near.
	pinDay := f + 10
	pinned := before[14]
	if err := db.Pin(ctx, quoter.DateOfDay(pinDay), pinned); err != nil {
		t.Fatal(err)
	}
	after := scheduleOf(t, db, f+1, f+60)
	if got := after[9]; got != pinned {
		t.Errorf("the pinned day shows #%d, want the pinned #%d", got, pinned)
	}
	if !slices.Equal(after[:9], before[:9]) {
		t.Errorf("days before the pin changed:\n got %v\nwant %v", after[:9], before[:9])
	}
	if after[10] != before[9] {
		t.Errorf("the day after the pin shows #%d, want #%d, the quote the cycle waited with", after[10], before[9])
	}
	for i, id := range after[:40] {
		if id == pinned && i != 9 {
			t.Errorf("the pinned quote #%d is shown again %d days from its pin", pinned, i-9)
		}
	}
	if !slices.Equal(scheduleOf(t, db, f-30, f), past) {
		t.Error("pinning changed a day that has begun")
	}

	ps, err := db.Pins(ctx, quoter.DateOfDay(f))
	if err != nil || len(ps) != 1 || ps[0].QuoteID != pinned || ps[0].Day != quoter.DateOfDay(pinDay) || ps[0].Quote == nil {
		t.Errorf("Pins = %+v, %v; want the one pin of #%d on %s", ps, err, pinned, quoter.DateOfDay(pinDay))
	}

	t.Run("ErrPastDay", func(t *testing.T) {
		for _, d := range []int64{f, f - 100} {
			err := db.Pin(ctx, quoter.DateOfDay(d), pinned)
			wantCode(t, err, quoter.EINVALID)
			if !strings.Contains(quoter.ErrorMessage(err), "has begun") {
				t.Errorf("Pin(%s) = %q, want it to say the day has begun", quoter.DateOfDay(d), quoter.ErrorMessage(err))
			}
			wantCode(t, db.Unpin(ctx, quoter.DateOfDay(d)), quoter.EINVALID)
		}
	})
	t.Run("ErrNoQuote", func(t *testing.T) {
		wantCode(t, db.Pin(ctx, quoter.DateOfDay(f+3), 9999), quoter.ENOTFOUND)
	})
	t.Run("ErrNoPin", func(t *testing.T) {
		wantCode(t, db.Unpin(ctx, quoter.DateOfDay(f+3)), quoter.ENOTFOUND)
	})

	// When the pinned day comes, it has begun: the pin is history.
	clk.Advance(time.Duration(pinDay-f) * 24 * time.Hour)
	wantCode(t, db.Unpin(ctx, quoter.DateOfDay(pinDay)), quoter.EINVALID)
	if got := todayID(t, db, quoter.DateOfDay(pinDay), quoter.Filter{}); got != pinned {
		t.Errorf("the pinned day, begun, shows #%d, want #%d", got, pinned)
	}

	t.Run("Unpin", func(t *testing.T) {
		f := quoter.Frontier(clk.Now()).DayNumber()
		day := quoter.DateOfDay(f + 5)
		want := todayID(t, db, day, quoter.Filter{})
		other := todayID(t, db, quoter.DateOfDay(f+20), quoter.Filter{})
		if err := db.Pin(ctx, day, other); err != nil {
			t.Fatal(err)
		}
		if err := db.Unpin(ctx, day); err != nil {
			t.Fatal(err)
		}
		if got := todayID(t, db, day, quoter.Filter{}); got != want {
			t.Errorf("after pin and unpin %s shows #%d, want #%d as before", day, got, want)
		}
	})
	t.Run("DeleteDropsPins", func(t *testing.T) {
		f := quoter.Frontier(clk.Now()).DayNumber()
		day := quoter.DateOfDay(f + 7)
		id := todayID(t, db, quoter.DateOfDay(f+2), quoter.Filter{})
		if err := db.Pin(ctx, day, id); err != nil {
			t.Fatal(err)
		}
		if err := db.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ps, _ := db.Pins(ctx, day); len(ps) != 0 {
			t.Errorf("pins after deleting the pinned quote: %+v, want none", ps)
		}
		if got := todayID(t, db, day, quoter.Filter{}); got == id {
			t.Errorf("%s still shows the deleted #%d", day, id)
		}
	})
}

// A pinned quote's own turn a few days after its pin stays passed over
// when the library changes after the pinned day but before that turn.
func TestSchedule_PinnedQuotesTurnStaysPassedOverAfterChanges(t *testing.T) {
	db, clk := newClockedLibrary(t, 40)
	f := quoter.Frontier(clk.Now()).DayNumber()
	before := scheduleOf(t, db, f+1, f+40)
	pinDay, pinned := f+5, before[9] // its own turn is due 5 days after the pin
	if err := db.Pin(ctx, quoter.DateOfDay(pinDay), pinned); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Duration(pinDay-f+1) * 24 * time.Hour) // the pin's day has begun
	if err := db.Add(ctx, &quoter.Quote{Text: "Added after the pinned day.", Author: "Later"}); err != nil {
		t.Fatal(err)
	}
	for i, id := range scheduleOf(t, db, pinDay+1, pinDay+19) {
		if id == pinned {
			t.Errorf("the quote pinned to %s is shown again %d days later, after a change", quoter.DateOfDay(pinDay), i+1)
		}
	}
}

// A deleted quote stays the quote of the days it was shown, marked as
// removed; a correction of a quote shows on its past days; a purged quote's
// days are gone, and never show another quote.
func TestSchedule_RemovedCorrectedAndPurged(t *testing.T) {
	db, clk := newClockedLibrary(t, 20)
	f := quoter.Frontier(clk.Now())
	q, err := db.Today(ctx, f, quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	text := q.Text + " (corrected)"
	clk.Advance(time.Hour)
	if _, err := db.Update(ctx, q.ID, quoter.Update{Text: &text}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Today(ctx, f, quoter.Filter{})
	if err != nil || got.ID != q.ID || got.Text != text || got.Modified.IsZero() || got.Removed {
		t.Fatalf("after a correction Today = %+v, %v; want #%d with the corrected text and a modified time", got, err, q.ID)
	}

	clk.Advance(24 * time.Hour)
	if err := db.Delete(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	got, err = db.Today(ctx, f, quoter.Filter{})
	if err != nil || got.ID != q.ID || !got.Removed || got.Text != text {
		t.Fatalf("after deletion Today(%s) = %+v, %v; want #%d marked removed", f, got, err, q.ID)
	}
	wantCode(t, func() error { _, err := db.Quote(ctx, q.ID); return err }(), quoter.EGONE)
	wantCode(t, db.Delete(ctx, q.ID), quoter.EGONE)
	if qs, n, _ := db.List(ctx, quoter.Filter{}, quoter.Page{Limit: 100}); n != 19 || slices.ContainsFunc(qs, func(x *quoter.Quote) bool { return x.ID == q.ID }) {
		t.Errorf("the library lists %d quotes, want 19 without #%d", n, q.ID)
	}

	// A new quote never takes a removed quote's id.
	nq := quoter.Quote{Text: "A quote after the removal.", Author: "Someone"}
	if err := db.Add(ctx, &nq); err != nil {
		t.Fatal(err)
	}
	if nq.ID <= 20 {
		t.Errorf("new quote got id %d, want one above every id ever given (20)", nq.ID)
	}

	if err := db.Purge(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.Today(ctx, f, quoter.Filter{})
	wantCode(t, err, quoter.EGONE)
	wantCode(t, db.Purge(ctx, q.ID), quoter.ENOTFOUND)
	wantCode(t, db.Purge(ctx, 12345), quoter.ENOTFOUND)
}

// Each tag and each language has its own cycle; an unknown one is a
// not-found error that names it.
func TestSchedule_TagAndLanguageCycles(t *testing.T) {
	db, clk := newClockedLibrary(t, 40)
	f := quoter.Frontier(clk.Now()).DayNumber()
	for _, fl := range simCycles()[1:] {
		n := cycleSize(t, db, fl)
		seen := map[int64]bool{}
		for d := f; d < f+int64(n); d++ {
			q, err := db.Today(ctx, quoter.DateOfDay(d), fl)
			if err != nil {
				t.Fatalf("Today(%+v): %v", fl, err)
			}
			if !fl.Match(q) {
				t.Errorf("Today(%s, %+v) = %+v, which does not carry it", quoter.DateOfDay(d), fl, q)
			}
			seen[q.ID] = true
		}
		if len(seen) != n {
			t.Errorf("%+v: %d days show %d different quotes, want all %d", fl, n, len(seen), n)
		}
	}
	for _, fl := range []quoter.Filter{{Tag: "nosuchtag"}, {Lang: "xx"}} {
		_, err := db.Today(ctx, quoter.DateOfDay(f), fl)
		wantCode(t, err, quoter.ENOTFOUND)
		if msg := quoter.ErrorMessage(err); !strings.Contains(msg, "nosuchtag") && !strings.Contains(msg, `"xx"`) {
			t.Errorf("Today(%+v) = %q, want a message naming it", fl, msg)
		}
	}
}

// buildV3 makes a library as quotesd wrote it before schedules were
// recorded (schema version 3), from the migration files as shipped, with n
// quotes in rank order and the given seed.
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

// A library written before schedules were recorded keeps every date's
// quote when this quotesd first opens it (and upgrades it), and after the
// changes it then makes: the days from 2020-01-01 to the upgrade, and on
// until the first change, are what the old quotesd showed.
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
	// Changes after the upgrade leave every begun day alone.
	clk.Advance(30 * time.Hour)
	if err := db.Add(ctx, &quoter.Quote{Text: "New after the upgrade.", Author: "New"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(50 * time.Hour)
	if err := db.Delete(ctx, old(upgradeDay)); err != nil {
		t.Fatal(err)
	}
	frontier := quoter.Frontier(clk.Now()).DayNumber()
	for d := from; d <= frontier; d++ {
		if got, want := todayID(t, db, quoter.DateOfDay(d), quoter.Filter{}), old(d); got != want {
			t.Fatalf("after changes, %s shows #%d, want #%d as before", quoter.DateOfDay(d), got, want)
		}
	}
	// Tag and language cycles exist from the upgrade on.
	if q, err := db.Today(ctx, quoter.DateOfDay(upgradeDay), quoter.Filter{Tag: simTags[0]}); err != nil || !slices.Contains(q.Tags, simTags[0]) {
		t.Errorf("the tag's quote of the day = %+v, %v", q, err)
	}
}

// Many first asks at once, more than the pool has connections, each a
// day the memo has not seen: none waits for another for ever (reads
// prepare their statements only when they hold no connection).
func TestSchedule_ManyConcurrentFirstReadsDoNotDeadlock(t *testing.T) {
	db, clk := newClockedLibrary(t, 30)
	f := quoter.Frontier(clk.Now()).DayNumber()
	errs := make(chan error, 64)
	for i := range 64 {
		go func() {
			_, err := db.Today(ctx, quoter.DateOfDay(f+int64(i)), quoter.Filter{})
			errs <- err
		}()
	}
	timeout := time.After(20 * time.Second)
	for range 64 {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-timeout:
			t.Fatal("64 concurrent quotes of the day still waiting after 20 s: a deadlock")
		}
	}
}
