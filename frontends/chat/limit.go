package chat

// Limits every chat bot keeps: cooldowns per user and per room, the daily
// cap on one person's changes, and the back-off between reconnections.

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// Cooldown lets one event per key through every period and refuses the
// rest, which the bot then drops in silence: answering "slow down" would be
// the very spam the cooldown is there to prevent. The zero period lets
// everything through. Keys are users, rooms, or one fixed key for a rate
// shared by everyone (IRC's CTCP VERSION).
type Cooldown struct {
	now func() time.Time

	mu     sync.Mutex
	period time.Duration
	last   map[string]time.Time
}

// MaxKeys bounds the memory a crowd of one-off users can take in a
// Cooldown or a DailyCap: past it, a Cooldown sweeps the entries whose
// period has run out, and a DailyCap refuses newcomers until the next day.
const MaxKeys = 4096

// NewCooldown returns a Cooldown of period, reading the time from now
// (time.Now when nil; tests pass a fake clock).
func NewCooldown(period time.Duration, now func() time.Time) *Cooldown {
	if now == nil {
		now = time.Now
	}
	return &Cooldown{period: period, now: now, last: make(map[string]time.Time)}
}

// Allow reports whether key may act now, and if so starts its cooldown.
func (c *Cooldown) Allow(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.period <= 0 {
		return true
	}
	now := c.now()
	if t, ok := c.last[key]; ok && now.Sub(t) < c.period {
		return false
	}
	if len(c.last) >= MaxKeys {
		for k, t := range c.last {
			if now.Sub(t) >= c.period {
				delete(c.last, k)
			}
		}
	}
	c.last[key] = now
	return true
}

// Undo gives key back the turn Allow just took, when a second check
// (the room's cooldown after the user's) refused the request.
func (c *Cooldown) Undo(key string) {
	c.mu.Lock()
	delete(c.last, key)
	c.mu.Unlock()
}

// SetPeriod changes the period (a live setting, on SIGHUP); keys keep
// their last event.
func (c *Cooldown) SetPeriod(d time.Duration) {
	c.mu.Lock()
	c.period = d
	c.mu.Unlock()
}

// Keys returns how many keys the cooldown remembers.
func (c *Cooldown) Keys() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.last)
}

// Cooldowns are a bot's two cooldowns on commands: one per user, one per
// room, so neither one person nor a busy room floods the bot's output.
type Cooldowns struct {
	User, Room *Cooldown
}

// NewCooldowns returns the cooldowns of the periods given (0: none).
func NewCooldowns(user, room time.Duration, now func() time.Time) Cooldowns {
	return Cooldowns{User: NewCooldown(user, now), Room: NewCooldown(room, now)}
}

// Allow reports whether user may have a command answered in room ("" for
// a direct message, which only the user's cooldown bounds), and if not,
// why, as a reason of Metrics.Dropped (DropUserCooldown,
// DropRoomCooldown). A request the room refuses leaves the user's turn
// untaken. Keys are the frontend's: fold them first where case does not
// matter.
func (c Cooldowns) Allow(user, room string) (ok bool, reason string) {
	if !c.User.Allow(user) {
		return false, DropUserCooldown
	}
	if room != "" && !c.Room.Allow(room) {
		c.User.Undo(user)
		return false, DropRoomCooldown
	}
	return true, ""
}

// DailyCap counts each person's changes on the current day (the calendar
// day of --tz) and refuses those past the cap. An attempt the library
// refuses (a duplicate) counts too: the cap bounds attempts, as a flood is
// made of them. The counts start again with the day; they live in memory,
// so a restart starts them again too, which the cooldowns still bound.
type DailyCap struct {
	mu     sync.Mutex
	day    quoter.Date
	counts map[string]int // by person key
	told   map[string]bool
}

// NewDailyCap returns a DailyCap with nothing counted.
func NewDailyCap() *DailyCap {
	return &DailyCap{counts: make(map[string]int), told: make(map[string]bool)}
}

// Take counts a change by key on day, if fewer than limit were counted
// already (limit 0: no cap), and reports whether it is allowed. When it is
// not, first reports whether this is the first refusal of the day, so
// the person is told once and then ignored in silence.
func (c *DailyCap) Take(key string, day quoter.Date, limit int) (ok, first bool) {
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
	if c.counts[key] >= limit || len(c.counts) >= MaxKeys && c.counts[key] == 0 {
		first = !c.told[key]
		if len(c.told) < MaxKeys {
			c.told[key] = true
		}
		return false, first
	}
	c.counts[key]++
	return true, false
}

// Backoff computes how long to wait before reconnecting: exponential from
// Min up to Max, with "full jitter" (a random wait between half and all of
// the step) so that many bots cut off by one netsplit do not come back in
// lockstep. Reset after a healthy session starts it again from Min.
type Backoff struct {
	Min, Max time.Duration
	Rand     func() float64 // in [0, 1); nil: math/rand; tests fix it
	attempt  int
}

// Next returns the wait before the next attempt and counts it.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	for i := 0; i < b.attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	b.attempt++
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// Reset starts again from Min, after a healthy session.
func (b *Backoff) Reset() { b.attempt = 0 }
