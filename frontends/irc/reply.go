package irc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// maxReplyLines is the most lines one answer takes.
const maxReplyLines = 3

// lookupTimeout bounds one call to the quote library.
const lookupTimeout = 5 * time.Second

// quoteParts renders q as IRC text in two parts, the text and the tail
// "— Author, Source (Year) [#id]", which a cut must keep (see
// splitKeeping). Line breaks in the text become " / ", as verse is quoted
// inline; everything is sanitized. A past day's quote deleted since (see
// quoter.Quote.Removed) says so at the end of the tail.
func quoteParts(q *quoter.Quote) (text, tail string) {
	text = strings.ReplaceAll(q.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n", " / ")
	tail = fmt.Sprintf("— %s [#%d]", sanitize(q.Attribution()), q.ID)
	if q.Removed {
		tail += " " + removedNote
	}
	return sanitize(text), tail
}

// removedNote ends the reply of a quote of the day removed from the
// library since its day.
const removedNote = "(removed from the library)"

// fitLen is the longest quote (quoter.Quote.Len, which is close to the
// length of quoteParts' text and tail) that fits in a reply of
// maxReplyLines lines of width bytes, with room for word wrapping and the id.
func fitLen(width int) int {
	return max(maxReplyLines*width-64, 64)
}

// answer works out the lines replying to j.
func (s *session) answer(j job) []string {
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	width := s.width(j.target)
	text, tail := s.answerText(ctx, j.cmd, width)
	return splitKeeping(sanitize(text), tail, width, maxReplyLines)
}

// answerText is the reply to c: a quote's text and its tail (see
// quoteParts), or a message and no tail.
func (s *session) answerText(ctx context.Context, c command, width int) (text, tail string) {
	if c.Err != "" {
		return c.Err, ""
	}
	q, b := s.b.q, s.b
	switch c.Kind {
	case cmdHelp:
		return helpText(b.commandPrefix()), ""
	case cmdRandom:
		quote, err := q.Random(ctx, quoter.Filter{MaxLen: fitLen(width)})
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			quote, err = q.Random(ctx, quoter.Filter{}) // only long ones: cut one
		}
		if err != nil {
			return s.failure(err, "the library is empty"), ""
		}
		return quoteParts(quote)
	case cmdByID:
		quote, err := q.Quote(ctx, c.ID)
		if err != nil {
			return s.failure(err, fmt.Sprintf("no quote #%d", c.ID)), ""
		}
		return quoteParts(quote)
	case cmdSearch:
		quotes, _, err := q.Search(ctx, c.Query, quoter.Page{Limit: 5})
		if err != nil {
			return s.failure(err, "no quote matches"), ""
		}
		if len(quotes) == 0 {
			return "no quote matches", ""
		}
		best := quotes[0] // the best match, unless it is too long and a close one fits
		for _, quote := range quotes {
			if quote.Len() <= fitLen(width) {
				best = quote
				break
			}
		}
		return quoteParts(best)
	case cmdToday:
		return s.todayText(ctx, c)
	}
	return "", ""
}

// todayText answers !today and !yesterday: the quote of the day asked for,
// labelled with its date when not today's and with its tag or language.
// The plain command asks with the zero filter, so it is the very quote of
// the day the web and mail show, cut to fit by the caller, never swapped
// for a shorter one.
func (s *session) todayText(ctx context.Context, c command) (text, tail string) {
	b := s.b
	today := b.cal.Today()
	day := c.Date
	if day == (quoter.Date{}) {
		day = today.AddDays(c.Offset)
	}
	if today.Before(day) {
		return "that day has not come yet: try " + b.commandPrefix() + "today", ""
	}
	var label []string
	if day != today {
		label = append(label, day.String())
	}
	f := quoter.Filter{Tag: c.Tag, Lang: c.Lang}
	if c.Tag != "" {
		label = append(label, c.Tag)
	}
	if c.Lang != "" {
		label = append(label, "lang:"+c.Lang)
	}
	quote, err := b.q.Today(ctx, day, f)
	if err != nil {
		notFound := "the library is empty"
		if !f.IsZero() {
			notFound = quoter.ErrorMessage(err) // names the unknown tag or language
		}
		return s.failure(err, notFound), ""
	}
	text, tail = quoteParts(quote)
	if len(label) > 0 {
		text = strings.Join(label, ", ") + ": " + text
	}
	return text, tail
}

// quoteOfDay is the daily post for channel: the quote of the day, asked
// with the zero filter as the web asks it, cut to fit (splitKeeping).
func (s *session) quoteOfDay(channel string, day quoter.Date) []string {
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	quote, err := s.b.q.Today(ctx, day, quoter.Filter{})
	if quoter.ErrorCode(err) == quoter.EGONE {
		// The day's quote was purged: say so once, rather than retry a
		// post that can never be made.
		s.b.log.Info("irc daily quote purged", "day", day.String())
		return splitKeeping("No quote of the day today: it was removed from the library for good.", "", s.width(channel), maxReplyLines)
	} else if err != nil {
		s.b.log.Error("irc daily quote failed", "day", day.String(), "err", err)
		return nil
	}
	text, tail := quoteParts(quote)
	return splitKeeping("Quote of the day: "+text, tail, s.width(channel), maxReplyLines)
}

// failure maps a library error to what the user is told: the not-found
// text given, or the library's own message for invalid input and for a
// purged quote. Anything else is logged and answered with silence: a
// channel gains nothing from an apology per request while storage is
// broken.
func (s *session) failure(err error, notFound string) string {
	switch quoter.ErrorCode(err) {
	case quoter.ENOTFOUND:
		return notFound
	case quoter.EINVALID, quoter.EGONE:
		return quoter.ErrorMessage(err)
	}
	s.b.log.Error("irc quote lookup failed", "err", err)
	return ""
}
