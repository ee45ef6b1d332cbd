package xmpp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/ops/metric"
)

// metrics are the bot's counters, registered on Config.Metrics when set.
type metrics struct {
	dropped   *prometheus.CounterVec // ignored requests, by reason
	sent      prometheus.Counter     // stanzas sent
	connects  prometheus.Counter     // connection attempts
	connected prometheus.Gauge       // 1 while the session is up
}

// Reasons a request is ignored, as the "reason" label of
// quotesd_xmpp_dropped_total.
// The chat core's (chat.DropUserCooldown, ...) and the XMPP bot's own.
const (
	dropVersionRate = "version_rate" // a version query past --xmpp-version-interval
	dropTooBig      = "too_big"      // a stanza past Config.MaxStanza
)

var dropReasons = []string{chat.DropUserCooldown, chat.DropRoomCooldown, chat.DropQueueFull, dropVersionRate, dropTooBig}

func newMetrics(reg prometheus.Registerer) *metrics {
	r := metric.For(reg, "xmpp")
	return &metrics{
		dropped:   r.CounterVecKnown("dropped_total", "XMPP requests ignored in silence, by reason (user_cooldown, channel_cooldown, queue_full, version_rate, too_big).", metric.Each(dropReasons...), "reason"),
		sent:      r.Counter("sent_total", "Stanzas the XMPP bot sent."),
		connects:  r.Counter("connects_total", "Connection attempts to the XMPP server."),
		connected: r.Gauge("connected", "1 while the XMPP bot's session is up."),
	}
}
