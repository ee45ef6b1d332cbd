package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"quotesd/quoter"
	"quotesd/quoter/sqlite"
)

// clock is a settable clock for sqlite.WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

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

// The contract of Quoter.Today, checked over random changes spread over
// simulated years, in the library's cycle and in each tag's and language's
// (rule 5). After every step:
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
			clk := &clock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
			db := mustOpen(t, tempPath(t), sqlite.Create(), sqlite.WithSeed(seed), sqlite.WithClock(clk.Now))
			next := 0
			var batch []quoter.Quote
			for range 30 {
				batch = append(batch, simQuote(r, next))
				next++
			}
			if _, err := db.Import(ctx, batch, nil); err != nil {
				t.Fatal(err)
			}
			h := &history{shown: map[quoter.Filter]map[int64]int64{}}
			first := quoter.Frontier(clk.Now()).DayNumber() - 10
			steps := 100
			if testing.Short() {
				steps = 40
			}
			for step := range steps {
				clk.advance(time.Duration(r.IntN(72)) * time.Hour)
				f := quoter.Frontier(clk.Now()).DayNumber()
				h.record(t, db, first, f, step)
				before := h.upcoming(t, db, f)
				var added []int64
				removed := map[quoter.Filter]int64{}
				note := func(id int64) { // a quote leaves cycles
					q, err := db.Quote(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range simCycles() {
						if f.Match(q) {
							removed[f]++
						}
					}
				}
				switch op := r.IntN(10); {
				case op < 3: // add
					q := simQuote(r, next)
					next++
					if err := db.Add(ctx, &q); err != nil {
						t.Fatal(err)
					}
					added = append(added, q.ID)
				case op < 4: // import a batch
					batch = batch[:0]
					for range 1 + r.IntN(8) {
						batch = append(batch, simQuote(r, next))
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
				default: // nothing: time passes
				}
				h.record(t, db, first, f, step)
				after := h.upcoming(t, db, f)
				h.checkWaits(t, db, f, before, after, added, removed, step)
			}
		})
	}
}

// history is what a simulation has seen shown for each cycle and day.
type history struct {
	shown map[quoter.Filter]map[int64]int64 // cycle -> day -> quote id (0: no quote)
}

// record checks that every day already recorded still shows the same quote
// and records the days that have begun since.
func (h *history) record(t *testing.T, db *sqlite.DB, first, frontier int64, step int) {
	t.Helper()
	for _, f := range simCycles() {
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
// quote is shown, over twice the cycle's size, and checks that any N days
// in a row show the N quotes of the cycle.
func (h *history) upcoming(t *testing.T, db *sqlite.DB, frontier int64) map[quoter.Filter]map[int64]int64 {
	t.Helper()
	next := map[quoter.Filter]map[int64]int64{}
	for _, f := range simCycles() {
		next[f] = map[int64]int64{}
		n := int64(cycleSize(t, db, f))
		var days []int64
		for d := frontier + 1; d <= frontier+2*n+1; d++ {
			id := todayID(t, db, quoter.DateOfDay(d), f)
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
			if len(seen) != int(n) || seen[0] {
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
	for _, f := range simCycles() {
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
