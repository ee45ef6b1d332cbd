package xmpp

// Commands and the daily post, through the chat core.

import (
	"context"
	"fmt"
	"strings"
	"sync"
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
	userCD    *cooldown
	roomCD    *cooldown
	versionCD *cooldown
}

func newChatCore(b *Bot) (*chatCore, error) {
	c := &chatCore{b: b}
	now := b.cal.Time
	c.userCD, c.roomCD, c.versionCD = newCooldown(b.cfg.UserCooldown, now), newCooldown(b.cfg.RoomCooldown, now), newCooldown(b.cfg.VersionPeriod, now)
	b.versionCD = c.versionCD
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
	c.userCD.setPeriod(next.UserCooldown)
	c.roomCD.setPeriod(next.RoomCooldown)
	c.versionCD.setPeriod(next.VersionPeriod)
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
	if !b.core.userCD.allow(r.user) {
		b.stats.dropped.WithLabelValues(dropUserCooldown).Inc()
		return
	}
	if r.room != "" && !b.core.roomCD.allow(r.room) {
		b.core.userCD.undo(r.user)
		b.stats.dropped.WithLabelValues(dropRoomCooldown).Inc()
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

// cooldown: provisional until the chat core's.
type cooldown struct {
	mu     sync.Mutex
	period time.Duration
	now    func() time.Time
	last   map[string]time.Time
}

func newCooldown(d time.Duration, now func() time.Time) *cooldown {
	return &cooldown{period: d, now: now, last: map[string]time.Time{}}
}

func (c *cooldown) allow(k string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.period <= 0 {
		return true
	}
	if t, ok := c.last[k]; ok && c.now().Sub(t) < c.period {
		return false
	}
	c.last[k] = c.now()
	return true
}
func (c *cooldown) Allow(k string) bool { return c.allow(k) }
func (c *cooldown) undo(k string)       { c.mu.Lock(); delete(c.last, k); c.mu.Unlock() }
func (c *cooldown) setPeriod(d time.Duration) {
	c.mu.Lock()
	c.period = d
	c.mu.Unlock()
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
