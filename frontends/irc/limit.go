package irc

import (
	"math/rand/v2"
	"sync"
	"time"
)

// cooldown lets one event per key through every period and refuses the
// rest, which the bot then drops in silence: answering "slow down" would be
// the very spam the cooldown is there to prevent. The zero period lets
// everything through. Keys are users or channels.
type cooldown struct {
	period time.Duration
	now    func() time.Time // injected by tests

	mu   sync.Mutex
	last map[string]time.Time
}

// maxCooldownKeys bounds the memory a crowd of one-off nicks can take: past
// it, entries whose cooldown has run out are swept.
const maxCooldownKeys = 4096

func newCooldown(period time.Duration, now func() time.Time) *cooldown {
	if now == nil {
		now = time.Now
	}
	return &cooldown{period: period, now: now, last: make(map[string]time.Time)}
}

// allow reports whether key may act now, and if so starts its cooldown.
func (c *cooldown) allow(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.period <= 0 {
		return true
	}
	now := c.now()
	if t, ok := c.last[key]; ok && now.Sub(t) < c.period {
		return false
	}
	if len(c.last) >= maxCooldownKeys {
		for k, t := range c.last {
			if now.Sub(t) >= c.period {
				delete(c.last, k)
			}
		}
	}
	c.last[key] = now
	return true
}

// undo gives key back the turn allow just took, when a second check
// (the channel's cooldown after the user's) refused the request.
func (c *cooldown) undo(key string) {
	c.mu.Lock()
	delete(c.last, key)
	c.mu.Unlock()
}

// setPeriod changes the period (on SIGHUP); keys keep their last event.
func (c *cooldown) setPeriod(d time.Duration) {
	c.mu.Lock()
	c.period = d
	c.mu.Unlock()
}

// backoff computes how long to wait before reconnecting: exponential from
// Min up to Max, with "full jitter" (a random wait between half and all of
// the step) so that many bots cut off by one netsplit do not come back in
// lockstep. A session that stayed up for Healthy resets it.
type backoff struct {
	Min, Max time.Duration
	rand     func() float64 // in [0, 1); injected by tests
	attempt  int
}

// next returns the wait before the next attempt and counts it.
func (b *backoff) next() time.Duration {
	d := b.Min
	for i := 0; i < b.attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	b.attempt++
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// reset starts again from Min, after a healthy session.
func (b *backoff) reset() { b.attempt = 0 }
