// Package qotd is the RFC 865 Quote of the Day frontend: over TCP, a client
// that connects gets one quote and the connection is closed; over UDP, each
// datagram gets one datagram back. The reply, attribution included, is at
// most 512 bytes, as the RFC asks.
//
// Over UDP the protocol is an amplifier (CISA alert TA14-017A measured
// 140.3x), so the UDP service is off unless configured, rate-limited per
// source and overall, and refuses the source ports and addresses that make
// two servers bounce datagrams at each other.
package qotd

import (
	"bytes"
	"context"
	"strings"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// MaxReply is the most bytes a reply may hold (RFC 865: "the quote may be
// just one or up to several lines, but it should be less than 512 characters").
const MaxReply = 512

// Mode chooses which quote a client gets.
type Mode string

const (
	// Daily sends today's quote, the same for every client: `quotesd
	// today`'s when it fits MaxReply; otherwise the quote of the first
	// following day whose quote fits (a MaxLen walk, see
	// quoter.Quoter.Today), the same in every process.
	Daily  Mode = "daily"
	Random Mode = "random" // a random quote per client
)

// ParseMode parses a --qotd-mode value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Daily, Random:
		return m, nil
	}
	return "", quoter.Errorf(quoter.EINVALID, "unknown QOTD mode %q: want daily or random", s)
}

// encode returns the wire form of q: its canonical rendering with CRLF line
// endings and a final CRLF, transliterated to ASCII if asked.
func encode(q *quoter.Quote, ascii bool) []byte {
	return crlf(q.Render(), ascii)
}

// crlf turns s into lines ending in CRLF (lone CRs and LFs alike).
func crlf(s string, ascii bool) []byte {
	if ascii {
		s = ToASCII(s)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimRight(s, "\n")
	b := make([]byte, 0, len(s)+strings.Count(s, "\n")+2)
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		b = append(b, s[:i]...)
		b = append(b, '\r', '\n')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// selector fetches one quote through f; Today or Random, bound to a day.
type selector func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error)

// fitting returns the wire form of the first quote the selector gives whose
// encoding fits max bytes. The length filter measures Render() in bytes,
// while the wire form adds a CR per line and a final CRLF, so the bound is
// tightened by the overshoot until the answer fits: when the unfiltered
// quote fits, the first answer already is that quote. truncated is true when
// no quote of the library fits and the unfiltered one was cut on a word
// boundary instead (the caller logs it).
func fitting(ctx context.Context, sel selector, ascii bool, max int) (reply []byte, truncated bool, err error) {
	bound := max - 2
	for bound > 0 {
		q, err := sel(ctx, quoter.Filter{MaxLen: bound})
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			break
		} else if err != nil {
			return nil, false, err
		}
		b := encode(q, ascii)
		if len(b) <= max {
			return b, false, nil
		}
		bound -= len(b) - max
	}
	q, err := sel(ctx, quoter.Filter{})
	if err != nil {
		return nil, false, err
	}
	return truncate(q, ascii, max), true, nil
}

// ellipsis marks where a truncated quote was cut.
const ellipsis = " ..."

// truncate returns q's wire form cut to max bytes on word boundaries: as
// much of the text as fits, an ellipsis, and the attribution line (itself
// cut if it would take more than half the room).
func truncate(q *quoter.Quote, ascii bool, max int) []byte {
	attr := crlf("    -- "+q.Attribution(), ascii)
	if len(attr) > max/2 {
		attr = append(cutWords(attr[:len(attr)-2], max/2-2-len(ellipsis)), ellipsis+"\r\n"...)
	}
	room := max - len(attr) - len(ellipsis) - 2
	text := crlf(q.Text, ascii)
	text = text[:len(text)-2]
	var b []byte
	b = append(b, cutWords(text, room)...)
	b = append(b, ellipsis+"\r\n"...)
	return append(b, attr...)
}

// cutWords returns the longest prefix of b of at most n bytes that ends
// before white space; a single word longer than n is cut at a character
// boundary, as there is no better place.
func cutWords(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	if n <= 0 {
		return nil
	}
	i := bytes.LastIndexAny(b[:n+1], " \t\r\n")
	if i <= 0 {
		i = n
		for i > 0 && !utf8.RuneStart(b[i]) {
			i--
		}
	}
	return bytes.TrimRight(b[:i], " \t\r\n")
}
