package xmpp

// Commands and the daily post, through the chat core.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// lookupTimeout bounds one question to the library.
const lookupTimeout = 10 * time.Second

// request is one message that may hold a command.
type request struct {
	room string // the room it was said in; "" for a 1:1 chat
	to   string // where a 1:1 answer goes (a full JID)
	user string // who asked, for the user's cooldown: a bare JID, or an occupant's room/nick
	nick string // what to call them
	text string // its first line, cleaned
}

// chatCore is what the bot takes from package chat: the daily post's
// schedule, the cooldowns, and the commands.
type chatCore struct {
	b         *Bot
	daily     *chat.Daily // nil when no daily post is configured
	cooldowns chat.Cooldowns
	versionCD *chat.Cooldown // version queries (XEP-0092), whoever asks
}

func newChatCore(b *Bot) (*chatCore, error) {
	c := &chatCore{b: b}
	now := b.cal.Time
	c.cooldowns = chat.NewCooldowns(b.cfg.UserCooldown, b.cfg.RoomCooldown, now)
	c.versionCD = chat.NewCooldown(b.cfg.VersionPeriod, now)
	if b.cfg.Daily != "" {
		targets := make([]string, len(b.cfg.Rooms))
		for i, r := range b.cfg.Rooms {
			targets[i] = r.JID
		}
		d, err := chat.NewDaily(chat.DailyConfig{
			Name: "xmpp", Clock: b.cfg.Daily, StateFile: b.cfg.DailyStateFile, Claims: b.cfg.DailyClaims,
			Targets: targets, Fold: strings.ToLower, Calendar: b.cal, Log: b.log,
		})
		if err != nil {
			return nil, err
		}
		c.daily = d
	}
	return c, nil
}

// setLive applies the live settings of next.
func (c *chatCore) setLive(next Config) error {
	if (next.Daily == "") != (c.daily == nil) {
		return errorf("xmpp daily post: turning it on or off takes a restart; the time can change live")
	}
	if c.daily != nil {
		if err := c.daily.SetClock(next.Daily); err != nil {
			return err
		}
	}
	c.cooldowns.User.SetPeriod(next.UserCooldown)
	c.cooldowns.Room.SetPeriod(next.RoomCooldown)
	c.versionCD.SetPeriod(next.VersionPeriod)
	return nil
}

// command answers r if it holds a command (chat.Parse) and the
// cooldowns allow. Curation commands are not served over XMPP (yet):
// they are ignored, as unknown commands are.
func (s *session) command(r request) {
	b := s.b
	prefix := b.inForce.Load().Prefix
	cmd, ok := chat.Parse(r.text, prefix)
	if !ok || chat.IsCuration(cmd.Kind) {
		return
	}
	if ok, why := b.core.cooldowns.Allow(strings.ToLower(r.user), strings.ToLower(r.room)); !ok {
		b.stats.Dropped.WithLabelValues(why).Inc()
		return
	}
	b.stats.Commands.WithLabelValues(cmd.Kind).Inc()
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	text, tail := s.answerText(ctx, cmd, prefix)
	if text == "" {
		return
	}
	body := strings.Join(chat.Fit(text, tail, maxReply, 1), "\n")
	if r.room != "" {
		s.reply(messageStanza(r.room, "groupchat", body))
	} else {
		s.reply(messageStanza(r.to, "chat", body))
	}
}

// answerText is the reply to c: a quote's text and its tail (see
// chat.QuoteParts), or a message and no tail; "" for silence (the library
// failed: logged).
func (s *session) answerText(ctx context.Context, c chat.Command, prefix string) (text, tail string) {
	if c.Err != "" {
		return c.Err, ""
	}
	q := s.b.q
	f := quoter.Filter{Collection: c.Collection}
	var quote *quoter.Quote
	var err error
	notFound := "no quote matches"
	switch c.Kind {
	case chat.KindHelp:
		return chat.Help(prefix), ""
	case chat.KindRandom:
		fit := f
		fit.MaxLen = chat.FitLen(maxReply, 1)
		quote, err = q.Random(ctx, fit)
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			quote, err = q.Random(ctx, f)
		}
	case chat.KindByID:
		notFound = fmt.Sprintf("no quote #%d", c.ID)
		quote, err = q.Quote(ctx, c.ID)
	case chat.KindSearch:
		var found []*quoter.Quote
		found, _, err = q.SearchIn(ctx, c.Query, f, quoter.Page{Limit: 1})
		if err == nil && len(found) == 0 {
			return notFound, ""
		}
		if err == nil {
			quote = found[0]
		}
	case chat.KindToday:
		day := c.Date
		if day == (quoter.Date{}) {
			day = s.b.cal.Today().AddDays(c.Offset)
		}
		notFound = "no quote of the day for that"
		quote, err = q.Today(ctx, day, quoter.Filter{Tag: c.Tag, Lang: c.Lang})
	case chat.KindStats:
		return "", ""
	}
	switch code := quoter.ErrorCode(err); {
	case err == nil:
		return chat.QuoteParts(quote)
	case code == quoter.ENOTFOUND:
		return notFound, ""
	case code == quoter.EINVALID || code == quoter.EGONE:
		return quoter.ErrorMessage(err), ""
	default:
		s.b.log.Error("xmpp command failed", "command", c.Kind, "err", err)
		return "", ""
	}
}

// checkDaily asks the writer to post the daily quote where it is due.
func (s *session) checkDaily() {
	if s.b.core.daily == nil {
		return
	}
	select {
	case s.dailyC <- struct{}{}:
	default:
	}
}

// postDaily posts the quote of the day in every room we are in that has
// not had it today, through send (the writer's pacing).
func (s *session) postDaily(send func(string) bool) {
	s.b.core.daily.PostDue(s.ctx, s.joinedRooms(), func(ctx context.Context, room string, day quoter.Date) error {
		ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		defer cancel()
		q, err := s.b.q.Today(ctx, day, quoter.Filter{})
		if err != nil {
			return err
		}
		text, tail := chat.QuoteParts(q)
		if !send(messageStanza(room, "groupchat", strings.Join(chat.Fit("Quote of the day: "+text, tail, maxReply, 1), "\n"))) {
			return errorf("xmpp session ended")
		}
		return nil
	})
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// maxReply bounds an answer's body in bytes: XMPP carries far more, but a
// room is read by people, and a quote of this size is a page.
const maxReply = 1000
