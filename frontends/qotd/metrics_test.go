package qotd

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Every series the frontend can count exists at zero from the start, so
// that an alert on increase(quotesd_qotd_rejected_total[5m]) sees the
// first rejection after a restart; and only the reasons each protocol can
// give are there.
func TestMetrics_EverySeriesExistsAtZeroFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	newMetrics(reg)
	want := `# HELP quotesd_qotd_errors_total QOTD requests that failed (library error, write error), by protocol.
# TYPE quotesd_qotd_errors_total counter
quotesd_qotd_errors_total{proto="tcp"} 0
quotesd_qotd_errors_total{proto="udp"} 0
# HELP quotesd_qotd_rejected_total QOTD requests dropped without a reply, by protocol and reason.
# TYPE quotesd_qotd_rejected_total counter
quotesd_qotd_rejected_total{proto="tcp",reason="max_conns"} 0
quotesd_qotd_rejected_total{proto="tcp",reason="rate"} 0
quotesd_qotd_rejected_total{proto="udp",reason="bad_source"} 0
quotesd_qotd_rejected_total{proto="udp",reason="global_rate"} 0
quotesd_qotd_rejected_total{proto="udp",reason="loop_port"} 0
quotesd_qotd_rejected_total{proto="udp",reason="rate"} 0
# HELP quotesd_qotd_replies_total QOTD replies sent, by protocol.
# TYPE quotesd_qotd_replies_total counter
quotesd_qotd_replies_total{proto="tcp"} 0
quotesd_qotd_replies_total{proto="udp"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
