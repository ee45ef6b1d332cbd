package chat_test

import (
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

func TestCooldown_OneEventPerPeriodPerKey(t *testing.T) {
	clk := at(12)
	c := chat.NewCooldown(10*time.Second, clk.now)
	if !c.Allow("alice") {
		t.Fatal("first request refused")
	}
	if c.Allow("alice") {
		t.Error("second request within the cooldown allowed")
	}
	if !c.Allow("bob") {
		t.Error("another user's request refused")
	}
	clk.add(9 * time.Second)
	if c.Allow("alice") {
		t.Error("request after 9s of a 10s cooldown allowed")
	}
	clk.add(time.Second)
	if !c.Allow("alice") {
		t.Error("request after the cooldown refused")
	}
}

func TestCooldown_UndoGivesTheTurnBack(t *testing.T) {
	c := chat.NewCooldown(time.Minute, at(12).now)
	c.Allow("alice")
	c.Undo("alice")
	if !c.Allow("alice") {
		t.Error("request after Undo refused")
	}
}

func TestCooldown_ZeroPeriodAllowsAll(t *testing.T) {
	c := chat.NewCooldown(0, nil)
	for i := 0; i < 3; i++ {
		if !c.Allow("x") {
			t.Fatal("refused with no cooldown")
		}
	}
}

func TestCooldown_SweepsExpiredKeys(t *testing.T) {
	clk := at(12)
	c := chat.NewCooldown(time.Second, clk.now)
	for i := 0; i < chat.MaxKeys; i++ {
		c.Allow(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	clk.add(2 * time.Second)
	c.Allow("new")
	if n := c.Keys(); n != 1 {
		t.Errorf("%d keys kept after the sweep, want 1", n)
	}
}

func TestCooldown_SetPeriodKeepsTheLastEvents(t *testing.T) {
	clk := at(12)
	c := chat.NewCooldown(time.Minute, clk.now)
	c.Allow("alice")
	c.SetPeriod(10 * time.Second)
	if c.Allow("alice") {
		t.Error("allowed at once after the period shrank: the last event was forgotten")
	}
	clk.add(10 * time.Second)
	if !c.Allow("alice") {
		t.Error("refused after the new, shorter period")
	}
}

func TestCooldowns_RoomRefusalLeavesTheUsersTurn(t *testing.T) {
	clk := at(12)
	cd := chat.NewCooldowns(10*time.Second, 5*time.Second, clk.now)
	if ok, _ := cd.Allow("alice", "#q"); !ok {
		t.Fatal("first request refused")
	}
	if ok, why := cd.Allow("alice", "#q"); ok || why != chat.DropUserCooldown {
		t.Errorf("alice again: ok %v, reason %q; want refused for %q", ok, why, chat.DropUserCooldown)
	}
	if ok, why := cd.Allow("bob", "#q"); ok || why != chat.DropRoomCooldown {
		t.Errorf("bob in the busy room: ok %v, reason %q; want refused for %q", ok, why, chat.DropRoomCooldown)
	}
	if ok, _ := cd.Allow("bob", ""); !ok {
		t.Error("bob's direct message refused: the room's refusal took his turn")
	}
}

func TestDailyCap_CountsPerPersonAndDayAndTellsOnce(t *testing.T) {
	c := chat.NewDailyCap()
	day := quoter.Date{Year: 2026, Month: 12, Day: 7}
	for i := 0; i < 3; i++ {
		if ok, _ := c.Take("alice", day, 3); !ok {
			t.Fatalf("change %d refused, want 3 allowed", i+1)
		}
	}
	if ok, first := c.Take("alice", day, 3); ok || !first {
		t.Errorf("4th change: ok %v, first refusal %v; want refused, and told", ok, first)
	}
	if ok, first := c.Take("alice", day, 3); ok || first {
		t.Errorf("5th change: ok %v, first refusal %v; want refused in silence", ok, first)
	}
	if ok, _ := c.Take("bob", day, 3); !ok {
		t.Error("bob's first change refused: the cap is per person")
	}
	if ok, _ := c.Take("alice", day.AddDays(1), 3); !ok {
		t.Error("alice refused the next day: the cap is per day")
	}
	if ok, _ := c.Take("alice", day.AddDays(1), 0); !ok {
		t.Error("a cap of 0 refused a change; 0 means no limit")
	}
}

func TestBackoff_GrowsWithJitterCapsAndResets(t *testing.T) {
	b := chat.Backoff{Min: time.Second, Max: 10 * time.Second, Rand: func() float64 { return 0.999999 }}
	var got []time.Duration
	for i := 0; i < 6; i++ {
		got = append(got, b.Next().Round(time.Millisecond))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits with maximal jitter = %v, want %v", got, want)
		}
	}
	b.Rand = func() float64 { return 0 }
	if d := b.Next(); d != 5*time.Second {
		t.Errorf("wait with minimal jitter at the cap = %v, want half of it, 5s", d)
	}
	b.Reset()
	if d := b.Next(); d != 500*time.Millisecond {
		t.Errorf("wait after Reset = %v, want 500ms (half of Min with minimal jitter)", d)
	}
}
