package chat

// Fitting replies to a medium: text made safe to send, cut into lines of
// the medium's byte budget (IRC's is what is left of 512 bytes once the
// server's relay prefix is counted; another medium's may be one larger
// message), a quote keeping its attribution when it is cut.

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// Sanitize makes s safe to send as one line of chat (on IRC, as one
// parameter): CR, LF and NUL would end or corrupt the line (a quote
// containing "\r\nQUIT" would otherwise be sent to an IRC server as a
// command), so line breaks become spaces and every other control
// character, including the mIRC formatting codes (bold, colour with its
// digits, reverse, italics, underline, strike, monospace, reset) and the CTCP
// delimiter \x01, is removed; invalid UTF-8 becomes U+FFFD; runs of spaces
// fold into one and the ends are trimmed.
func Sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = '\uFFFD'
		case r == '\x03': // colour: \x03[fg[,bg]] with one or two digits each
			i += colourDigits(s[i:])
			continue
		case r == '\x04': // hex colour: \x04[RRGGBB[,RRGGBB]]
			i += hexColour(s[i:])
			continue
		case r == '\r' || r == '\n' || r == '\t' || r == ' ':
			space = true
			continue
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			continue // other C0 controls (formatting, CTCP, NUL), DEL and C1 controls
		case r == '\u2028' || r == '\u2029':
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// colourDigits returns how many bytes of s (just after \x03) are the colour
// numbers "fg" or "fg,bg", with one or two digits each.
func colourDigits(s string) int {
	n := digits(s, 2)
	if n == 0 {
		return 0
	}
	if n < len(s) && s[n] == ',' {
		if m := digits(s[n+1:], 2); m > 0 {
			return n + 1 + m
		}
	}
	return n
}

func digits(s string, max int) int {
	n := 0
	for n < len(s) && n < max && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// hexColour returns how many bytes of s (just after \x04) are "RRGGBB" or
// "RRGGBB,RRGGBB".
func hexColour(s string) int {
	if !isHex6(s) {
		return 0
	}
	if len(s) >= 7 && s[6] == ',' && isHex6(s[7:]) {
		return 13
	}
	return 6
}

func isHex6(s string) bool {
	if len(s) < 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// Split cuts text into at most maxLines pieces of at most width bytes each,
// breaking between words where it can and inside a word (at a UTF-8
// boundary, never in the middle of a character) only when a word alone is
// wider than a line. When the text needs more lines than allowed, the last
// line ends with "…" and the rest is dropped. text should be sanitized
// first, so that it holds no line breaks.
func Split(text string, width, maxLines int) []string {
	const ellipsis = "…"
	if width < 8 || maxLines < 1 {
		return nil
	}
	var lines []string
	rest := strings.TrimSpace(text)
	for rest != "" {
		if len(lines) == maxLines-1 && len(rest) > width {
			// Last allowed line and the text does not fit: cut and mark.
			cut := BreakAt(rest, width-len(ellipsis))
			lines = append(lines, strings.TrimRight(rest[:cut], " ")+ellipsis)
			return lines
		}
		if len(rest) <= width {
			lines = append(lines, rest)
			break
		}
		cut := BreakAt(rest, width)
		lines = append(lines, strings.TrimRight(rest[:cut], " "))
		rest = strings.TrimLeft(rest[cut:], " ")
	}
	return lines
}

// BreakAt returns where to cut s so that s[:n] is at most width bytes: after
// the last space that fits, or else at the last UTF-8 character boundary
// that fits. It never returns 0 for a non-empty s and width >= 4, so Split
// always makes progress.
func BreakAt(s string, width int) int {
	if len(s) <= width {
		return len(s)
	}
	if i := strings.LastIndexByte(s[:width+1], ' '); i > 0 {
		return i
	}
	n := width
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if n == 0 { // cannot happen for valid UTF-8 and width >= 4
		n = width
	}
	return n
}

// SplitKeeping is Split for text followed by tail, a quote's attribution
// and number: when the two need more than maxLines lines, text is cut
// after a word and marked "…" and tail is kept whole, so that a long quote
// still says whose it is and which. Only when tail alone leaves no room
// is the whole cut as Split cuts it.
func SplitKeeping(text, tail string, width, maxLines int) []string {
	whole := strings.TrimSpace(text + " " + tail)
	fits := func(s string) bool { return len(Split(s, width, maxLines+1)) <= maxLines }
	if tail == "" || fits(whole) {
		return Split(whole, width, maxLines)
	}
	cut := func(n int) string {
		i := 0
		if n >= utf8.UTFMax { // below it BreakAt may Split a character
			i = BreakAt(text, n)
		}
		return strings.TrimRight(text[:i], " ") + "… " + tail
	}
	if !fits(cut(0)) {
		return Split(whole, width, maxLines)
	}
	// The longest cut of text that still fits, by bisection: more text
	// never takes fewer lines.
	lo, hi := 0, len(text)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(cut(mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return Split(cut(lo), width, maxLines)
}

// CleanText prepares what a person typed for the library (the text and
// author of !addquote and !editquote, a grabbed line, a reason), and
// returns it, or "" and why it is refused. The rules, as docs/IRC.md
// states them:
//
//   - NUL and CR should not get here: IRC's lineConn drops a line
//     holding either, unread, and a server ends the line at LF, so
//     nothing after a line break is part of the command; elsewhere they
//     are control characters, refused below;
//   - the mIRC formatting codes (bold \x02, colour \x03 with its digits,
//     hex colour \x04 with its digits, reset \x0f, monospace \x11,
//     reverse \x16, italics \x1d, strike \x1e, underline \x1f) are
//     removed, as are the colours' digits, and a tab becomes a space:
//     IRC clients add them for show (and people paste them elsewhere);
//   - any other control character, among them the CTCP delimiter \x01
//     (a message that starts with it is CTCP, never a command), DEL and
//     the C1 controls, refuses the text with the core's own words, "text
//     contains control characters";
//   - the ends are trimmed. Everything else (invalid UTF-8, invisible
//     format characters, length, duplicates) is for the core to judge,
//     with the core's messages.
func CleanText(s string) (string, string) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i]) // the core refuses it, naming the field
			i++
			continue
		}
		i += size
		switch {
		case r == '\x03':
			i += colourDigits(s[i:])
			continue
		case r == '\x04':
			i += hexColour(s[i:])
			continue
		case strings.ContainsRune("\x02\x0f\x11\x16\x1d\x1e\x1f", r):
			continue
		case r == '\t':
			r = ' '
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return "", "text contains control characters"
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String()), ""
}

// QuoteParts renders q as chat text in two parts, the text and the tail
// "— Author, Source (Year) [#id]", which a cut must keep (see
// SplitKeeping). Line breaks in the text become " / ", as verse is quoted
// inline; everything is sanitized. A past day's quote deleted since (see
// quoter.Quote.Removed) says so at the end of the tail.
func QuoteParts(q *quoter.Quote) (text, tail string) {
	text = strings.ReplaceAll(q.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n", " / ")
	tail = fmt.Sprintf("— %s [#%d]", Sanitize(q.Attribution()), q.ID)
	if q.Removed {
		tail += " " + RemovedNote
	}
	return Sanitize(text), tail
}

// RemovedNote ends the reply of a quote of the day removed from the
// library since its day.
const RemovedNote = "(removed from the library)"

// FitLen is the longest quote (quoter.Quote.Len, which is close to the
// length of QuoteParts' text and tail) that fits in a reply of lines
// lines of width bytes, with room for word wrapping and the id: the
// MaxLen to draw a quote with, so it need not be cut.
func FitLen(width, lines int) int {
	return max(lines*width-64, 64)
}

// Fit cuts a reply into at most lines lines of at most width bytes, made
// safe first (Sanitize): text, then tail, a quote's attribution and number
// (see QuoteParts), kept whole when text must be cut (see SplitKeeping).
func Fit(text, tail string, width, lines int) []string {
	return SplitKeeping(Sanitize(text), tail, width, lines)
}
