package limits

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A flood from ever new (spoofed) sources fills the table of buckets with
// recent entries. Past that, a new client is refused (fail closed) while
// the clients already known keep their buckets, and the table must not be
// searched for idle entries on every request: that search walks every
// entry (most of a millisecond at MaxClients), so the flood would
// pin a CPU. It runs at most once a second while the table is full, and
// idle entries are still reclaimed.
func TestLimiter_FullTableRefusesNewClientsAndIsSweptAtMostOncePerSecond(t *testing.T) {
	l := NewLimiter(1, 2) // an empty bucket fills in 2 s
	t0 := time.Unix(1_700_000_000, 0)
	addr := func(net byte, i int) Client {
		return ClientOf(netip.AddrFrom4([4]byte{net, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	for i := range MaxClients {
		if !l.Allow(addr(10, i), t0) {
			t.Fatalf("client %d refused before the table was full", i)
		}
	}
	wait, ok := l.Take(addr(11, 0), t0.Add(time.Millisecond))
	if ok {
		t.Error("a new client was let in with the table full of recent ones")
	}
	if wait <= 0 || wait > fullSweepEvery {
		t.Errorf("a new client refused for a full table is told to wait %v, want (0, %v]", wait, fullSweepEvery)
	}
	swept := l.lastSweep
	for i := 1; i < 100; i++ {
		if l.Allow(addr(11, i), t0.Add(time.Duration(1+i)*time.Millisecond)) {
			t.Fatal("a new client was let in with the table full of recent ones")
		}
	}
	if l.lastSweep != swept {
		t.Errorf("table swept again at %v, %v after the last sweep; want at most once a second", l.lastSweep, l.lastSweep.Sub(swept))
	}
	// A known client keeps its bucket while the table is full.
	if !l.Allow(addr(10, 8), t0.Add(500*time.Millisecond)) {
		t.Error("a known client was refused its second token while the table was full")
	}
	if l.Allow(addr(10, 8), t0.Add(600*time.Millisecond)) {
		t.Error("a known client got a third token within 600 ms at one a second")
	}
	// A sweep a second on forgets none of the flood: its buckets are not
	// full again yet, and forgetting them would forgive what they spent.
	if l.Allow(addr(11, 0), t0.Add(1500*time.Millisecond)) {
		t.Error("a new client was let in while the table was full of buckets not yet refilled")
	}
	if l.lastSweep == swept {
		t.Error("the full table was not swept again after a second")
	}
	// Once they are full again (2 s), the next sweep forgets them.
	if !l.Allow(addr(12, 0), t0.Add(3*time.Second)) {
		t.Error("a new client was refused once the old ones were idle")
	}
	if n := l.Len(); n != 1 {
		t.Errorf("%d clients remembered after the sweep, want 1 (the new one)", n)
	}
}

// Changing the rate reaches the buckets already made, not only new ones.
func TestLimiter_SetRateReachesExistingBuckets(t *testing.T) {
	l := NewLimiter(rate.Every(time.Hour), 1)
	c := ClientOf(netip.MustParseAddr("192.0.2.1"))
	t0 := time.Unix(1_700_000_000, 0)
	l.Allow(c, t0)
	l.SetRateAt(t0, 10, 4)
	b := l.buckets[c]
	if b.lim.Limit() != 10 || b.lim.Burst() != 4 {
		t.Errorf("existing bucket: limit %v burst %d, want 10 and 4", b.lim.Limit(), b.lim.Burst())
	}
}
