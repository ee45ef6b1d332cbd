package irc

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Every command kind and drop reason exists at zero from the start, so
// that an alert on increase(...) sees the first event after a restart.
func TestMetrics_EveryKnownSeriesExistsAtZeroFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	newMetrics(reg)
	want := `# HELP quotesd_irc_commands_total IRC commands answered, by kind (random, search, id, today, help, stats, info, add, grab, delete, edit, approve, reject, pending).
# TYPE quotesd_irc_commands_total counter
quotesd_irc_commands_total{command="add"} 0
quotesd_irc_commands_total{command="approve"} 0
quotesd_irc_commands_total{command="delete"} 0
quotesd_irc_commands_total{command="edit"} 0
quotesd_irc_commands_total{command="grab"} 0
quotesd_irc_commands_total{command="help"} 0
quotesd_irc_commands_total{command="id"} 0
quotesd_irc_commands_total{command="info"} 0
quotesd_irc_commands_total{command="pending"} 0
quotesd_irc_commands_total{command="random"} 0
quotesd_irc_commands_total{command="reject"} 0
quotesd_irc_commands_total{command="search"} 0
quotesd_irc_commands_total{command="stats"} 0
quotesd_irc_commands_total{command="today"} 0
# HELP quotesd_irc_connects_total Connection attempts to the IRC server.
# TYPE quotesd_irc_connects_total counter
quotesd_irc_connects_total 0
# HELP quotesd_irc_dropped_total IRC requests ignored in silence, by reason (user_cooldown, channel_cooldown, queue_full, daily_cap).
# TYPE quotesd_irc_dropped_total counter
quotesd_irc_dropped_total{reason="channel_cooldown"} 0
quotesd_irc_dropped_total{reason="daily_cap"} 0
quotesd_irc_dropped_total{reason="queue_full"} 0
quotesd_irc_dropped_total{reason="user_cooldown"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "quotesd_irc_commands_total", "quotesd_irc_connects_total", "quotesd_irc_dropped_total"); err != nil {
		t.Error(err)
	}
}
