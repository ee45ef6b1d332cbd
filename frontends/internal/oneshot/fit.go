package oneshot

import (
	"bytes"
	"context"
	"strings"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// CRLF turns s into lines ending in CRLF (lone CRs and LFs alike), as the
// text protocols of the one-shot frontends want.
func CRLF(s string) []byte {
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

// Selector fetches one quote passing a filter: Today or Random, bound to a
// day, a tag, a collection.
type Selector func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error)

// Encode is the wire form of q: its canonical rendering, through conv
// (nil: as it is; a transliteration to ASCII), with CRLF line endings and
// a final CRLF.
func Encode(q *quoter.Quote, conv func(string) string) []byte {
	return CRLF(convert(conv, q.Render()))
}

func convert(conv func(string) string, s string) string {
	if conv == nil {
		return s
	}
	return conv(s)
}

// Fit returns the wire form (Encode) of the first quote sel gives whose
// encoding fits max bytes. The length filter measures Render() in bytes,
// while the wire form adds a CR per line and a final CRLF, so the bound is
// tightened by the overshoot until the answer fits: when the unfiltered
// quote fits, the first answer already is that quote. truncated is true
// when no quote sel can give fits and the unfiltered one was cut on a word
// boundary instead (the caller logs it).
func Fit(ctx context.Context, sel Selector, conv func(string) string, max int) (reply []byte, truncated bool, err error) {
	bound := max - 2
	for bound > 0 {
		q, err := sel(ctx, quoter.Filter{MaxLen: bound})
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			break
		} else if err != nil {
			return nil, false, err
		}
		b := Encode(q, conv)
		if len(b) <= max {
			return b, false, nil
		}
		bound -= len(b) - max
	}
	q, err := sel(ctx, quoter.Filter{})
	if err != nil {
		return nil, false, err
	}
	return truncate(q, conv, max), true, nil
}

// ellipsis marks where a truncated quote was cut.
const ellipsis = " ..."

// truncate returns q's wire form cut to max bytes on word boundaries: as
// much of the text as fits, an ellipsis, and the attribution line (itself
// cut if it would take more than half the room).
func truncate(q *quoter.Quote, conv func(string) string, max int) []byte {
	attr := CRLF(convert(conv, "    -- "+q.Attribution()))
	if len(attr) > max/2 {
		attr = append(CutWords(attr[:len(attr)-2], max/2-2-len(ellipsis)), ellipsis+"\r\n"...)
	}
	room := max - len(attr) - len(ellipsis) - 2
	text := CRLF(convert(conv, q.Text))
	text = text[:len(text)-2]
	var b []byte
	b = append(b, CutWords(text, room)...)
	b = append(b, ellipsis+"\r\n"...)
	return append(b, attr...)
}

// CutWords returns the longest prefix of b of at most n bytes that ends
// before white space; a single word longer than n is cut at a character
// boundary, as there is no better place.
func CutWords(b []byte, n int) []byte {
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
