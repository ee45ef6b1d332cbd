package limits_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
)

// t0 is the limiter tests' clock at their start.
var t0 = time.Date(2026, 5, 17, 10, 0, 0, 0, time.UTC)

func client(addr string) limits.Client { return limits.ClientOf(netip.MustParseAddr(addr)) }

// spend takes n tokens from c at now, failing the test if one is refused.
func spend(t *testing.T, l *limits.Limiter, c limits.Client, now time.Time, n int) {
	t.Helper()
	for i := range n {
		if !l.Allow(c, now) {
			t.Fatalf("%s: token %d of %d refused", c, i+1, n)
		}
	}
}

func wantRefused(t *testing.T, l *limits.Limiter, c limits.Client, now time.Time, why string) {
	t.Helper()
	if l.Allow(c, now) {
		t.Errorf("%s let through at %v, want refused: %s", c, now.Sub(t0), why)
	}
}

func wantAllowed(t *testing.T, l *limits.Limiter, c limits.Client, now time.Time, why string) {
	t.Helper()
	if !l.Allow(c, now) {
		t.Errorf("%s refused at %v, want let through: %s", c, now.Sub(t0), why)
	}
}

func TestLimiter_EachClientHasItsOwnBurstThenTheRate(t *testing.T) {
	l := limits.NewLimiter(1, 3) // one a second, three at once
	a, b := client("192.0.2.1"), client("192.0.2.2")
	spend(t, l, a, t0, 3)
	wantRefused(t, l, a, t0, "its burst of 3 is spent")
	spend(t, l, b, t0, 3)
	wantRefused(t, l, a, t0.Add(999*time.Millisecond), "its next token is due at 1s")
	wantAllowed(t, l, a, t0.Add(time.Second), "one token a second")
	wantRefused(t, l, a, t0.Add(time.Second), "the token of 1s is spent")
}

func TestLimiter_AddressesOfOneIPv6Slash64ShareOneBucket(t *testing.T) {
	l := limits.NewLimiter(rate.Every(time.Hour), 2)
	spend(t, l, client("2001:db8:1:2::1"), t0, 2)
	for i := 2; i < 10; i++ {
		wantRefused(t, l, client(fmt.Sprintf("2001:db8:1:2:%x::%x", i*4099, i)), t0, "same /64 as the first address")
	}
	wantAllowed(t, l, client("2001:db8:1:3::1"), t0, "another /64 is another client")
	wantAllowed(t, l, client("::ffff:192.0.2.1"), t0, "an IPv4 client")
	wantAllowed(t, l, client("192.0.2.1"), t0, "the same IPv4 client written plainly: its second token")
	wantRefused(t, l, client("192.0.2.1"), t0, "both tokens of 192.0.2.1 spent, one as ::ffff:192.0.2.1")
}

func TestLimiter_TakeSaysHowLongUntilTheNextToken(t *testing.T) {
	l := limits.NewLimiter(rate.Every(10*time.Second), 1)
	c := client("192.0.2.1")
	if wait, ok := l.Take(c, t0); !ok || wait != 0 {
		t.Fatalf("first Take = %v, %v; want 0, true", wait, ok)
	}
	if wait, ok := l.Take(c, t0.Add(4*time.Second)); ok || wait != 6*time.Second {
		t.Errorf("Take 4s later = %v, %v; want 6s, false", wait, ok)
	}
	if wait, ok := l.Take(c, t0.Add(10*time.Second)); !ok || wait != 0 {
		t.Errorf("Take 10s later = %v, %v; want 0, true", wait, ok)
	}
}

// A SIGHUP applies the settings again, changed or not: a client that has
// spent its budget must not get it back.
func TestLimiter_SetRateKeepsWhatEachClientSpent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     rate.Limit
		burst int
	}{
		{"SameRate", rate.Every(time.Minute), 3},
		{"FasterRate", rate.Every(30 * time.Second), 3},
		{"BiggerBurst", rate.Every(time.Minute), 10},
		{"SlowerRateSmallerBurst", rate.Every(time.Hour), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := limits.NewLimiter(rate.Every(time.Minute), 3)
			spent, fresh := client("192.0.2.1"), client("2001:db8::1")
			spend(t, l, spent, t0, 3)
			l.SetRateAt(t0.Add(time.Second), tc.r, tc.burst)
			wantRefused(t, l, spent, t0.Add(time.Second), "its budget was spent before the new rate")
			if got, burst := l.Rate(); got != tc.r || burst != tc.burst {
				t.Errorf("Rate() = %v, %d; want %v, %d", got, burst, tc.r, tc.burst)
			}
			// A client not seen before starts with the new burst.
			spend(t, l, fresh, t0.Add(2*time.Second), tc.burst)
			wantRefused(t, l, fresh, t0.Add(2*time.Second), "the new burst is spent")
			// The spent client earns its next token at the new rate.
			next := t0.Add(time.Second + time.Duration(float64(time.Second)/float64(tc.r)))
			wantAllowed(t, l, spent, next, "a token earned at the new rate")
		})
	}
}

func TestLimiter_ZeroRateIsNoLimitAndSettingOneAgainStartsAfresh(t *testing.T) {
	l := limits.NewLimiter(0, 1)
	c := client("192.0.2.1")
	spend(t, l, c, t0, 1000)
	if n := l.Len(); n != 0 {
		t.Errorf("with no limit, %d clients remembered, want 0", n)
	}
	l.SetRateAt(t0, rate.Every(time.Hour), 1)
	spend(t, l, c, t0, 1)
	wantRefused(t, l, c, t0, "the limit is back")
	l.SetRateAt(t0, 0, 1)
	spend(t, l, c, t0, 10)
	l.SetRateAt(t0, rate.Every(time.Hour), 1)
	wantAllowed(t, l, c, t0, "turning the limit off forgot what it had spent")
}

func TestLimiter_ForgetsAClientOnlyOnceItsBucketIsFullAgain(t *testing.T) {
	l := limits.NewLimiter(rate.Every(10*time.Minute), 2) // an empty bucket fills in 20 minutes
	spent, other := client("192.0.2.1"), client("192.0.2.2")
	spend(t, l, spent, t0, 2)
	// Another client's request sweeps the table; the spent client is kept.
	wantAllowed(t, l, other, t0.Add(19*time.Minute), "another client's first request")
	if n := l.Len(); n != 2 {
		t.Errorf("%d clients remembered at 19 minutes, want 2 (the spent one's bucket is not full yet)", n)
	}
	// It has earned 1.95 tokens in 19.5 minutes, not a full bucket of 2.
	wantAllowed(t, l, spent, t0.Add(19*time.Minute+30*time.Second), "one token earned back")
	wantRefused(t, l, spent, t0.Add(19*time.Minute+30*time.Second), "only 0.95 tokens left: the sweep kept its bucket")
	// 20 minutes after that, its bucket is full; a sweep forgets it,
	// and it starts again with a full burst, as it would have anyway.
	wantAllowed(t, l, other, t0.Add(41*time.Minute), "the other client's second request")
	if n := l.Len(); n != 1 {
		t.Errorf("%d clients remembered at 41 minutes, want 1 (the first client's bucket was full again)", n)
	}
	spend(t, l, spent, t0.Add(41*time.Minute), 2)
	wantRefused(t, l, spent, t0.Add(41*time.Minute), "its new burst of 2 is spent")
}

func TestLimiter_ConcurrentClientsAndRateChanges(t *testing.T) {
	l := limits.NewLimiter(rate.Every(time.Hour), 5)
	var wg sync.WaitGroup
	allowed := make([]int, 8)
	for g := range allowed {
		wg.Go(func() {
			c := client(fmt.Sprintf("2001:db8:%x::%x", g%4, g)) // two goroutines per /64
			for range 100 {
				if l.Allow(c, t0) {
					allowed[g]++
				}
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			l.SetRateAt(t0, rate.Every(time.Hour), 5)
			l.Rate()
			l.Len()
		}
	})
	wg.Wait()
	for p := range 4 {
		if n := allowed[p] + allowed[p+4]; n != 5 {
			t.Errorf("client 2001:db8:%x::/64 was let through %d times, want its burst of 5", p, n)
		}
	}
}
