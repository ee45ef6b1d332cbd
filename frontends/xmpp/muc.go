package xmpp

// Rooms (XEP-0045): joining, being kicked and rejoining, and keeping our
// nickname.

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"
)

// room is a room of the configuration on one session: the nickname we
// have there and whether we are in.
type room struct {
	cfg    Room
	wanted string // the configured nickname

	mu     sync.Mutex
	nick   string // the nickname we have there, confirmed by the room; "" while out
	asked  string // the nickname we asked for last (a join or a change)
	joined bool
	gone   bool        // banned, or the room destroyed: not rejoined on this session
	timer  *time.Timer // a rejoin or a regain waiting
}

// isMe reports whether nick is ours in the room.
func (r *room) isMe(nick string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nick == nick
}

// room returns the configured room at addr (a bare JID), or nil.
func (s *session) room(addr jid.JID) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[strings.ToLower(addr.String())]
}

// joinedRooms returns the rooms we are in, by address.
func (s *session) joinedRooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.rooms {
		r.mu.Lock()
		if r.joined {
			out = append(out, r.cfg.JID)
		}
		r.mu.Unlock()
	}
	return out
}

// joinAll asks to join every configured room.
func (s *session) joinAll() {
	for _, rc := range s.b.cfg.Rooms {
		nick := rc.Nick
		if nick == "" {
			nick = jid.MustParse(s.b.cfg.JID).Localpart()
		}
		r := &room{cfg: rc, wanted: nick}
		s.mu.Lock()
		s.rooms[strings.ToLower(rc.JID)] = r
		s.mu.Unlock()
		s.join(r, nick)
	}
}

// join sends the presence that enters r as nick (or, when in already,
// changes our nickname there). No history is asked for: the bot answers
// what is said now.
func (s *session) join(r *room, nick string) {
	r.mu.Lock()
	r.asked = nick
	r.mu.Unlock()
	pw := ""
	if r.cfg.Password != "" {
		pw = "<password>" + escape(r.cfg.Password) + "</password>"
	}
	s.control(fmt.Sprintf(`<presence to="%s"><x xmlns="%s">%s<history maxstanzas="0"/></x></presence>`,
		escape(r.cfg.JID+"/"+nick), nsMUC, pw))
}

// leaveAll leaves every room, politely, when the bot shuts down.
func (s *session) leaveAll() {
	for _, addr := range s.joinedRooms() {
		r := s.room(jid.MustParse(addr))
		r.mu.Lock()
		nick := r.nick
		r.mu.Unlock()
		s.sendNow(fmt.Sprintf(`<presence type="unavailable" to="%s"><status>%s</status></presence>`,
			escape(addr+"/"+nick), escape(s.b.cfg.Version+" shutting down")))
	}
}

// presence follows what happens to us, and to the holder of our
// nickname, in the rooms.
func (s *session) presence(e *element) {
	from, err := jid.Parse(e.attr("from"))
	if err != nil || from.Resourcepart() == "" {
		return
	}
	r := s.room(from.Bare())
	if r == nil {
		return
	}
	nick := from.Resourcepart()
	st := e.statuses()
	switch e.attr("type") {
	case "error":
		r.mu.Lock()
		asked := r.asked == nick
		r.mu.Unlock()
		if asked {
			s.joinRefused(r, nick, e.errorCondition())
		}
	case "unavailable":
		me := st["110"] || r.isMe(nick)
		switch {
		case me && st["303"]:
			return // our own change of nickname: the new one's presence follows
		case me:
			s.left(r, st, e)
			return
		}
		if nick == r.wanted {
			s.regainNow(r) // the holder of our nickname left, or changed it
		}
	default:
		if st["110"] {
			s.joined(r, nick)
		}
	}
}

// joined records that we are in r as nick.
func (s *session) joined(r *room, nick string) {
	r.mu.Lock()
	first := !r.joined
	r.joined, r.nick, r.asked = true, nick, nick
	alt := nick != r.wanted
	r.mu.Unlock()
	if first {
		s.b.log.Info("xmpp joined", "room", r.cfg.JID, "nick", nick)
		s.checkDaily()
	} else {
		s.b.log.Info("xmpp nickname changed", "room", r.cfg.JID, "nick", nick)
	}
	if alt {
		s.scheduleRegain(r)
	}
}

// joinRefused deals with an error presence to our join or change of
// nickname. A nickname in use (conflict) is what nickname recovery is
// for: in a room we are not in yet we join with an alternative (the
// nickname and underscores) and ask for ours back later; in a room we are
// in, we keep the one we have. Anything else (a wrong password, a ban, a
// members-only room) is logged, not fought.
func (s *session) joinRefused(r *room, nick, cond string) {
	r.mu.Lock()
	joined := r.joined
	r.mu.Unlock()
	if cond == "conflict" {
		if !joined {
			alt := nick + "_"
			if len(alt) > len(r.wanted)+3 {
				s.b.log.Warn("xmpp cannot join: every nickname tried is taken", "room", r.cfg.JID, "nick", nick)
				return
			}
			s.b.log.Info("xmpp nickname taken: joining with another", "room", r.cfg.JID, "wanted", r.wanted, "nick", alt)
			s.join(r, alt)
			return
		}
		// Asked for our nickname back, still taken: keep ours.
		r.mu.Lock()
		r.asked = r.nick
		r.mu.Unlock()
		s.scheduleRegain(r)
		return
	}
	if !joined {
		s.b.log.Warn("xmpp cannot join", "room", r.cfg.JID, "nick", nick, "condition", cond)
	}
}

// left deals with our own unavailable presence in r: kicked (307), we
// rejoin after RejoinDelay, as IRC bots do; banned (301), or the room
// destroyed, we stay out; another reason (the room's service restarted,
// 332), we rejoin after the delay too.
func (s *session) left(r *room, st map[string]bool, e *element) {
	r.mu.Lock()
	r.joined, r.nick = false, ""
	r.mu.Unlock()
	reason := ""
	if x := e.child(nsMUCUser, "x"); x != nil {
		if it := x.child("", "item"); it != nil {
			if rs := it.child("", "reason"); rs != nil {
				reason = clean(rs.Text)
			}
		}
	}
	switch {
	case st["301"]:
		s.b.log.Warn("xmpp banned from room: not rejoining", "room", r.cfg.JID, "reason", reason)
		r.mu.Lock()
		r.gone = true
		r.mu.Unlock()
		return
	case e.child(nsMUCUser, "x") != nil && e.child(nsMUCUser, "x").child("", "destroy") != nil:
		s.b.log.Warn("xmpp room destroyed: not rejoining", "room", r.cfg.JID)
		return
	case st["307"]:
		s.b.log.Warn("xmpp kicked from room", "room", r.cfg.JID, "reason", reason, "rejoin_in", s.b.cfg.RejoinDelay.String())
	default:
		s.b.log.Warn("xmpp left room", "room", r.cfg.JID, "rejoin_in", s.b.cfg.RejoinDelay.String())
	}
	s.after(r, s.b.cfg.RejoinDelay, func() {
		r.mu.Lock()
		in := r.joined
		r.mu.Unlock()
		if !in {
			s.join(r, r.wanted)
		}
	})
}

// scheduleRegain asks for r's wanted nickname again after RegainInterval
// (0: only when its holder is seen leaving).
func (s *session) scheduleRegain(r *room) {
	if s.b.cfg.RegainInterval <= 0 {
		return
	}
	s.after(r, s.b.cfg.RegainInterval, func() { s.regainNow(r) })
}

// regainNow asks for r's wanted nickname, if we are in r under another.
func (s *session) regainNow(r *room) {
	r.mu.Lock()
	ask := r.joined && r.nick != r.wanted
	if ask {
		r.asked = r.wanted // a refusal comes back from this name
	}
	r.mu.Unlock()
	if ask {
		s.control(fmt.Sprintf(`<presence to="%s"/>`, escape(r.cfg.JID+"/"+r.wanted)))
	}
}

// after runs f once d has passed, unless the session ended; r has at
// most one such wait (a new one replaces it).
func (s *session) after(r *room, d time.Duration, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(d, func() {
		if s.ctx.Err() == nil {
			f()
		}
	})
}

// stopTimers stops the rooms' waits when the session ends.
func (s *session) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rooms {
		r.mu.Lock()
		if r.timer != nil {
			r.timer.Stop()
		}
		r.mu.Unlock()
	}
}
