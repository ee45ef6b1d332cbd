package limits

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// MaxClients is how many clients a Limiter remembers at once: about 200
// bytes each (measured), so some 13 MB when full. It is far more clients
// than quotesd serves at once, and few enough that a flood of new
// sources cannot make the memory grow without bound.
const MaxClients = 1 << 16

// How often the table of clients is swept for entries that can be
// forgotten: every sweepEvery, and while it is full at most every
// fullSweepEvery. A sweep walks the whole table (most of a millisecond
// when full), so a flood of new clients must not cause one each.
const (
	sweepEvery     = time.Minute
	fullSweepEvery = time.Second
)

// Limiter is a token bucket per Client: each client may take up to burst
// tokens at once, and gets them back at a steady rate. It is safe for
// concurrent use.
//
// It is bounded and fails closed. A client's bucket is forgotten once it
// has been idle for as long as an empty bucket takes to fill (it would be
// full again, so forgetting it forgives nothing), and the table holds at
// most MaxClients buckets. When the table is full of clients seen
// more recently than that, a new client is refused until room is made:
// a flood of new or spoofed sources costs bounded memory and cannot make
// the limiter forget the clients it is limiting.
//
// A Limiter is meant to live as long as the process: SetRate changes the
// rate of every bucket in place, so that applying new settings (a
// SIGHUP) keeps what each client has spent.
type Limiter struct {
	off atomic.Bool // no limit: Allow lets everything through without locking

	mu        sync.Mutex
	limit     rate.Limit // tokens per second; 0 when off
	burst     int
	buckets   map[Client]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time // of the last token asked for, granted or not
}

// NewLimiter returns a limiter of r tokens a second per client with
// bursts of burst; see SetRate for the meaning of the values.
func NewLimiter(r rate.Limit, burst int) *Limiter {
	l := &Limiter{buckets: map[Client]*bucket{}}
	l.SetRate(r, burst)
	return l
}

// SetRate changes the rate, r tokens a second, and the burst, the most a
// client may take at once (at least 1), for every client present and
// future. A client keeps the tokens it has (up to the new burst): one that
// has spent its budget is still limited after SetRate with the same or a
// different rate, and earns tokens back at the new rate from now on.
//
// A rate of 0 or less (or rate.Inf) means no limit: Allow lets every
// client through, and the limiter forgets every client, since there is
// nothing to count; setting a rate again starts every client afresh.
func (l *Limiter) SetRate(r rate.Limit, burst int) { l.SetRateAt(time.Now(), r, burst) }

// SetRateAt is SetRate at the time now, for callers whose clock (the now
// they pass to Allow) is not time.Now: the tokens earned until now are
// counted at the old rate.
func (l *Limiter) SetRateAt(now time.Time, r rate.Limit, burst int) {
	burst = max(burst, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if r <= 0 || r == rate.Inf {
		l.off.Store(true)
		l.limit, l.burst = 0, burst
		clear(l.buckets)
		return
	}
	if r == l.limit && burst == l.burst {
		return
	}
	l.limit, l.burst = r, burst
	for _, b := range l.buckets {
		b.lim.SetLimitAt(now, r)
		b.lim.SetBurstAt(now, burst)
	}
	l.off.Store(false)
}

// Rate returns the rate and burst in force; a rate of 0 means no limit.
func (l *Limiter) Rate() (rate.Limit, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.burst
}

// Allow takes a token from c's bucket at now, and reports whether there
// was one. It is Take without the wait.
func (l *Limiter) Allow(c Client, now time.Time) bool {
	_, ok := l.Take(c, now)
	return ok
}

// Take takes a token from c's bucket at now, and reports whether there was
// one. When there was none, wait is how long until c has one again at the
// current rate (for a Retry-After); when c was refused because the table
// is full of other recent clients, it is the time until the next sweep may
// make room for it.
func (l *Limiter) Take(c Client, now time.Time) (wait time.Duration, ok bool) {
	if l.off.Load() {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit == 0 {
		return 0, true // switched off since the check above
	}
	if since := now.Sub(l.lastSweep); since >= sweepEvery || len(l.buckets) >= MaxClients && since >= fullSweepEvery {
		l.sweep(now)
	}
	b := l.buckets[c]
	if b == nil {
		if len(l.buckets) >= MaxClients {
			return max(fullSweepEvery-now.Sub(l.lastSweep), time.Millisecond), false
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[c] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return 0, true
	}
	// Rounded up: a client told to come back must find its token there.
	missing := 1 - b.lim.TokensAt(now)
	return time.Duration(math.Ceil(missing / float64(l.limit) * float64(time.Second))), false
}

// Len returns the number of clients remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// sweep forgets the buckets idle for at least the time an empty bucket
// takes to fill: they are full, as a new one would be.
func (l *Limiter) sweep(now time.Time) {
	fill := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	for c, b := range l.buckets {
		if now.Sub(b.seen) >= fill {
			delete(l.buckets, c)
		}
	}
	l.lastSweep = now
}
