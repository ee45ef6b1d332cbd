package publish

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/ops/metric"
)

// metrics are the publisher's, per target, registered on Config.Metrics.
type metrics struct {
	sent        *prometheus.CounterVec // posts the service took
	failed      *prometheus.CounterVec // attempts that failed, by whether they are retried
	lastSuccess *prometheus.GaugeVec   // when the last post was taken, in Unix seconds
}

// The "outcome" label of quotesd_publish_failed_total: a failure that is
// tried again later, or a post given up (refused by the service, or the
// day over).
const (
	failRetried = "retried"
	failGivenUp = "given_up"
)

func newMetrics(reg prometheus.Registerer, targets []string) *metrics {
	r := metric.For(reg, "publish")
	m := &metrics{
		sent:        r.CounterVecKnown("sent_total", "Daily posts a target's service took, by target (--publish NAME).", metric.Each(targets...), "target"),
		failed:      r.CounterVecKnown("failed_total", "Daily post attempts that failed, by target and outcome (retried: tried again later; given_up: refused by the service, or the day ended first).", metric.Cross(targets, []string{failRetried, failGivenUp}), "target", "outcome"),
		lastSuccess: r.GaugeVec("last_success_timestamp_seconds", "When a target's service last took a daily post, in Unix seconds; 0 before the first since start.", "target"),
	}
	for _, t := range targets {
		m.lastSuccess.WithLabelValues(t) // served at 0 from the start, as the counters
	}
	return m
}
