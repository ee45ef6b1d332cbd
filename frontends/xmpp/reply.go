package xmpp

// Commands and the daily post, through the chat core.

import (
	"context"
	"errors"
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// maxReply bounds an answer's body in bytes: XMPP carries far more in a
// message, but a room is read by people, and a quote of this size is a
// page. An answer is one message of one line of this budget.
const maxReply = 1000

// request is one message that may hold a command.
type request struct {
	room string // the room it was said in; "" for a 1:1 chat
	to   string // where a 1:1 answer goes (a full JID)
	user string // who asked, for the user's cooldown: a bare JID, or an occupant's room/nick
	text string // its first line, cleaned
}

// chatCore is what the bot takes from package chat: the commands'
// dispatch with the cooldowns, and the daily post's schedule.
type chatCore struct {
	dispatch  *chat.Dispatcher
	cooldowns chat.Cooldowns
	daily     *chat.Daily    // nil when no daily post is configured
	versionCD *chat.Cooldown // version queries (XEP-0092), whoever asks
}

func newChatCore(b *Bot) (*chatCore, error) {
	now := b.cal.Time
	c := &chatCore{
		cooldowns: chat.NewCooldowns(b.cfg.UserCooldown, b.cfg.RoomCooldown, now),
		versionCD: chat.NewCooldown(b.cfg.VersionPeriod, now),
	}
	c.dispatch = &chat.Dispatcher{
		Name: "xmpp", Library: b.q, Calendar: b.cal, Log: b.log,
		Prefix:    func() string { return b.inForce.Load().Prefix },
		Cooldowns: &c.cooldowns, Metrics: b.stats.Metrics,
		Width: maxReply, Lines: 1,
	}
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

// setLive applies the live settings of next (the prefix is read from
// the bot's settings in force).
func (c *chatCore) setLive(next Config) error {
	if (next.Daily == "") != (c.daily == nil) {
		return errors.New("xmpp daily post: turning it on or off takes a restart; the time can change live")
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

// command answers r if it holds a command and the cooldowns allow
// (chat.Dispatcher.Handle). Curation commands are not served over XMPP:
// they are ignored, as unknown commands are.
func (s *session) command(r request) {
	lines, err := s.b.core.dispatch.Handle(s.ctx, chat.Message{
		Room: strings.ToLower(r.room), User: strings.ToLower(r.user), Text: r.text, Direct: r.room == "",
	})
	if err != nil || len(lines) == 0 {
		return // a failure is logged by the dispatcher; silence otherwise
	}
	body := strings.Join(lines, "\n")
	if r.room != "" {
		s.reply(messageStanza(r.room, "groupchat", body))
	} else {
		s.reply(messageStanza(r.to, "chat", body))
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

// errSessionEnded is a daily post that could not be sent: the session
// ended first. The post stays due, for the next session.
var errSessionEnded = errors.New("xmpp session ended")

// postDaily posts the quote of the day in every room we are in that has
// not had it today, through send (the writer's pacing). The quote is read
// before the post is claimed (chat.Daily.ComposeDue), so with replicas a
// post the library could not make stays due rather than claimed.
func (s *session) postDaily(send func(string) bool) {
	s.b.core.daily.ComposeDue(s.ctx, s.joinedRooms(), func(ctx context.Context, room string, day quoter.Date) (func() error, error) {
		text, tail, err := s.b.core.dispatch.QuoteOfDay(ctx, room, day)
		if err != nil {
			return nil, err
		}
		stanza := messageStanza(room, "groupchat", strings.Join(chat.Fit(text, tail, maxReply, 1), "\n"))
		return func() error {
			if !send(stanza) {
				return errSessionEnded
			}
			return nil
		}, nil
	})
}
