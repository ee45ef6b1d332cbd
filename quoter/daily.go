package quoter

import "math/bits"

// DailyIndex returns the position, in [0, n), of the quote shown on day
// number day (see Date.DayNumber) in a library of n quotes whose shuffle is
// keyed by seed.
//
// The sequence is periodic with period n and each period is one fixed
// permutation of [0, n): over any n consecutive days every position appears
// exactly once. A hash per day would repeat quotes within days and leave
// others unseen for months; a permutation cannot. The permutation is a
// four-round Feistel network over the smallest power of four >= n, with
// cycle walking to stay inside [0, n): O(1) time and memory whatever n is,
// and the same answer in every process that has the same seed and count.
func DailyIndex(seed uint64, day int64, n int) int {
	if n <= 0 {
		return 0
	}
	i := day % int64(n)
	if i < 0 {
		i += int64(n)
	}
	return int(permute(seed, uint64(i), uint64(n)))
}

// permute is a bijection of [0, n) keyed by seed.
func permute(seed, x, n uint64) uint64 {
	w := bits.Len64(n - 1)
	if w < 2 {
		w = 2
	}
	w += w & 1 // even width: two halves of w/2 bits
	half := uint(w / 2)
	mask := uint64(1)<<half - 1
	for {
		l, r := x>>half, x&mask
		for round := uint64(0); round < 4; round++ {
			l, r = r, l^(mix(seed^round*0x9e3779b97f4a7c15^r)&mask)
		}
		x = l<<half | r
		if x < n { // cycle walking: x started below n, so this ends
			return x
		}
	}
}

// mix is the splitmix64 finaliser: a cheap, well-distributed 64-bit hash.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
