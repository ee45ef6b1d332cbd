package xmpp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
)

// metrics are the bot's counters, registered on Config.Metrics when set:
// the chat core's (quotesd_xmpp_commands_total, quotesd_xmpp_dropped_total)
// and the XMPP bot's own.
type metrics struct {
	*chat.Metrics
	sent      prometheus.Counter // stanzas sent
	connects  prometheus.Counter // connection attempts
	connected prometheus.Gauge   // 1 while the session is up
}

// The XMPP bot's reasons to drop a request, beside chat.DropReasons, as
// the "reason" label of quotesd_xmpp_dropped_total.
const (
	dropVersionRate = "version_rate" // a version query past --xmpp-version-interval
	dropTooBig      = "too_big"      // a stanza past Config.MaxStanza
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{Metrics: chat.NewMetrics(reg, "xmpp", "XMPP")}
	for _, r := range []string{dropVersionRate, dropTooBig} {
		m.Dropped.WithLabelValues(r) // at zero from the start, as the chat core's
	}
	m.sent = m.Sub.Counter("sent_total", "Stanzas the XMPP bot sent.")
	m.connects = m.Sub.Counter("connects_total", "Connection attempts to the XMPP server.")
	m.connected = m.Sub.Gauge("connected", "1 while the XMPP bot's session is up.")
	return m
}
