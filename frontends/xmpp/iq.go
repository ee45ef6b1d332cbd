package xmpp

// IQs addressed to the bot: XEP-0199 pings and XEP-0092 software version.
// Anything else mellium answers with service-unavailable, as RFC 6120
// wants every get and set answered.

import (
	"encoding/xml"
	"fmt"
	"strings"

	"mellium.im/xmlstream"
)

// iq answers a ping at once, and a version query if the version's
// cooldown allows (else mellium's service-unavailable answers it: the
// bot's name is not worth more than one answer per VersionPeriod).
func (s *session) iq(t xmlstream.TokenReadEncoder, e *element) error {
	if e.attr("type") != "get" {
		return nil
	}
	id, from := e.attr("id"), e.attr("from")
	var payload string
	switch {
	case e.child(nsPing, "ping") != nil:
	case e.child(nsVersion, "query") != nil:
		if !s.b.core.versionCD.Allow("") {
			s.b.stats.Dropped.WithLabelValues(dropVersionRate).Inc()
			return nil
		}
		payload = fmt.Sprintf(`<query xmlns="%s"><name>quotesd</name><version>%s</version></query>`, nsVersion, escape(clean(s.b.version())))
	default:
		return nil
	}
	to := ""
	if from != "" {
		to = ` to="` + escape(from) + `"`
	}
	raw := fmt.Sprintf(`<iq type="result" id="%s"%s>%s</iq>`, escape(id), to, payload)
	return copyTokens(t, raw)
}

// copyTokens writes raw, XML, to w.
func copyTokens(w xmlstream.TokenWriter, raw string) error {
	d := xml.NewDecoder(strings.NewReader(raw))
	for {
		tok, err := d.Token()
		if tok == nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.EncodeToken(tok); err != nil {
			return err
		}
	}
}
