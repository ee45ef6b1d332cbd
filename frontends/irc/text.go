package irc

import (
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
)

// MaxLine is the longest line IRC allows, counting the final CR LF
// (RFC 1459 section 2.3).
const MaxLine = 512

// Worst-case sizes of the parts of our own prefix, as a server prepends it
// when it relays our PRIVMSG to others (":nick!user@host "), used until the
// server has shown us the real one (the echo of our JOIN). 63 is the longest
// host name DNS allows in one label run that ircds accept (HOSTLEN); 10 is
// USERLEN on most servers, plus one for the "~" of an unverified ident.
// assumedNickLen stands for a nick the bot does not know: 30 is NICKLEN on
// most modern servers (some allow 32), far more than the bot's own.
const (
	assumedUserLen = 11
	assumedHostLen = 63
	assumedNickLen = 32
)

// validMiddle reports whether s can be sent as a parameter other than the
// last one: not empty, no space, not starting with ':' (which would make it
// the trailing parameter), and clean of what chat.Sanitize removes.
func validMiddle(s string) bool {
	return s != "" && s[0] != ':' && !strings.ContainsAny(s, " \r\n\x00") && s == chat.Sanitize(s)
}
