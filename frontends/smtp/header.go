package smtp

import (
	"bytes"
	"errors"

	"github.com/emersion/go-message/textproto"
)

// errMalformedHeader is scanHeader's one error: the header does not parse.
var errMalformedHeader = errors.New("smtp: malformed message header")

// scanHeader reads the header of a received message (only the header: the
// body is never looked at) as go-message's textproto.ReadHeader reads it,
// line for line: the same fields, the same folding, the same refusals (a
// first line that is a continuation, a line without a colon, a name with
// bytes outside 33–126). But it builds only what the receiving path looks
// at: the fields the reply policy, the reply and the subscriptions read
// (Subject, Message-Id, In-Reply-To, References,
// Auto-Submitted, Precedence, List-*, X-Auto-Response-Suppress), as a
// textproto.Header equal to ReadHeader's for those names, and the number of
// Received fields. A full header costs some thirty allocations and a few
// kilobytes per message, most of it for fields no one reads; this costs a
// few. FuzzScanHeader holds it to ReadHeader's results.
//
// The header holds copies, not parts of msg.
func scanHeader(msg []byte) (h textproto.Header, received int, err error) {
	if len(msg) > 0 && isWSP(msg[0]) {
		return h, 0, errMalformedHeader // the first line cannot be a continuation
	}
	var keep [8][]byte // the raw fields kept, in order (more are rare)
	kept := keep[:0]
	rest := msg
	for len(rest) > 0 {
		start := rest
		line, next := cutLine(rest)
		if len(line) == 0 {
			break // the blank line that ends the header
		}
		for len(next) > 0 && isWSP(next[0]) {
			_, next = cutLine(next)
		}
		rest = next
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return h, 0, errMalformedHeader
		}
		name := trimWSP(line[:colon])
		for _, c := range name {
			if c < 33 || c > 126 {
				return h, 0, errMalformedHeader
			}
		}
		switch {
		case len(name) == 0:
			// ReadHeader skips a field without a name.
		case equalFoldASCII(name, "Received"):
			received++
		case policyField(name):
			kept = append(kept, start[:len(start)-len(next)])
		}
	}
	// ReadHeader's Header lists fields last first; AddRaw adds on top.
	for i := len(kept) - 1; i >= 0; i-- {
		h.AddRaw(normalizeField(kept[i]))
	}
	return h, received, nil
}

// policyField reports whether a field is one the receiving path reads.
func policyField(name []byte) bool {
	if len(name) >= 5 && equalFoldASCII(name[:5], "List-") {
		return true
	}
	for _, k := range [...]string{"Subject", "Message-Id", "In-Reply-To", "References", "Auto-Submitted", "Precedence", "X-Auto-Response-Suppress"} {
		if equalFoldASCII(name, k) {
			return true
		}
	}
	return false
}

// normalizeField returns a copy of the raw field f (its lines and
// continuation lines) as ReadHeader keeps it: each line, without its line
// end, followed by CRLF.
func normalizeField(f []byte) []byte {
	out := make([]byte, 0, len(f)+2)
	for len(f) > 0 {
		var line []byte
		line, f = cutLine(f)
		out = append(append(out, line...), '\r', '\n')
	}
	return out
}

// cutLine splits off the first line of b as bufio.Reader.ReadLine does:
// without its LF or CRLF (a last line without LF is returned whole).
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func trimWSP(b []byte) []byte {
	for len(b) > 0 && isWSP(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isWSP(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// equalFoldASCII reports whether b and s are equal under ASCII case
// folding (header names are ASCII).
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
