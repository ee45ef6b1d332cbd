package web

import (
	"net/http"
	"strconv"
	"time"
)

// rateQuota writes the rate limit headers of draft-ietf-httpapi-ratelimit-
// headers (the -07 draft's three fields, which clients and proxies read
// today) on a 429, beside Retry-After:
//
//	RateLimit-Limit: 60            the requests a window allows
//	RateLimit-Remaining: 0         how many are left now: none
//	RateLimit-Reset: 2             seconds until one is (= Retry-After)
//	RateLimit-Policy: 60;w=60      the quota: 60 requests per 60 s window
//
// The limiter is a token bucket (limits.Limiter) that refills one request
// at a time, so the reset is when the next one comes, not when the whole
// quota does.
type rateQuota struct {
	limit, policy []string
}

var rateRemainingNone = []string{"0"}

func newRateQuota(limit int, window time.Duration) rateQuota {
	if limit <= 0 {
		return rateQuota{}
	}
	n := strconv.Itoa(limit)
	return rateQuota{
		limit:  []string{n},
		policy: []string{n + ";w=" + strconv.FormatInt(int64(window/time.Second), 10)},
	}
}

// exhausted sets the headers of a client with no request left for secs.
func (q rateQuota) exhausted(hd http.Header, secs int) {
	s := []string{strconv.Itoa(secs)}
	hd["Retry-After"] = s
	if q.limit == nil {
		return
	}
	hd["Ratelimit-Limit"] = q.limit
	hd["Ratelimit-Remaining"] = rateRemainingNone
	hd["Ratelimit-Reset"] = s
	hd["Ratelimit-Policy"] = q.policy
}
