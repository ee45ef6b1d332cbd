package metric_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quotesd/quotesd/ops/metric"
)

func TestSubsystem_NamesMetricsQuotesdSubsystemName(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metric.For(reg, "qotd")
	m.Counter("connections_total", "Connections.").Inc()
	m.CounterVec("rejected_total", "Rejected.", "proto", "reason").WithLabelValues("tcp", "max_conns").Add(2)
	m.Gauge("connected", "Connected.").Set(1)
	m.GaugeVec("sessions", "Sessions.", "proto").WithLabelValues("tcp").Set(2)
	m.GaugeVec("queue_replies", "Replies.", "state").WithLabelValues("held").Set(2)
	m.GaugeFunc("ready", "Ready.", func() float64 { return 1 })
	m.HistogramVec("duration_seconds", "Time.", []float64{.1, 1}, "proto").WithLabelValues("udp").Observe(.5)
	want := map[string]bool{
		"quotesd_qotd_connections_total": true, "quotesd_qotd_rejected_total": true,
		"quotesd_qotd_connected": true, "quotesd_qotd_duration_seconds": true, "quotesd_qotd_queue_replies": true,
		"quotesd_qotd_ready": true, "quotesd_qotd_sessions": true,
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !want[mf.GetName()] {
			t.Errorf("registered %s, want only %v", mf.GetName(), want)
		}
		delete(want, mf.GetName())
	}
	for name := range want {
		t.Errorf("%s is not registered", name)
	}
}

// The process's own metrics, of no frontend, are quotesd_<name>, and the
// convention holds for them too.
func TestSubsystem_EmptySubsystemNamesMetricsQuotesdName(t *testing.T) {
	reg := prometheus.NewRegistry()
	metric.For(reg, "").GaugeVec("build_info", "Build.", "version").WithLabelValues("v0.1.0").Set(1)
	want := `
# HELP quotesd_build_info Build.
# TYPE quotesd_build_info gauge
quotesd_build_info{version="v0.1.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	defer func() {
		if p, _ := recover().(string); !strings.Contains(p, "quotesd_info_total") {
			t.Errorf("panic %q, want one naming quotesd_info_total", p)
		}
	}()
	metric.For(reg, "").Gauge("info_total", "Not a counter.")
}

// A frontend started again on the process's registry (or a handler
// rebuilt on reload) counts on in the series already served, instead of
// failing or counting into collectors no one gathers.
func TestSubsystem_SecondRegistrationGetsTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := metric.For(reg, "irc").CounterVec("commands_total", "Commands.", "command")
	second := metric.For(reg, "irc").CounterVec("commands_total", "Commands.", "command")
	first.WithLabelValues("help").Inc()
	second.WithLabelValues("help").Inc()
	if got := testutil.ToFloat64(first.WithLabelValues("help")); got != 2 {
		t.Errorf("quotesd_irc_commands_total{command=help} = %v after one count through each registration, want 2", got)
	}
	g1 := metric.For(reg, "irc").Gauge("connected", "Connected.")
	g2 := metric.For(reg, "irc").Gauge("connected", "Connected.")
	g2.Set(1)
	if got := testutil.ToFloat64(g1); got != 1 {
		t.Errorf("quotesd_irc_connected through the first registration = %v, want the 1 set through the second", got)
	}
}

func TestSubsystem_NilRegistryMakesWorkingUnregisteredCollectors(t *testing.T) {
	c := metric.For(nil, "smtp").Counter("replies_queued_total", "Queued.")
	c.Add(3)
	if got := testutil.ToFloat64(c); got != 3 {
		t.Errorf("counter = %v, want 3", got)
	}
}

// Breaking the convention is a bug: it panics at registration, naming the
// metric, so the first test that builds the frontend fails.
func TestSubsystem_RefusesWhatBreaksTheConvention(t *testing.T) {
	for _, tt := range []struct {
		name     string
		register func(metric.Subsystem)
		want     string
	}{
		{"kebab-case label", func(m metric.Subsystem) { m.CounterVec("rejected_total", "R.", "max-conns") }, `label "max-conns"`},
		{"camelCase name", func(m metric.Subsystem) { m.Counter("repliesQueued_total", "R.") }, "quotesd_smtp_repliesQueued_total"},
		{"counter without _total", func(m metric.Subsystem) { m.Counter("replies", "R.") }, "quotesd_smtp_replies: a counter's name ends in _total"},
		{"gauge with _total", func(m metric.Subsystem) { m.Gauge("queued_total", "Q.") }, "quotesd_smtp_queued_total: a gauge's"},
		{"same name, other labels", func(m metric.Subsystem) {
			m.CounterVec("skipped_total", "S.", "reason")
			m.CounterVec("skipped_total", "S.", "why")
		}, "quotesd_smtp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				p, _ := recover().(string)
				if !strings.Contains(p, tt.want) {
					t.Errorf("panic %q, want one naming %q", p, tt.want)
				}
			}()
			tt.register(metric.For(prometheus.NewRegistry(), "smtp"))
		})
	}
}

// A series made in advance is exposed at zero before anything is counted,
// so that increase() sees the first event after a restart.
func TestCounterVecKnown_ExposesEveryKnownSeriesAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	known := append(metric.Cross([]string{"tcp"}, []string{"max_conns", "rate"}),
		metric.Cross([]string{"udp"}, []string{"rate", "loop_port"})...)
	metric.For(reg, "qotd").CounterVecKnown("rejected_total", "Rejected.", known, "proto", "reason")
	want := `# HELP quotesd_qotd_rejected_total Rejected.
# TYPE quotesd_qotd_rejected_total counter
quotesd_qotd_rejected_total{proto="tcp",reason="max_conns"} 0
quotesd_qotd_rejected_total{proto="tcp",reason="rate"} 0
quotesd_qotd_rejected_total{proto="udp",reason="loop_port"} 0
quotesd_qotd_rejected_total{proto="udp",reason="rate"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// Registered again (a frontend restarted, a handler rebuilt on reload),
// the known series keep their counts: making them does not reset them.
func TestCounterVecKnown_SecondRegistrationKeepsTheCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := metric.For(reg, "irc").CounterVecKnown("commands_total", "Commands.", metric.Each("help", "random"), "command")
	first.WithLabelValues("help").Add(2)
	second := metric.For(reg, "irc").CounterVecKnown("commands_total", "Commands.", metric.Each("help", "random"), "command")
	if got := testutil.ToFloat64(second.WithLabelValues("help")); got != 2 {
		t.Errorf(`quotesd_irc_commands_total{command="help"} = %v after a second registration, want the 2 counted before`, got)
	}
	if got := testutil.CollectAndCount(second); got != 2 {
		t.Errorf("%d series, want 2 (help, random)", got)
	}
}

func TestCross_EveryCombinationInOrder(t *testing.T) {
	got := metric.Cross([]string{"a", "b"}, []string{"1", "2"}, []string{"x"})
	want := metric.Known{{"a", "1", "x"}, {"a", "2", "x"}, {"b", "1", "x"}, {"b", "2", "x"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Cross = %v, want %v", got, want)
	}
	if got := metric.Cross([]string{"a"}, nil); len(got) != 0 {
		t.Errorf("Cross with a label of no values = %v, want no series", got)
	}
}

func TestCounterVecKnown_SeriesWithTheWrongNumberOfValuesPanics(t *testing.T) {
	defer func() {
		p, _ := recover().(string)
		if !strings.Contains(p, "quotesd_smtp_rejected_total") || !strings.Contains(p, `"ip_rate" "extra"`) {
			t.Errorf("panic %q, want one naming the metric and the series", p)
		}
	}()
	metric.For(prometheus.NewRegistry(), "smtp").CounterVecKnown("rejected_total", "R.", metric.Known{{"ip_rate", "extra"}}, "reason")
}
