package irc

// Dispatch: every message from the server goes to the part of the session
// that deals with it.

import (
	"runtime/debug"
	"strings"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
)

// handle is irc.v4's handler: it runs on irc.v4's read goroutine, so it
// never writes (which may wait for the send pacing) but queues, and a bug
// in it is recovered and logged rather than taking the process down.
func (s *session) handle(_ *ircv4.Client, m *ircv4.Message) {
	defer func() {
		if r := recover(); r != nil {
			s.b.log.Error("irc handler panicked", "command", m.Command, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	from := ""
	if m.Prefix != nil {
		from = m.Prefix.Name
	}
	switch m.Command {
	case ircv4.RPL_WELCOME:
		s.mu.Lock()
		s.registered = true
		s.nick = m.Params[0]
		if s.b.cfg.SASLUser == "" { // else negotiateSASL recorded them
			for _, c := range curationCaps {
				if s.client.CapEnabled(c) {
					s.caps[c] = true
				}
			}
		}
		s.mu.Unlock()
		s.b.log.Info("irc registered", "nick", m.Params[0])
		s.b.stats.connected.Set(1)
		for _, params := range joinParams(s.b.cfg.Channels) {
			s.control("JOIN", params...)
		}
	case "396": // RPL_HOSTHIDDEN: <nick> <host> :is now your hidden host
		if len(m.Params) >= 2 {
			s.mu.Lock()
			if u, _, ok := strings.Cut(s.userhost, "@"); ok {
				s.userhost = u + "@" + m.Params[1]
			}
			s.mu.Unlock()
		}
	case ircv4.RPL_ISUPPORT:
		if len(m.Params) >= 2 {
			s.roster.isupport(m.Params[1:])
		}
	case ircv4.RPL_NAMREPLY:
		s.roster.names(m)
	case "354": // RPL_WHOSPCRPL: our WHOX query's answer
		s.roster.whoxReply(m)
	case "MODE":
		s.roster.mode(m.Params)
	case "ACCOUNT": // account-notify
		if len(m.Params) >= 1 {
			s.roster.account(from, m.Params[0])
		}
	case ircv4.ERR_NICKNAMEINUSE, ircv4.ERR_ERRONEUSNICKNAME, ircv4.ERR_NICKCOLLISION, ircv4.ERR_UNAVAILRESOURCE:
		s.nickRefused(m)
	case "464": // ERR_PASSWDMISMATCH
		s.fail(permanent("irc server password refused: %s", chat.Sanitize(m.Trailing())))
	case "NICK":
		if len(m.Params) < 1 {
			return
		}
		s.mu.Lock()
		ours := strings.EqualFold(from, s.nick)
		if ours {
			s.nick = m.Params[0]
		}
		s.mu.Unlock()
		s.roster.rename(from, m.Params[0])
		s.b.lines.rename(from, m.Params[0])
		if ours {
			s.b.log.Info("irc nick changed", "nick", m.Params[0])
		} else if strings.EqualFold(from, s.b.cfg.Nick) {
			s.regain() // the holder of our nick moved off it
		}
	case "QUIT":
		s.roster.quit(from)
		if strings.EqualFold(from, s.b.cfg.Nick) {
			s.regain()
		}
	case "JOIN":
		if len(m.Params) < 1 {
			return
		}
		if !s.isMe(from) {
			// extended-join: "JOIN #chan account :real name".
			s.mu.Lock()
			extended := s.caps["extended-join"]
			s.mu.Unlock()
			s.roster.join(m.Params[0], from, m.Param(1), extended && len(m.Params) >= 3)
			return
		}
		ch := m.Params[0]
		s.mu.Lock()
		s.joined[strings.ToLower(ch)] = ch
		if m.Prefix.User != "" && m.Prefix.Host != "" {
			s.userhost = m.Prefix.User + "@" + m.Prefix.Host
		}
		s.mu.Unlock()
		s.roster.joined(ch)
		if s.roster.hasWHOX() && s.b.wantsAccounts() {
			s.control("WHO", ch, "%tcnfa,"+whoxToken)
		}
		s.b.log.Info("joined", "channel", ch)
		s.checkDaily()
	case "PART":
		if len(m.Params) < 1 {
			return
		}
		if s.isMe(from) {
			s.leave(m.Params[0])
			s.roster.left(m.Params[0])
		} else {
			s.roster.part(m.Params[0], from)
		}
	case "KICK":
		if len(m.Params) < 2 {
			return
		}
		if s.isMe(m.Params[1]) {
			s.roster.left(m.Params[0])
			s.kicked(m.Params[0], from, m.Param(2))
		} else {
			s.roster.part(m.Params[0], m.Params[1])
		}
	case "INVITE":
		if len(m.Params) >= 2 {
			s.invited(m.Params[1], from)
		}
	case "PRIVMSG":
		if len(m.Params) >= 2 && from != "" && !s.isMe(from) {
			s.privmsg(m)
		}
	case "ERROR":
		s.b.log.Warn("irc server closed the link", "reason", chat.Sanitize(m.Trailing()))
	case "403", "405", "471", "473", "474", "475", "477":
		// No such channel, too many, full, invite only, banned, bad key,
		// needs a registered nick: not retried (a ban is not to be
		// fought), but the operator must be able to see why.
		s.b.log.Warn("irc cannot join", "channel", chat.Sanitize(m.Param(1)), "code", m.Command, "reason", chat.Sanitize(m.Trailing()))
	}
	// NOTICE is deliberately not handled: RFC 2812 forbids automatic
	// replies to it, which is what keeps two bots from talking forever.
}

func (s *session) isMe(nick string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nick != "" && strings.EqualFold(nick, s.nick)
}
