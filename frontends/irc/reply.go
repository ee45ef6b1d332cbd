package irc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// maxReplyLines is the most lines one answer takes.
const maxReplyLines = 3

// lookupTimeout bounds one call to the quote library.
const lookupTimeout = 5 * time.Second

// answer works out the lines replying to j, and the lines sent to its
// sender alone, by NOTICE (a curator's private details).
func (s *session) answer(j job) (lines, private []string) {
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	width := s.width(j.target)
	var text, tail, priv string
	if chat.IsCuration(j.cmd.Kind) {
		text, priv = s.curate(ctx, j)
	} else {
		text, tail = s.answerText(ctx, j, width)
	}
	lines = chat.SplitKeeping(chat.Sanitize(text), tail, width, maxReplyLines)
	if priv != "" && validMiddle(j.from.Nick) {
		// One item a line (see curate), each cut to fit one.
		for _, item := range strings.Split(priv, itemSep) {
			private = append(private, chat.Split(chat.Sanitize(item), s.width(j.from.Nick), 1)...)
		}
	}
	return lines, private
}

// answerText is the reply to j's command: a quote's text and its tail (see
// chat.QuoteParts), or a message and no tail. In a channel, quotes come from
// the channel's collections (see Channel.Collections); "@name" asks for
// one collection, which must be public or the channel's own.
func (s *session) answerText(ctx context.Context, j job, width int) (text, tail string) {
	c := j.cmd
	if c.Err != "" {
		return c.Err, ""
	}
	q, b := s.b.q, s.b
	var lib *libraryView
	if c.Kind == chat.KindRandom || c.Kind == chat.KindSearch || c.Kind == chat.KindByID {
		var err error
		if lib, err = s.view(ctx, j.channel); err != nil {
			return s.failure(err, ""), ""
		}
		if c.Collection != "" && !lib.visible(c.Collection) {
			return "no collection @" + c.Collection, ""
		}
	}
	switch c.Kind {
	case chat.KindHelp:
		return chat.Help(b.commandPrefix()), ""
	case chat.KindRandom:
		f := quoter.Filter{Collection: lib.served}
		if c.Collection != "" {
			f.Collection = c.Collection
		}
		fit := f
		fit.MaxLen = chat.FitLen(width, maxReplyLines)
		quote, err := q.Random(ctx, fit)
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			quote, err = q.Random(ctx, f) // only long ones: cut one
		}
		if err != nil {
			return s.failure(err, emptyText(f.Collection)), ""
		}
		return chat.QuoteParts(quote)
	case chat.KindByID:
		quote, err := q.Quote(ctx, c.ID)
		if err == nil && !lib.visible(quote.Collection) {
			err = quoter.Errorf(quoter.ENOTFOUND, "not served here")
		}
		if err != nil {
			return s.failure(err, fmt.Sprintf("no quote #%d", c.ID)), ""
		}
		return chat.QuoteParts(quote)
	case chat.KindSearch:
		return s.search(ctx, lib, c, width)
	case chat.KindToday:
		return s.todayText(ctx, j)
	}
	return "", ""
}

// search answers !quote <words>: the best match among the quotes served
// where it was asked (or in the collection named, which the caller has
// checked this channel may see), unless it is too long and a close one
// fits.
func (s *session) search(ctx context.Context, lib *libraryView, c chat.Command, width int) (text, tail string) {
	f := quoter.Filter{Collection: lib.served}
	if c.Collection != "" {
		f.Collection = c.Collection
	}
	found, _, err := s.b.q.SearchIn(ctx, c.Query, f, quoter.Page{Limit: searchCandidates})
	if err != nil {
		return s.failure(err, "no quote matches"), ""
	}
	if len(found) == 0 {
		return "no quote matches", ""
	}
	best := found[0]
	for _, quote := range found {
		if quote.Len() <= chat.FitLen(width, maxReplyLines) {
			best = quote
			break
		}
	}
	return chat.QuoteParts(best)
}

// searchCandidates is how many of the best matches a search weighs when
// the best is too long for one line.
const searchCandidates = 5

// emptyText is the answer when a draw from set (a Filter.Collection)
// finds nothing: the whole library's, or a channel's collections, which
// start empty.
func emptyText(set string) string {
	if set == "" {
		return "the library is empty"
	}
	return "no quotes in " + strings.ReplaceAll(set, ",", " or ") + " yet"
}

// libraryView is the library as one channel (or a private message) sees
// it: which collections it is served, and which others it may name.
type libraryView struct {
	own     []string        // the channel's collections; none: every public one
	served  string          // Filter.Collection for what it is served
	private map[string]bool // private collections, by name
	known   map[string]bool // every collection, by name
	all     []quoter.Collection
}

// view returns the library as seen from channel ("" for a private
// message).
func (s *session) view(ctx context.Context, channel string) (*libraryView, error) {
	cols, err := s.b.q.Collections(ctx)
	if err != nil {
		return nil, err
	}
	v := &libraryView{private: make(map[string]bool), known: make(map[string]bool), all: cols}
	for _, c := range cols {
		v.known[c.Name] = true
		if c.Private {
			v.private[c.Name] = true
		}
	}
	if ch, ok := s.b.channel(channel); ok && channel != "" {
		v.own = ch.Collections
		v.served = strings.Join(ch.Collections, ",")
	}
	return v, nil
}

// serves reports whether a quote of collection is among those the view is
// served by default.
func (v *libraryView) serves(collection string) bool {
	if len(v.own) == 0 {
		return !v.private[collection]
	}
	return slices.Contains(v.own, collection)
}

// visible reports whether the view may see collection at all: one of its
// own, or a public one. A private collection of another channel is as
// unknown here as one that does not exist.
func (v *libraryView) visible(collection string) bool {
	if collection == "" {
		collection = quoter.DefaultCollection
	}
	return slices.Contains(v.own, collection) || !v.private[collection] && (v.known[collection] || collection == quoter.DefaultCollection)
}

// todayText answers !today and !yesterday: the quote of the day asked for,
// labelled with its date when not today's and with its tag or language.
// The plain command asks with the zero filter, so it is the very quote of
// the day the web and mail show, cut to fit by the caller, never swapped
// for a shorter one.
func (s *session) todayText(ctx context.Context, j job) (text, tail string) {
	b, c := s.b, j.cmd
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
	if ch, ok := b.channel(j.channel); ok && j.channel != "" {
		f.Collection = strings.Join(ch.Collections, ",")
	}
	if c.Tag != "" {
		label = append(label, c.Tag)
	}
	if c.Lang != "" {
		label = append(label, "lang:"+c.Lang)
	}
	quote, err := b.q.Today(ctx, day, f)
	if err != nil {
		notFound := emptyText(f.Collection)
		if c.Tag != "" || c.Lang != "" {
			notFound = quoter.ErrorMessage(err) // names the unknown tag or language
		}
		return s.failure(err, notFound), ""
	}
	text, tail = chat.QuoteParts(quote)
	if len(label) > 0 {
		text = strings.Join(label, ", ") + ": " + text
	}
	return text, tail
}

// quoteOfDay is the daily post for channel: the quote of the day of the
// channel's collections, or, for a channel without, asked with the zero
// filter as the web asks it; cut to fit (chat.SplitKeeping).
func (s *session) quoteOfDay(channel string, day quoter.Date) []string {
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	var f quoter.Filter
	if ch, ok := s.b.channel(channel); ok {
		f.Collection = strings.Join(ch.Collections, ",")
	}
	quote, err := s.b.q.Today(ctx, day, f)
	if quoter.ErrorCode(err) == quoter.EGONE {
		// The day's quote was purged: say so once, rather than retry a
		// post that can never be made.
		s.b.log.Info("irc daily quote purged", "day", day.String())
		return chat.SplitKeeping("No quote of the day today: it was removed from the library for good.", "", s.width(channel), maxReplyLines)
	} else if err != nil {
		s.b.log.Error("irc daily quote failed", "day", day.String(), "err", err)
		return nil
	}
	text, tail := chat.QuoteParts(quote)
	return chat.SplitKeeping("Quote of the day: "+text, tail, s.width(channel), maxReplyLines)
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
