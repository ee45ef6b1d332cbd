package quoter_test

import (
	"testing"
	"testing/quick"

	"github.com/quotesd/quotesd/quoter"
)

// Over any n consecutive days, a library of n quotes shows each quote once.
func TestDailyIndex_AnyNConsecutiveDaysArePermutation(t *testing.T) {
	prop := func(seed uint64, n16 uint16, start int32) bool {
		n := int(n16%2000) + 1
		seen := make([]bool, n)
		for d := int64(start); d < int64(start)+int64(n); d++ {
			i := quoter.DailyIndex(seed, d, n)
			if i < 0 || i >= n || seen[i] {
				return false
			}
			seen[i] = true
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 300}); err != nil {
		t.Fatal(err)
	}
}

// The same seed, day and count give the same answer: restarts and replicas agree.
func TestDailyIndex_Deterministic(t *testing.T) {
	prop := func(seed uint64, day int32, n16 uint16) bool {
		n := int(n16) + 1
		first := quoter.DailyIndex(seed, int64(day), n)
		return quoter.DailyIndex(seed, int64(day), n) == first
	}
	if err := quick.Check(prop, nil); err != nil {
		t.Fatal(err)
	}
}

// Different libraries (seeds) shuffle differently, and a shuffle is not the identity.
func TestDailyIndex_Shuffles(t *testing.T) {
	const n = 1000
	same, identity := 0, 0
	for d := int64(0); d < n; d++ {
		a, b := quoter.DailyIndex(1, d, n), quoter.DailyIndex(2, d, n)
		if a == b {
			same++
		}
		if a == int(d) {
			identity++
		}
	}
	if same > n/20 || identity > n/20 {
		t.Fatalf("seeds 1 and 2 agree on %d of %d days, seed 1 is identity on %d: want a real shuffle", same, n, identity)
	}
}

func TestDailyIndex_EmptyAndSingle(t *testing.T) {
	if got := quoter.DailyIndex(7, 12345, 0); got != 0 {
		t.Errorf("n=0: got %d, want 0", got)
	}
	if got := quoter.DailyIndex(7, -5, 1); got != 0 {
		t.Errorf("n=1: got %d, want 0", got)
	}
}

func BenchmarkDailyIndex(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(itoa(n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				quoter.DailyIndex(42, int64(i), n)
			}
		})
	}
}
