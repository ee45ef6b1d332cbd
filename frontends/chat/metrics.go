package chat

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/ops/metric"
)

// Reasons a request is dropped in silence, as the "reason" label of a chat
// frontend's dropped_total counter.
const (
	DropUserCooldown = "user_cooldown"    // the user asked too recently
	DropRoomCooldown = "channel_cooldown" // the room was answered too recently (IRC named it first)
	DropQueueFull    = "queue_full"       // the bot's output queue is full
	DropDailyCap     = "daily_cap"        // the person made their day's changes
)

// Kinds are the command kinds, DropReasons the drop reasons: each is made
// at zero when a frontend starts (metric.CounterVecKnown), so that an
// alert on increase(...) sees the first event after a restart.
var (
	Kinds       = []string{KindRandom, KindSearch, KindByID, KindToday, KindHelp, KindStats, KindInfo, KindAdd, KindGrab, KindDelete, KindEdit, KindApprove, KindReject, KindPending}
	DropReasons = []string{DropUserCooldown, DropRoomCooldown, DropQueueFull, DropDailyCap}
)

// Metrics are the counters every chat frontend keeps, named after it:
// quotesd_<name>_commands_total by command kind and
// quotesd_<name>_dropped_total by reason. Sub is the frontend's metric
// subsystem, for the metrics that are its own (IRC's connects_total).
type Metrics struct {
	Sub      metric.Subsystem
	Commands *prometheus.CounterVec // answered, by command kind
	Dropped  *prometheus.CounterVec // ignored in silence, by reason
}

// NewMetrics registers a chat frontend's counters on reg (none when nil)
// under name ("irc", "xmpp"); title names the frontend in the help texts
// ("IRC", "XMPP").
func NewMetrics(reg prometheus.Registerer, name, title string) *Metrics {
	r := metric.For(reg, name)
	return &Metrics{
		Sub:      r,
		Commands: r.CounterVecKnown("commands_total", title+" commands answered, by kind ("+strings.Join(Kinds, ", ")+").", metric.Each(Kinds...), "command"),
		Dropped:  r.CounterVecKnown("dropped_total", title+" requests ignored in silence, by reason ("+strings.Join(DropReasons, ", ")+").", metric.Each(DropReasons...), "reason"),
	}
}
