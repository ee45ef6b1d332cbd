package irc

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)} }

func TestCooldown_OneEventPerPeriodPerKey(t *testing.T) {
	clk := newFakeClock()
	c := newCooldown(10*time.Second, clk.now)
	if !c.allow("alice") {
		t.Fatal("first request refused")
	}
	if c.allow("alice") {
		t.Error("second request within the cooldown allowed")
	}
	if !c.allow("bob") {
		t.Error("another user's request refused")
	}
	clk.add(9 * time.Second)
	if c.allow("alice") {
		t.Error("request after 9s of a 10s cooldown allowed")
	}
	clk.add(time.Second)
	if !c.allow("alice") {
		t.Error("request after the cooldown refused")
	}
}

func TestCooldown_UndoGivesTheTurnBack(t *testing.T) {
	c := newCooldown(time.Minute, newFakeClock().now)
	c.allow("alice")
	c.undo("alice")
	if !c.allow("alice") {
		t.Error("request after undo refused")
	}
}

func TestCooldown_ZeroPeriodAllowsAll(t *testing.T) {
	c := newCooldown(0, nil)
	for i := 0; i < 3; i++ {
		if !c.allow("x") {
			t.Fatal("refused with no cooldown")
		}
	}
}

func TestCooldown_SweepsExpiredKeys(t *testing.T) {
	clk := newFakeClock()
	c := newCooldown(time.Second, clk.now)
	for i := 0; i < maxCooldownKeys; i++ {
		c.allow(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	clk.add(2 * time.Second)
	c.allow("new")
	if n := len(c.last); n != 1 {
		t.Errorf("%d keys kept after the sweep, want 1", n)
	}
}

func TestBackoff_GrowsWithJitterCapsAndResets(t *testing.T) {
	b := backoff{Min: time.Second, Max: 10 * time.Second, rand: func() float64 { return 0.999999 }}
	var got []time.Duration
	for i := 0; i < 6; i++ {
		got = append(got, b.next().Round(time.Millisecond))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits with maximal jitter = %v, want %v", got, want)
		}
	}
	b.rand = func() float64 { return 0 }
	if d := b.next(); d != 5*time.Second {
		t.Errorf("wait with minimal jitter at the cap = %v, want half of it, 5s", d)
	}
	b.reset()
	if d := b.next(); d != 500*time.Millisecond {
		t.Errorf("wait after reset = %v, want 500ms (half of Min with minimal jitter)", d)
	}
}

func TestAltNick(t *testing.T) {
	for _, tt := range []struct {
		nick string
		n    int
		want string
	}{{"quotesd", 1, "quotesd1"}, {"quotesd", 12, "quotesd12"}, {"averylongnick", 3, "averylon3"}} {
		if got := altNick(tt.nick, tt.n); got != tt.want {
			t.Errorf("altNick(%q, %d) = %q, want %q", tt.nick, tt.n, got, tt.want)
		}
	}
}
