package irc

import (
	"github.com/prometheus/client_golang/prometheus"

	"quotesd/ops/metric"
)

// metrics are the bot's counters, registered on Config.Metrics when set.
type metrics struct {
	commands  *prometheus.CounterVec // answered, by command kind
	dropped   *prometheus.CounterVec // ignored requests, by reason
	connects  prometheus.Counter     // connection attempts
	connected prometheus.Gauge       // 1 while registered on the server
}

func newMetrics(reg prometheus.Registerer) *metrics {
	r := metric.For(reg, "irc")
	return &metrics{
		commands:  r.CounterVec("commands_total", "IRC commands answered, by kind (random, search, id, today, help).", "command"),
		dropped:   r.CounterVec("dropped_total", "IRC requests ignored in silence, by reason (user_cooldown, channel_cooldown, queue_full).", "reason"),
		connects:  r.Counter("connects_total", "Connection attempts to the IRC server."),
		connected: r.Gauge("connected", "1 while the bot is registered on the IRC server."),
	}
}
