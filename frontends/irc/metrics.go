package irc

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/ops/metric"
)

// metrics are the bot's counters, registered on Config.Metrics when set.
type metrics struct {
	commands  *prometheus.CounterVec // answered, by command kind
	dropped   *prometheus.CounterVec // ignored requests, by reason
	connects  prometheus.Counter     // connection attempts
	connected prometheus.Gauge       // 1 while registered on the server
}

// The label values, each made at zero when the bot starts
// (metric.CounterVecKnown).
var (
	commandKinds = []string{chat.KindRandom, chat.KindSearch, chat.KindByID, chat.KindToday, chat.KindHelp, chat.KindStats, chat.KindInfo, chat.KindAdd, chat.KindGrab, chat.KindDelete, chat.KindEdit, chat.KindApprove, chat.KindReject, chat.KindPending}
	dropReasons  = []string{chat.DropUserCooldown, chat.DropRoomCooldown, chat.DropQueueFull, chat.DropDailyCap}
)

func newMetrics(reg prometheus.Registerer) *metrics {
	r := metric.For(reg, "irc")
	return &metrics{
		commands:  r.CounterVecKnown("commands_total", "IRC commands answered, by kind (random, search, id, today, help, stats, info, add, grab, delete, edit, approve, reject, pending).", metric.Each(commandKinds...), "command"),
		dropped:   r.CounterVecKnown("dropped_total", "IRC requests ignored in silence, by reason (user_cooldown, channel_cooldown, queue_full, daily_cap).", metric.Each(dropReasons...), "reason"),
		connects:  r.Counter("connects_total", "Connection attempts to the IRC server."),
		connected: r.Gauge("connected", "1 while the bot is registered on the IRC server."),
	}
}
