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

// command answers r if it holds a command and the cooldowns allow.
func (s *session) command(r request) {
	b := s.b
	prefix := b.inForce.Load().Prefix
	if !strings.HasPrefix(r.text, prefix) {
		return
	}
	name, _, _ := strings.Cut(strings.TrimSpace(r.text[len(prefix):]), " ")
	var answer string
	switch strings.ToLower(name) {
	case "quote", "help":
	default:
		return
	}
	if ok, why := b.core.cooldowns.Allow(r.user, r.room); !ok {
		b.stats.dropped.WithLabelValues(why).Inc()
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	switch strings.ToLower(name) {
	case "quote":
		q, err := b.q.Random(ctx, quoter.Filter{MaxLen: maxReply})
		if err != nil {
			b.log.Error("xmpp quote failed", "err", err)
			return
		}
		answer = q.Render()
	case "help":
		answer = prefix + "quote: a random quote"
	}
	if r.room != "" {
		s.reply(messageStanza(r.room, "groupchat", answer))
	} else {
		s.reply(messageStanza(r.to, "chat", answer))
	}
}

// maxReply bounds an answer's body in bytes: XMPP carries far more, but a
// room is read by people.
const maxReply = 1000

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
		if !send(messageStanza(room, "groupchat", "Quote of the day: "+q.Render())) {
			return errorf("xmpp session ended")
		}
		return nil
	})
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
