package irc

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bot's counters, registered on Config.Metrics when set.
type metrics struct {
	commands  *prometheus.CounterVec // answered, by command kind
	dropped   *prometheus.CounterVec // ignored requests, by reason
	connects  prometheus.Counter     // connection attempts
	connected prometheus.Gauge       // 1 while registered on the server
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quotesd_irc_commands_total", Help: "IRC commands answered, by kind.",
		}, []string{"command"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quotesd_irc_dropped_total", Help: "IRC requests ignored in silence, by reason (user_cooldown, channel_cooldown, queue_full).",
		}, []string{"reason"}),
		connects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quotesd_irc_connects_total", Help: "Connection attempts to the IRC server.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quotesd_irc_connected", Help: "1 while the bot is registered on the IRC server.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.commands, m.dropped, m.connects, m.connected} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}
