package irc

// Intake: what people say to the bot (commands, CTCP) becomes jobs for the
// writer, within the cooldowns and a short queue.

import (
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
	ircv4 "gopkg.in/irc.v4"
)

// jobQueue is how many commands may wait for the send pacing; more are
// dropped in silence. With 3 lines a reply and 2 s a line after the burst,
// a full queue is already half a minute of talking.
const jobQueue = 4

// parseCommand is chat.Parse with IRC's rule on names: !grab takes a
// nick as RFC 2812 writes them.
func parseCommand(text, prefix string) (chat.Command, bool) {
	c, ok := chat.Parse(text, prefix)
	if ok && c.Kind == chat.KindGrab && c.Err == "" && !validNick(c.Nick) {
		c = chat.Command{Kind: chat.KindGrab, Err: chat.GrabUsage}
	}
	return c, ok
}

// job is a command to answer.
type job struct {
	target  string // the channel, or the nick of a private message
	channel string // the channel the command came from; "" for a private message
	from    person
	cmd     chat.Command
}

// privmsg handles a message to a channel or to us: CTCP, or a command; a
// channel's other lines are remembered for !grab. Requests over a
// cooldown or past the queue are dropped in silence.
func (s *session) privmsg(m *ircv4.Message) {
	p, target, text := m.Prefix, m.Params[0], m.Params[1]
	if strings.HasPrefix(text, "\x01") {
		s.remember(p.Name, target, text)
		s.ctcp(p.Name, text)
		return
	}
	cmd, ok := parseCommand(text, s.b.commandPrefix())
	if !ok {
		s.remember(p.Name, target, text)
		return
	}
	replyTo := p.Name
	if isChannel(target) {
		replyTo = target
	}
	if !validMiddle(replyTo) {
		return
	}
	user := strings.ToLower(p.Name)
	if p.Host != "" {
		user = strings.ToLower(p.User + "@" + p.Host)
	}
	room := ""
	if isChannel(target) {
		room = strings.ToLower(target)
	}
	if ok, why := s.b.cooldowns.Allow(user, room); !ok {
		s.b.stats.dropped.WithLabelValues(why).Inc()
		if why == chat.DropUserCooldown {
			s.b.log.Debug("irc command dropped", "reason", "user cooldown", "nick", chat.Sanitize(p.Name))
		} else {
			s.b.log.Debug("irc command dropped", "reason", "channel cooldown", "channel", chat.Sanitize(target))
		}
		return
	}
	j := job{target: replyTo, cmd: cmd, from: s.who(m)}
	if isChannel(target) {
		j.channel = target
	}
	select {
	case s.jobs <- j:
	default:
		s.b.stats.dropped.WithLabelValues(chat.DropQueueFull).Inc()
		s.b.log.Debug("irc command dropped", "reason", "queue full", "nick", chat.Sanitize(p.Name))
	}
}

// who is the person who sent m, with the account the server vouches for
// (see person.Account) and, for a channel message, whether they are an
// operator there.
func (s *session) who(m *ircv4.Message) person {
	p := person{Nick: m.Prefix.Name}
	if m.Prefix.User != "" && m.Prefix.Host != "" {
		p.Mask = m.Prefix.Name + "!" + m.Prefix.User + "@" + m.Prefix.Host
	}
	var mem member
	if ch := m.Params[0]; isChannel(ch) {
		mem = s.roster.lookup(ch, p.Nick)
		p.Op = mem.op
	}
	s.mu.Lock()
	tagged, tracked := s.caps["account-tag"], s.accountsTracked()
	s.mu.Unlock()
	switch {
	case tagged:
		p.Account = accountName(m.Tags["account"])
	case tracked:
		p.Account = mem.account
	}
	return p
}

// accountsTracked reports whether the roster's accounts can be trusted:
// the server tells each change (account-notify) and the account of every
// member, those who join (extended-join) and those already there (WHOX).
// s.mu must be held.
func (s *session) accountsTracked() bool {
	return s.caps["account-notify"] && s.caps["extended-join"] && s.roster.hasWHOX()
}

// remember keeps a channel line for !grab, cleaned: a CTCP ACTION ("/me
// waves") as "* nick waves", as quote bots grab it; other CTCP, and lines
// that chat.CleanText refuses, are not kept.
func (s *session) remember(nick, target, text string) {
	if !isChannel(target) {
		return
	}
	if strings.HasPrefix(text, "\x01") {
		body := strings.TrimSuffix(text[1:], "\x01")
		verb, rest, _ := strings.Cut(body, " ")
		if !strings.EqualFold(verb, "ACTION") || strings.TrimSpace(rest) == "" {
			return
		}
		text = "* " + nick + " " + rest
	}
	clean, bad := chat.CleanText(text)
	if bad != "" || clean == "" {
		return
	}
	s.b.lines.record(target, said{Nick: nick, Text: clean, At: s.b.cal.Time()})
}

// ctcp answers VERSION, at most once per CTCPInterval whoever asks, and ignores
// every other CTCP (PING, TIME, CLIENTINFO, ACTION...).
func (s *session) ctcp(nick, text string) {
	body := strings.Trim(text, "\x01")
	if name, _, _ := strings.Cut(body, " "); !strings.EqualFold(name, "VERSION") {
		return
	}
	if !validMiddle(nick) || !s.b.ctcpCD.Allow("VERSION") {
		return
	}
	s.control("NOTICE", nick, "\x01VERSION "+chat.Sanitize(s.b.cfg.Version)+"\x01")
}
