package qotd

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sourceLimiter is a token bucket per source address. Entries idle for
// longer than idleAfter are swept, and the table holds at most maxEntries,
// so a flood of spoofed sources costs bounded memory: when it is full of
// recent sources, a new source is refused (fail closed). A sweep walks the
// whole table, so while it is full it is swept at most once per
// fullSweepEvery, not for every new source of the flood.
type sourceLimiter struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const (
	idleAfter      = time.Minute
	maxEntries     = 1 << 16
	fullSweepEvery = time.Second
)

func newSourceLimiter(perSecond float64) *sourceLimiter {
	return &sourceLimiter{limit: rate.Limit(perSecond), burst: burst(perSecond), buckets: map[netip.Addr]*bucket{}}
}

// setRate changes the rate of every bucket, present and future.
func (l *sourceLimiter) setRate(perSecond float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rate.Limit(perSecond) == l.limit {
		return
	}
	l.limit, l.burst = rate.Limit(perSecond), burst(perSecond)
	for _, b := range l.buckets {
		b.lim.SetLimit(l.limit)
		b.lim.SetBurst(l.burst)
	}
}

// allow takes a token from addr's bucket at now.
func (l *sourceLimiter) allow(addr netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if since := now.Sub(l.lastSweep); since > idleAfter || len(l.buckets) >= maxEntries && since >= fullSweepEvery {
		l.sweep(now)
	}
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= maxEntries {
			return false
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[addr] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

func (l *sourceLimiter) sweep(now time.Time) {
	for a, b := range l.buckets {
		if now.Sub(b.seen) > idleAfter {
			delete(l.buckets, a)
		}
	}
	l.lastSweep = now
}
