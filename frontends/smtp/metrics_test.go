package smtp

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Every reason and TLS version the frontend can count exists at zero from
// the start, so that an alert on increase(...) sees the first event after
// a restart.
func TestMetrics_EveryKnownSeriesExistsAtZeroFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	newMetrics(reg)
	want := `# HELP quotesd_smtp_messages_received_total Messages accepted with 250 at the end of DATA.
# TYPE quotesd_smtp_messages_received_total counter
quotesd_smtp_messages_received_total 0
# HELP quotesd_smtp_rejected_total Connections, commands or messages refused, by reason.
# TYPE quotesd_smtp_rejected_total counter
quotesd_smtp_rejected_total{reason="ip_rate"} 0
quotesd_smtp_rejected_total{reason="loop"} 0
quotesd_smtp_rejected_total{reason="max_conns"} 0
quotesd_smtp_rejected_total{reason="max_conns_per_client"} 0
quotesd_smtp_rejected_total{reason="recipient"} 0
quotesd_smtp_rejected_total{reason="size"} 0
# HELP quotesd_smtp_replies_queued_total Replies durably queued for delivery.
# TYPE quotesd_smtp_replies_queued_total counter
quotesd_smtp_replies_queued_total 0
# HELP quotesd_smtp_replies_skipped_total Accepted messages that got no reply, by reason.
# TYPE quotesd_smtp_replies_skipped_total counter
quotesd_smtp_replies_skipped_total{reason="auto_submitted"} 0
quotesd_smtp_replies_skipped_total{reason="bounce"} 0
quotesd_smtp_replies_skipped_total{reason="confirmation_limit"} 0
quotesd_smtp_replies_skipped_total{reason="invalid_sender"} 0
quotesd_smtp_replies_skipped_total{reason="ip_limit"} 0
quotesd_smtp_replies_skipped_total{reason="mailing_list"} 0
quotesd_smtp_replies_skipped_total{reason="malformed"} 0
quotesd_smtp_replies_skipped_total{reason="no_quote"} 0
quotesd_smtp_replies_skipped_total{reason="non_public_domain"} 0
quotesd_smtp_replies_skipped_total{reason="null_sender"} 0
quotesd_smtp_replies_skipped_total{reason="own_address"} 0
quotesd_smtp_replies_skipped_total{reason="precedence"} 0
quotesd_smtp_replies_skipped_total{reason="recipient_limit"} 0
quotesd_smtp_replies_skipped_total{reason="role_sender"} 0
quotesd_smtp_replies_skipped_total{reason="subscription"} 0
quotesd_smtp_replies_skipped_total{reason="suppressed"} 0
# HELP quotesd_smtp_tls_sessions_total Sessions upgraded to TLS with STARTTLS, by TLS version.
# TYPE quotesd_smtp_tls_sessions_total counter
quotesd_smtp_tls_sessions_total{version="TLS 1.2"} 0
quotesd_smtp_tls_sessions_total{version="TLS 1.3"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
