package irc

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
)

// metrics are the bot's counters, registered on Config.Metrics when set:
// those of every chat frontend (commands, dropped), and the connection's.
type metrics struct {
	commands  *prometheus.CounterVec // answered, by command kind
	dropped   *prometheus.CounterVec // ignored requests, by reason
	connects  prometheus.Counter     // connection attempts
	connected prometheus.Gauge       // 1 while registered on the server
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := chat.NewMetrics(reg, "irc", "IRC")
	return &metrics{
		commands:  m.Commands,
		dropped:   m.Dropped,
		connects:  m.Sub.Counter("connects_total", "Connection attempts to the IRC server."),
		connected: m.Sub.Gauge("connected", "1 while the bot is registered on the IRC server."),
	}
}
