// Package metric is the one way quotesd names and registers its Prometheus
// metrics, so that every frontend's series look alike on the operations
// listener's /metrics and no frontend repeats the registration dance.
//
// The convention (docs/OPERATIONS.md lists every metric):
//
//   - Every name is quotesd_<subsystem>_<name>: Namespace, then the
//     frontend (qotd, web, smtp, irc), then a snake_case name ending in
//     _total for counters and in the base unit (_seconds, _bytes) where
//     there is one. The few metrics of the process as a whole, not of a
//     frontend, have no subsystem: quotesd_<name> (quotesd_build_info).
//   - Label names are snake_case. Label values that are quotesd's own
//     identifiers (a reason, a protocol, a command kind) are snake_case
//     too; values that come from elsewhere keep their own form: an HTTP
//     method or status code, a route pattern, a TLS version's name, a
//     commit or a Go release.
//   - Registries are injected, never global: a nil registry registers
//     nothing, and a second registration of the same metric (a component
//     started again on the process's registry, a handler rebuilt on
//     reload) gets the collector already registered, so its counts go on.
//
// Names and label names are checked here, at registration; a metric
// that breaks the convention or clashes with another is a bug, and
// registering it panics naming it, as prometheus.MustRegister would.
// Label values are checked by a test of a serving process's exposition
// (metrictest.Lint).
//
// A counter's series whose label values are known in advance exist from
// the start, at zero (CounterVecKnown), so that an alert on its increase
// sees the first event after a restart.
package metric

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace is the first part of every quotesd metric's name.
const Namespace = "quotesd"

// snake is a snake_case name: lower-case letters, digits and single
// underscores, starting with a letter.
var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Subsystem makes and registers the metrics of one part of quotesd,
// named quotesd_<subsystem>_<name>, or quotesd_<name> for the process's
// own. The zero value registers nothing and names metrics without a
// subsystem; use For.
type Subsystem struct {
	reg  prometheus.Registerer
	name string
}

// For returns the registrar of subsystem's metrics on reg; reg nil makes
// working collectors that are registered nowhere (a frontend run without
// a registry, as in tests). Subsystem "" is the process as a whole, for
// the metrics that belong to no frontend: they are named quotesd_<name>.
func For(reg prometheus.Registerer, subsystem string) Subsystem {
	if subsystem != "" && !snake.MatchString(subsystem) {
		panic(fmt.Sprintf("metric: subsystem %q is not snake_case", subsystem))
	}
	return Subsystem{reg: reg, name: subsystem}
}

// Counter registers a counter; name must end in _total.
func (s Subsystem) Counter(name, help string) prometheus.Counter {
	s.check(name, "counter", nil)
	return register(s, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: s.name, Name: name, Help: help,
	}))
}

// CounterVec registers a counter with labels; name must end in _total.
func (s Subsystem) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	s.check(name, "counter", labels)
	return register(s, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: s.name, Name: name, Help: help,
	}, labels))
}

// Known lists the series of a labelled counter that are known in advance:
// one entry per series, its label values in the order of the counter's
// labels. See CounterVecKnown.
type Known [][]string

// Each is the known series of a counter with one label: one per value.
func Each(values ...string) Known {
	k := make(Known, len(values))
	for i, v := range values {
		k[i] = []string{v}
	}
	return k
}

// Cross is the known series of a counter with several labels when every
// value of each goes with every value of the others: Cross({tcp, udp},
// {rate}) is {tcp, rate} and {udp, rate}. Where only some combinations
// occur, append the Cross of each part.
func Cross(values ...[]string) Known {
	k := Known{nil}
	for _, vs := range values {
		next := make(Known, 0, len(k)*len(vs))
		for _, prefix := range k {
			for _, v := range vs {
				next = append(next, append(prefix[:len(prefix):len(prefix)], v))
			}
		}
		k = next
	}
	return k
}

// CounterVecKnown registers a counter with labels, as CounterVec, and
// makes each of its known series at once, at zero (or at its count, when
// the counter was registered already). A series that first appears with
// the event it counts has no earlier sample, so Prometheus's increase()
// and rate() see no change and an alert on them misses that first event
// after every restart; made in advance, the series shows it. Declare
// every series a frontend can count when their label values are
// quotesd's own (reasons, protocols, commands); a series with the wrong
// number of values is a bug and panics naming the metric.
func (s Subsystem) CounterVecKnown(name, help string, known Known, labels ...string) *prometheus.CounterVec {
	c := s.CounterVec(name, help, labels...)
	for _, values := range known {
		if _, err := c.GetMetricWithLabelValues(values...); err != nil {
			panic(fmt.Sprintf("metric: %s: known series %q: %v", prometheus.BuildFQName(Namespace, s.name, name), values, err))
		}
	}
	return c
}

// Gauge registers a gauge.
func (s Subsystem) Gauge(name, help string) prometheus.Gauge {
	s.check(name, "gauge", nil)
	return register(s, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: s.name, Name: name, Help: help,
	}))
}

// GaugeVec registers a gauge with labels.
func (s Subsystem) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	s.check(name, "gauge", labels)
	return register(s, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: s.name, Name: name, Help: help,
	}, labels))
}

// GaugeFunc registers a gauge whose value is f's, asked at each scrape: f
// must be quick and safe to call from any goroutine. Registered again, the
// gauge keeps the first registration's f, so register it once per process
// or give it an f that reads what every registration shares.
func (s Subsystem) GaugeFunc(name, help string, f func() float64) prometheus.GaugeFunc {
	s.check(name, "gauge", nil)
	return register(s, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: s.name, Name: name, Help: help,
	}, f))
}

// HistogramVec registers a histogram with labels and the given buckets.
func (s Subsystem) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	s.check(name, "histogram", labels)
	return register(s, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: s.name, Name: name, Help: help, Buckets: buckets,
	}, labels))
}

// check panics if name or a label breaks the convention: a programming
// error, found by any test that builds the frontend.
func (s Subsystem) check(name, kind string, labels []string) {
	full := prometheus.BuildFQName(Namespace, s.name, name)
	if !snake.MatchString(name) {
		panic(fmt.Sprintf("metric: %s: the name is not snake_case", full))
	}
	if strings.HasSuffix(name, "_total") != (kind == "counter") {
		panic(fmt.Sprintf("metric: %s: a %s's name ends in _total if and only if it is a counter", full, kind))
	}
	for _, l := range labels {
		if !snake.MatchString(l) {
			panic(fmt.Sprintf("metric: %s: label %q is not snake_case", full, l))
		}
	}
}

// register adds c to s's registry, or returns the collector registered
// already under the same name, labels and help. Anything else (the same
// name with other labels, say) is a bug and panics naming the metric.
func register[C prometheus.Collector](s Subsystem, c C) C {
	if s.reg == nil {
		return c
	}
	err := s.reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Sprintf("metric: registering %s metrics: %v", prometheus.BuildFQName(Namespace, s.name, "*"), err))
}
