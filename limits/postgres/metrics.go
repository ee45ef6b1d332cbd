package postgres

import (
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/ops/metric"
)

// Metrics are the shared limiter's series, on the web frontend's
// subsystem. quotesd serve makes them whenever the web frontend runs, so
// that they exist (at 0) without --web-rate-shared too.
type Metrics struct {
	degraded     prometheus.Gauge
	syncFailures prometheus.Counter
}

// NewMetrics makes the shared limiter's metrics on reg (nil: nowhere).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := metric.For(reg, "web")
	return &Metrics{
		degraded: m.Gauge("rate_shared_degraded",
			"1 while --web-rate-shared cannot reach the database and each replica limits alone"),
		syncFailures: m.Counter("rate_shared_sync_failures_total",
			"syncs of the shared web rate limits with the database that failed"),
	}
}

func (m *Metrics) setDegraded(on bool) {
	if m == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	m.degraded.Set(v)
}

func (m *Metrics) syncFailed() {
	if m != nil {
		m.syncFailures.Inc()
	}
}

// parseClient is the client whose String is s.
func parseClient(s string) (limits.Client, bool) {
	if s == "unknown" {
		return limits.Client{}, true
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return limits.ClientOf(p.Addr()), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return limits.ClientOf(a), true
	}
	return limits.Client{}, false
}
