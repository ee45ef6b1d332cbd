package irc

import (
	"context"
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// maxReplyLines is the most lines one answer takes.
const maxReplyLines = 3

// answer works out the lines replying to j, and the lines sent to its
// sender alone, by NOTICE (a curator's private details).
func (s *session) answer(j job) (lines, private []string) {
	ctx, cancel := context.WithTimeout(s.ctx, chat.LookupTimeout)
	defer cancel()
	width := s.width(j.target)
	var text, tail, priv string
	if chat.IsCuration(j.cmd.Kind) {
		text, priv = s.curate(ctx, j)
	} else {
		// A failure not told is logged: nothing is said.
		text, tail, _ = s.b.disp.Answer(ctx, j.channel, j.cmd, width, maxReplyLines)
	}
	lines = chat.Fit(text, tail, width, maxReplyLines)
	if priv != "" && validMiddle(j.from.Nick) {
		// One item a line (see curate), each cut to fit one.
		for _, item := range strings.Split(priv, itemSep) {
			private = append(private, chat.Split(chat.Sanitize(item), s.width(j.from.Nick), 1)...)
		}
	}
	return lines, private
}

// quoteOfDay is the daily post for channel, cut to fit; none when the
// library failed (see chat.Dispatcher.QuoteOfDay).
func (s *session) quoteOfDay(channel string, day quoter.Date) []string {
	text, tail, err := s.b.disp.QuoteOfDay(s.ctx, channel, day)
	if err != nil {
		return nil
	}
	return chat.SplitKeeping(text, tail, s.width(channel), maxReplyLines)
}

// failure is the bot's chat.Dispatcher.Failure.
func (s *session) failure(err error, notFound string) string { return s.b.disp.Failure(err, notFound) }

// view is the bot's chat.Dispatcher.View.
func (s *session) view(ctx context.Context, channel string) (*chat.View, error) {
	return s.b.disp.View(ctx, channel)
}
