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
	"context"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
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
	return oneshot.Encode(q, conv(ascii))
}

// conv is the conversion of a reply's text: to ASCII, or none.
func conv(ascii bool) func(string) string {
	if ascii {
		return ToASCII
	}
	return nil
}

// fitting returns the wire form of the first quote sel gives that fits max
// bytes, or, when none does, the unfiltered one cut on a word boundary
// (truncated: the caller logs it); see oneshot.Fit.
func fitting(ctx context.Context, sel oneshot.Selector, ascii bool, max int) (reply []byte, truncated bool, err error) {
	return oneshot.Fit(ctx, sel, conv(ascii), max)
}
