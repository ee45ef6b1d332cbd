package irc

// The daily cap on the changes one person makes from IRC
// (--irc-curation-cap).

import (
	"sync"

	"github.com/quotesd/quotesd/quoter"
)

// dailyCap counts each person's changes on the current day (the calendar
// day of --tz) and refuses those past the cap. An attempt the library
// refuses (a duplicate) counts too: the cap bounds attempts, as a
// flood is made of them. The counts start again
// with the day; they live in memory, so a restart starts them again too,
// which the cooldowns still bound.
type dailyCap struct {
	mu     sync.Mutex
	day    quoter.Date
	counts map[string]int // by person key (see personKey)
	told   map[string]bool
}

func newDailyCap() *dailyCap {
	return &dailyCap{counts: make(map[string]int), told: make(map[string]bool)}
}

// take counts a change by key on day, if fewer than limit were counted
// already (limit 0: no cap), and reports whether it is allowed. When it is
// not, first reports whether this is the first refusal of the day, so
// the person is told once and then ignored in silence.
func (c *dailyCap) take(key string, day quoter.Date, limit int) (ok, first bool) {
	if limit <= 0 {
		return true, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if day != c.day {
		c.day = day
		clear(c.counts)
		clear(c.told)
	}
	if c.counts[key] >= limit || len(c.counts) >= maxCooldownKeys && c.counts[key] == 0 {
		first = !c.told[key]
		if len(c.told) < maxCooldownKeys {
			c.told[key] = true
		}
		return false, first
	}
	c.counts[key]++
	return true, false
}
