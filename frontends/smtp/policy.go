package smtp

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Reasons a message gets no reply. They are the values of the reason label
// of the skipped-replies counter and of the reason attribute in logs, so
// they stay short, stable and snake_case, as package metric has label
// values that are quotesd's own. The daily reply caps, which the queue
// checks as it commits, give theirs: queue.SkipRecipientLimit and
// queue.SkipIPLimit.
const (
	SkipNullSender    = "null_sender"    // MAIL FROM:<>, a bounce (RFC 3834 §2)
	SkipInvalidSender = "invalid_sender" // the reverse path is not an address we can answer
	SkipAutoSubmitted = "auto_submitted" // Auto-Submitted other than "no" (RFC 3834 §5)
	SkipPrecedence    = "precedence"     // Precedence: bulk, list or junk
	SkipMailingList   = "mailing_list"   // List-Id or any List-* header (RFC 2369, 2919)
	SkipSuppress      = "suppressed"     // X-Auto-Response-Suppress: All, AutoReply or OOF
	SkipRoleSender    = "role_sender"    // MAILER-DAEMON, postmaster, *-request, owner-*, noreply
	SkipOwnAddress    = "own_address"    // the sender is one of our addresses: a loop
	SkipNoQuote       = "no_quote"       // the library gave nothing to send
)

// SkipNonPublicDomain is the reason for not answering a sender whose domain
// is an address literal, an IP address in any spelling, a single label or a
// special-use name (localhost, .local, .internal, .arpa...): no public mail
// domain, and answering it could make quotesd connect to a host inside its
// own network.
const SkipNonPublicDomain = "non_public_domain"

// Inbound is what the reply policy looks at: the envelope sender and the
// header of one received message.
type Inbound struct {
	// Sender is the reverse path of MAIL FROM, "" for the null sender.
	Sender string
	Header textproto.Header
}

// ShouldReply decides whether a message gets an automatic reply, following
// RFC 3834 and the behaviour of its peers, vacation(1) and Sieve vacation
// (RFC 5230): never answer bounces, other automatic mail, lists or bulk
// mail, role accounts, or ourselves; nor senders at an IP address or a
// name that is not a public domain, whose reply would go to a host inside
// quotesd's own network (SkipNonPublicDomain). It returns "" when a reply
// is due and one of the Skip* reasons otherwise. isOwn reports whether an
// address is one of ours. It is a pure function of its inputs; the daily
// reply limits are applied later, where the counts are kept (the queue).
func ShouldReply(in Inbound, isOwn func(addr string) bool) string {
	if in.Sender == "" {
		return SkipNullSender
	}
	local, domain, ok := splitAddress(in.Sender)
	if !ok {
		return SkipInvalidSender
	}
	if strings.HasPrefix(domain, "[") {
		return SkipNonPublicDomain // an address literal: an IP, never a public mail domain
	}
	if !validAddress(in.Sender) {
		return SkipInvalidSender
	}
	if isOwn != nil && isOwn(in.Sender) {
		return SkipOwnAddress
	}
	if !publicDomain(domain) {
		return SkipNonPublicDomain
	}
	if isRoleLocalPart(local) {
		return SkipRoleSender
	}
	h := in.Header
	for _, v := range h.Values("Auto-Submitted") {
		// The value is a keyword optionally followed by ";" parameters and
		// comments; anything but "no" means a machine sent it.
		if kw := headerKeyword(v); kw != "no" {
			return SkipAutoSubmitted
		}
	}
	for _, v := range h.Values("Precedence") {
		switch headerKeyword(v) {
		case "bulk", "list", "junk":
			return SkipPrecedence
		}
	}
	for f := h.Fields(); f.Next(); {
		if strings.HasPrefix(strings.ToLower(f.Key()), "list-") {
			return SkipMailingList
		}
	}
	for _, v := range h.Values("X-Auto-Response-Suppress") {
		for _, kw := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(kw)) {
			case "all", "autoreply", "oof":
				return SkipSuppress
			}
		}
	}
	return ""
}

// headerKeyword returns the first word of a structured header value, lower
// case, without parameters or comments: "auto-replied; x=y (c)" gives
// "auto-replied".
func headerKeyword(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "; \t(\r\n"); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(v)
}

// isRoleLocalPart reports whether a sender's local part names a machine or a
// role rather than a person: the senders vacation(1) and Sieve
// implementations refuse to answer.
func isRoleLocalPart(local string) bool {
	l := strings.ToLower(local)
	if i := strings.IndexByte(l, '+'); i > 0 {
		l = l[:i] // bounces+xyz@ is still bounces
	}
	switch l {
	case "mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply", "donotreply",
		"do-not-reply", "do_not_reply", "bounce", "bounces", "listserv", "majordomo",
		"mailman", "root", "daemon", "nobody":
		return true
	}
	return strings.HasSuffix(l, "-request") || strings.HasPrefix(l, "owner-") ||
		strings.HasSuffix(l, "-owner") || strings.HasPrefix(l, "noreply") ||
		strings.HasPrefix(l, "no-reply") || strings.HasPrefix(l, "bounce")
}
