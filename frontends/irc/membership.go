package irc

// Channel membership: joining the configured channels, leaving, rejoining
// after a kick, and answering invitations.

import (
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
)

// joinParams groups channels into JOIN parameter lists of at most ~400
// bytes, channels with keys first (the keys list matches them in order).
func joinParams(chs []Channel) [][]string {
	var keyed, open []Channel
	for _, c := range chs {
		if c.Key != "" {
			keyed = append(keyed, c)
		} else {
			open = append(open, c)
		}
	}
	var out [][]string
	var names, keys []string
	size := 0
	flush := func() {
		if len(names) == 0 {
			return
		}
		p := []string{strings.Join(names, ",")}
		if len(keys) > 0 {
			p = append(p, strings.Join(keys, ","))
		}
		out = append(out, p)
		names, keys, size = nil, nil, 0
	}
	for _, c := range append(keyed, open...) {
		if size+len(c.Name)+len(c.Key)+2 > 400 {
			flush()
		}
		names = append(names, c.Name)
		if c.Key != "" {
			keys = append(keys, c.Key)
		}
		size += len(c.Name) + len(c.Key) + 2
	}
	flush()
	return out
}

// configured returns the configured channel named ch (any case).
func (s *session) configured(ch string) (Channel, bool) {
	for _, c := range s.b.cfg.Channels {
		if strings.EqualFold(c.Name, ch) {
			return c, true
		}
	}
	return Channel{}, false
}

func (s *session) leave(ch string) {
	s.mu.Lock()
	delete(s.joined, strings.ToLower(ch))
	s.mu.Unlock()
}

// kicked rejoins a configured channel after RejoinDelay: soon enough to
// come back from a mistake, late enough not to fight an operator.
func (s *session) kicked(ch, by, reason string) {
	s.leave(ch)
	c, ok := s.configured(ch)
	s.b.log.Warn("irc kicked", "channel", chat.Sanitize(ch), "by", chat.Sanitize(by), "reason", chat.Sanitize(reason), "rejoin", ok)
	if !ok {
		return
	}
	time.AfterFunc(s.b.cfg.RejoinDelay, func() {
		if s.ctx.Err() == nil {
			s.join(c)
		}
	})
}

func (s *session) join(c Channel) {
	if c.Key != "" {
		s.control("JOIN", c.Name, c.Key)
	} else {
		s.control("JOIN", c.Name)
	}
}

// invited joins a configured channel we are not in (it may be +i); an
// invitation anywhere else is ignored, so strangers cannot drag the bot
// into their channels.
func (s *session) invited(ch, by string) {
	c, ok := s.configured(ch)
	s.mu.Lock()
	_, in := s.joined[strings.ToLower(ch)]
	s.mu.Unlock()
	if !ok || in {
		s.b.log.Info("irc invitation ignored", "channel", chat.Sanitize(ch), "by", chat.Sanitize(by))
		return
	}
	s.join(c)
}
