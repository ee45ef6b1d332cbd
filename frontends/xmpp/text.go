package xmpp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean returns s as valid UTF-8 without control characters (a line
// break or tab becomes a space), nor the code points XML 1.0 cannot carry
// (U+FFFE, U+FFFF, surrogates): what a stranger sends never reaches the
// logs or a reply with them, and what the bot sends never breaks its XML
// stream.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if !keep(r) {
			ok = false
			break
		}
	}
	if ok && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError || !keep(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func keep(r rune) bool {
	return r != utf8.RuneError && !unicode.IsControl(r) && r != 0xFFFE && r != 0xFFFF && !(r >= 0xD800 && r <= 0xDFFF) &&
		// Bidirectional overrides and isolates could make a reply read
		// backwards; a quote has no need of them.
		!(r >= 0x202A && r <= 0x202E) && !(r >= 0x2066 && r <= 0x2069)
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
