package irc

// The daily post: frontends/chat keeps the schedule and its record; the
// session supplies the channels it is in and sends the post.

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// newDaily is the schedule of the daily post to channels, which IRC
// remembers in lower case.
func newDaily(cfg Config, cal *quoter.Calendar, log *slog.Logger) (*chat.Daily, error) {
	chans := make([]string, len(cfg.Channels))
	for i, c := range cfg.Channels {
		chans[i] = c.Name
	}
	return chat.NewDaily(chat.DailyConfig{
		Name: "irc", Clock: cfg.Daily, StateFile: cfg.DailyStateFile, Claims: cfg.DailyClaims,
		Targets: chans, Fold: strings.ToLower, Calendar: cal, Log: log,
	})
}

// checkDaily asks the writer to post the daily quote where it is due.
func (s *session) checkDaily() {
	if s.b.daily == nil {
		return
	}
	select {
	case s.dailyC <- struct{}{}:
	default:
	}
}

// dailyTimer wakes the writer when the daily post may be due.
func (s *session) dailyTimer() { s.b.daily.Timer(s.ctx, s.checkDaily) }

// postDaily posts the quote of the day in every joined channel that has
// not had it today.
func (s *session) postDaily() {
	s.mu.Lock()
	chans := make([]string, 0, len(s.joined))
	for _, name := range s.joined {
		chans = append(chans, name)
	}
	s.mu.Unlock()
	s.b.daily.ComposeDue(s.ctx, chans, s.composeQuoteOfDay)
}

// errNoDailyQuote is a daily post the library could not make (logged by
// quoteOfDay): it stays due.
var errNoDailyQuote = errors.New("no quote of the day to post")

// composeQuoteOfDay finds channel's quote of day and returns how to send
// it: the post is claimed in between.
func (s *session) composeQuoteOfDay(_ context.Context, channel string, day quoter.Date) (func() error, error) {
	lines := s.quoteOfDay(channel, day)
	if len(lines) == 0 {
		return nil, errNoDailyQuote
	}
	return func() error {
		for _, l := range lines {
			if err := s.privmsgLine(channel, l); err != nil {
				return err
			}
		}
		return nil
	}, nil
}
