package quoter

import (
	"slices"
	"sort"
)

// A schedule is how a store keeps the contract of Quoter.Today. Each cycle
// of quotes (the whole library, each tag, each language) is a sequence of
// slots numbered 0, 1, 2, ... in the order the quotes are shown; day after
// day the cycle walks the live slots in that order and wraps around, so
// every quote comes back exactly N days (N: the cycle's size) after it was
// last shown. What a store records, and when, is explained in
// docs/ARCHITECTURE.md; this file holds the arithmetic that every store
// shares, with no storage in it.
//
// A change to the library ends the current epoch of each cycle it touches
// at the frontier (see Frontier) and starts a new one the next day:
//   - a deleted quote's slot becomes a hole, which the walk skips;
//   - an added quote takes a new slot at the end, then swaps with a slot
//     chosen at random among those not yet shown in the current pass, so
//     it is shown before the pass ends, mixed with the rest (the quote it
//     swapped with only moves later, so nobody's wait shrinks);
//   - the new epoch starts where the old one would have gone on.

// Cycle is the current epoch of one cycle: enough to say which live slot
// is shown on any day from Start on, in O(log holes + pins).
type Cycle struct {
	Start int64 // day number of the epoch's first day
	Pos   int   // live index shown on Start, before pins and skips
	Slots int   // slots ever used: 0..Slots-1
	Holes []int // slots no longer live, ascending
	// Pins are the pins of the epoch's days, by day, and those of the
	// Live() days before Start, whose quotes' turns early in the epoch
	// must still be passed over. Only the library's cycle has pins.
	Pins []Pin

	ahead int     // index in Pins of the first pin on a day >= Start
	skips []int64 // visits (see At) passed over: a pinned quote's own turn near its pin
}

// Pin is a quote pinned to a day, as a Cycle sees it.
type Pin struct {
	Day   int64 // day number
	Quote int64 // quote id
	Index int   // live index of the quote in the cycle, -1 when not in it
}

// Live is the number of live slots.
func (c *Cycle) Live() int { return c.Slots - len(c.Holes) }

// SlotOf returns the slot of live index k, 0 <= k < Live().
func (c *Cycle) SlotOf(k int) int {
	// Holes[i]-i live slots precede hole i: the answer is k plus the
	// number of holes with fewer than k+1 live slots before them.
	j := sort.Search(len(c.Holes), func(i int) bool { return c.Holes[i]-i > k })
	return k + j
}

// IndexOf returns the live index of slot s, or of the first live slot after
// it when s is a hole; Live() when there is none.
func (c *Cycle) IndexOf(s int) int {
	j, _ := slices.BinarySearch(c.Holes, s)
	return s - j
}

// IsHole reports whether slot s is not live.
func (c *Cycle) IsHole(s int) bool {
	_, found := slices.BinarySearch(c.Holes, s)
	return found || s >= c.Slots || s < 0
}

// AddHole marks slot s as not live.
func (c *Cycle) AddHole(s int) {
	i, found := slices.BinarySearch(c.Holes, s)
	if !found {
		c.Holes = slices.Insert(c.Holes, i, s)
	}
}

// pinAt returns the pin of day, if any.
func (c *Cycle) pinAt(day int64) *Pin {
	i := sort.Search(len(c.Pins), func(i int) bool { return c.Pins[i].Day >= day })
	if i < len(c.Pins) && c.Pins[i].Day == day {
		return &c.Pins[i]
	}
	return nil
}

// step is the number of days from Start to day on which the cycle moved:
// a pinned day shows its pin and the cycle waits.
func (c *Cycle) step(day int64) int64 {
	i := sort.Search(len(c.Pins), func(i int) bool { return c.Pins[i].Day >= day })
	return day - c.Start - int64(i-c.ahead)
}

// visit is the number of the visit made on step t: visits are numbered
// from 0 at Start, and the skipped ones take no day.
func (c *Cycle) visit(t int64) int64 {
	u := t
	for _, s := range c.skips {
		if s > u {
			break
		}
		u++
	}
	return u
}

// dayOfStep is the day on which the cycle makes step t.
func (c *Cycle) dayOfStep(t int64) int64 {
	d := c.Start + t
	for _, p := range c.Pins[c.ahead:] {
		if p.Day > d {
			break
		}
		d++
	}
	return d
}

// dayOfVisit is the day of visit u, which must not be skipped.
func (c *Cycle) dayOfVisit(u int64) int64 {
	i, _ := slices.BinarySearch(c.skips, u)
	return c.dayOfStep(u - int64(i))
}

// index is the live index of visit u.
func (c *Cycle) index(u int64) int {
	n := int64(c.Live())
	return int((int64(c.Pos) + u) % n)
}

// Prepare works out which visits the pins make the cycle skip: a pinned
// quote's own turn nearest its pinned day, when that turn falls within
// half a cycle of it, so that the pin does not show the quote twice in a
// few days. A pin of a day before Start (an earlier epoch showed it) still
// has its quote's first turn in this epoch passed over when that turn comes
// less than half a cycle after it: a change made between a pin's day and
// that turn must not bring the quote back. It must be called after Pins
// and Holes are set and before At; the answer depends only on the epoch,
// so every process agrees.
func (c *Cycle) Prepare() {
	c.skips = c.skips[:0]
	c.ahead = sort.Search(len(c.Pins), func(i int) bool { return c.Pins[i].Day >= c.Start })
	n := int64(c.Live())
	if n < 2 {
		return
	}
	half := n / 2
	for i, p := range c.Pins {
		if p.Index < 0 || p.Index >= int(n) {
			continue
		}
		u0 := (int64(p.Index) - int64(c.Pos)) % n
		if u0 < 0 {
			u0 += n
		}
		if i < c.ahead {
			if _, skipped := slices.BinarySearch(c.skips, u0); !skipped && c.dayOfVisit(u0)-p.Day < half {
				j, _ := slices.BinarySearch(c.skips, u0)
				c.skips = slices.Insert(c.skips, j, u0)
			}
			continue
		}
		// The visit the cycle would make on the pinned day, roughly, and
		// the pinned quote's turns around it.
		approx := c.visit(max(0, c.step(p.Day)))
		m := (approx - u0) / n
		best, bestDist := int64(-1), int64(-1)
		for _, mm := range []int64{m - 1, m, m + 1} {
			u := u0 + mm*n
			if u < 0 {
				continue
			}
			if _, skipped := slices.BinarySearch(c.skips, u); skipped {
				continue
			}
			dist := c.dayOfVisit(u) - p.Day
			if dist < 0 {
				dist = -dist
			}
			if best < 0 || dist < bestDist {
				best, bestDist = u, dist
			}
		}
		if best >= 0 && bestDist <= half {
			i, _ := slices.BinarySearch(c.skips, best)
			c.skips = slices.Insert(c.skips, i, best)
		}
	}
}

// At returns what the cycle shows on day (day >= Start): the pin of the day
// when it has one, else the live index of the day's quote. The second
// result is the index the cycle stands at, which a pinned day does not
// move. It panics on an empty cycle.
func (c *Cycle) At(day int64) (pin *Pin, index int) {
	index = c.index(c.visit(c.step(day)))
	return c.pinAt(day), index
}

// Origin is the epoch a cycle starts with: slot k shown on every day whose
// number is k modulo n, back to the beginning of time.
func Origin(day int64, n int) int {
	k := day % int64(n)
	if k < 0 {
		k += int64(n)
	}
	return int(k)
}

// OriginOrder returns, for a cycle whose members are numbered 0..n-1 (by
// rank for the library's cycle, by id for the others), the member shown in
// each slot of its origin epoch: order[k] is the member of slot k. The order
// is DailyIndex's permutation, so the library's cycle shows, day for day,
// what quotesd showed before schedules were recorded.
func OriginOrder(seed uint64, n int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = DailyIndex(seed, int64(k), n)
	}
	return order
}

// CycleSeed is the shuffle seed of the cycle named key, derived from the
// library's seed: the library's own cycle ("") uses the seed as is.
func CycleSeed(seed uint64, key string) uint64 {
	if key == "" {
		return seed
	}
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return mix(seed ^ h)
}
