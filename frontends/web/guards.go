package web

import (
	"crypto/sha256"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
)

// The budgets of the requests that cost more than reading: sign-in
// attempts, each a password hash to verify (and a guess to slow down),
// and public submissions, each a row for a curator to read. Fixed rather
// than settings: they are about abuse, not about load.
const (
	// SignInBurst attempts a client may make at once, then one per
	// SignInEvery: five wrong passwords in a row, and the sixth attempt
	// waits.
	SignInBurst = 5
	SignInEvery = time.Minute
	// CuratorBurst attempts against one curator's name, from every client
	// together, then one per SignInEvery: a guesser with many addresses
	// gets no further with one account than that.
	CuratorBurst = 10
	// SubmitBurst submissions (and subscriptions by the web form) a
	// client may send at once, then one per SubmitEvery.
	SubmitBurst = 5
	SubmitEvery = 10 * time.Minute
)

// Guards holds the budgets of sign-in attempts, per client and per
// curator, and of public submissions per client (see limits.Limiter).
type Guards struct {
	signIn  *limits.Limiter // per client
	curator *limits.Limiter // per curator name (see curatorClient)
	submit  *limits.Limiter // per client
	// subscribe is the budget of the /subscribe form per client: each
	// may cost someone a confirmation request.
	subscribe *limits.Limiter

	// The RateLimit-* fields of each budget's 429: a token bucket of burst
	// b refilled one per e is a quota of b requests per b×e.
	signInQuota, curatorQuota, submitQuota rateQuota
}

// NewGuards returns guards with every budget full.
func NewGuards() *Guards {
	every := func(d time.Duration) rate.Limit { return rate.Every(d) }
	return &Guards{
		signIn:    limits.NewLimiter(every(SignInEvery), SignInBurst),
		curator:   limits.NewLimiter(every(SignInEvery), CuratorBurst),
		submit:    limits.NewLimiter(every(SubmitEvery), SubmitBurst),
		subscribe: limits.NewLimiter(every(SubmitEvery), SubmitBurst),

		signInQuota:  newRateQuota(SignInBurst, SignInBurst*SignInEvery),
		curatorQuota: newRateQuota(CuratorBurst, CuratorBurst*SignInEvery),
		submitQuota:  newRateQuota(SubmitBurst, SubmitBurst*SubmitEvery),
	}
}

// curatorClient is the key of a curator's name in the per-curator limiter:
// limits.Limiter counts per limits.Client, so each name is given a client
// of its own, an IPv6 /64 in the unique-local range made of the name's
// hash, which no real client's address can be (the web never sees fd00::/8
// peers that it would count in this limiter).
func curatorClient(name string) limits.Client {
	sum := sha256.Sum256([]byte(name))
	var a [16]byte
	a[0] = 0xfd
	copy(a[1:8], sum[:7])
	return limits.ClientOf(netip.AddrFrom16(a))
}
