package qotd

import (
	"strings"
	"unicode/utf8"
)

// asciiPunct maps common typographic punctuation to ASCII look-alikes.
var asciiPunct = map[rune]string{
	'\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", // single quotes, prime
	'\u201C': `"`, '\u201D': `"`, '\u201E': `"`, '\u201F': `"`, '\u2033': `"`, // double quotes
	'\u00AB': `"`, '\u00BB': `"`, '\u2039': "'", '\u203A': "'", // guillemets
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2212': "-", // hyphens, en dash, minus
	'\u2014': "--", '\u2015': "--", // em dash, horizontal bar
	'\u2026': "...",                                                           // ellipsis
	'\u00A0': " ", '\u2002': " ", '\u2003': " ", '\u2009': " ", '\u202F': " ", // spaces
	'\u2022': "*", '\u00B7': "*", // bullets
}

// ToASCII transliterates curly quotes, dashes, the ellipsis and odd spaces
// to ASCII and replaces every other non-ASCII character with '?', for
// clients that expect the ASCII RFC 865 recommends.
func ToASCII(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case asciiPunct[r] != "":
			b.WriteString(asciiPunct[r])
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
