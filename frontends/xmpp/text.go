package xmpp

import (
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
)

// clean returns s made safe as one line of chat (chat.Sanitize: no
// control characters, valid UTF-8, spaces folded), less what XML 1.0
// cannot carry (U+FFFE, U+FFFF) and the bidirectional overrides and
// isolates, which could make a reply read backwards: what a stranger
// sends never reaches the logs or a reply with them, and what the bot
// sends never breaks its XML stream.
func clean(s string) string {
	if strings.IndexFunc(s, unsafe) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unsafe(r) {
				return -1
			}
			return r
		}, s)
	}
	return chat.Sanitize(s)
}

func unsafe(r rune) bool {
	return r == 0xFFFE || r == 0xFFFF || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// escape is s as XML character data or an attribute value.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\n':
			b.WriteString("&#xA;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
