package chat_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quotesd/quotesd/frontends/chat"
)

// Every command kind and drop reason exists at zero from the start, named
// after the frontend.
func TestMetrics_NamedPerFrontendWithEveryKnownSeriesAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := chat.NewMetrics(reg, "xmpp", "XMPP")
	m.Commands.WithLabelValues(chat.KindToday).Inc()
	want := `# HELP quotesd_xmpp_commands_total XMPP commands answered, by kind (random, search, id, today, help, stats, info, add, grab, delete, edit, approve, reject, pending).
# TYPE quotesd_xmpp_commands_total counter
quotesd_xmpp_commands_total{command="add"} 0
quotesd_xmpp_commands_total{command="approve"} 0
quotesd_xmpp_commands_total{command="delete"} 0
quotesd_xmpp_commands_total{command="edit"} 0
quotesd_xmpp_commands_total{command="grab"} 0
quotesd_xmpp_commands_total{command="help"} 0
quotesd_xmpp_commands_total{command="id"} 0
quotesd_xmpp_commands_total{command="info"} 0
quotesd_xmpp_commands_total{command="pending"} 0
quotesd_xmpp_commands_total{command="random"} 0
quotesd_xmpp_commands_total{command="reject"} 0
quotesd_xmpp_commands_total{command="search"} 0
quotesd_xmpp_commands_total{command="stats"} 0
quotesd_xmpp_commands_total{command="today"} 1
# HELP quotesd_xmpp_dropped_total XMPP requests ignored in silence, by reason (user_cooldown, channel_cooldown, queue_full, daily_cap).
# TYPE quotesd_xmpp_dropped_total counter
quotesd_xmpp_dropped_total{reason="channel_cooldown"} 0
quotesd_xmpp_dropped_total{reason="daily_cap"} 0
quotesd_xmpp_dropped_total{reason="queue_full"} 0
quotesd_xmpp_dropped_total{reason="user_cooldown"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "quotesd_xmpp_commands_total", "quotesd_xmpp_dropped_total"); err != nil {
		t.Error(err)
	}
	if chat.NewMetrics(nil, "xmpp", "XMPP").Commands == nil {
		t.Error("no counters without a registry")
	}
}
