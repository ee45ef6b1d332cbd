package irc

// Output: the one writer goroutine, and every line made safe and cut to
// fit before it is sent.

import (
	"strings"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
)

// control queues a line that must be sent (JOIN, NICK).
func (s *session) control(cmd string, params ...string) {
	select {
	case s.ctrl <- &ircv4.Message{Command: cmd, Params: params}:
	default:
		s.b.log.Warn("irc control queue full: line dropped", "command", cmd)
	}
}

// writer is the one goroutine that sends what the bot says: control lines
// first, then daily posts, then answers. Sends wait for irc.v4's pacing.
func (s *session) writer() {
	for {
		select {
		case m := <-s.ctrl:
			s.send(m)
			continue
		default:
		}
		select {
		case <-s.ctx.Done():
			return
		case m := <-s.ctrl:
			s.send(m)
		case <-s.dailyC:
			s.postDaily()
		case j := <-s.jobs:
			s.b.stats.commands.WithLabelValues(j.cmd.Kind).Inc()
			lines, private := s.answer(j)
			for _, l := range lines {
				if s.ctx.Err() != nil || s.privmsgLine(j.target, l) != nil {
					break
				}
			}
			for _, l := range private {
				if s.ctx.Err() != nil || s.send(&ircv4.Message{Command: "NOTICE", Params: []string{j.from.Nick, l}}) != nil {
					break
				}
			}
		}
	}
}

// privmsgLine sends one line of text to target.
func (s *session) privmsgLine(target, text string) error {
	return s.send(&ircv4.Message{Command: "PRIVMSG", Params: []string{target, text}})
}

// send writes m after making it safe: every parameter but the last must
// be one clean word, the last is sanitized (CR, LF, NUL, control and
// formatting codes removed; CTCP's \x01 framing is kept for our own
// NOTICE replies), and the line is cut so that, as the server relays it
// with our prefix, it stays within 512 bytes.
func (s *session) send(m *ircv4.Message) error {
	if len(m.Params) == 0 {
		return s.client.WriteMessage(m)
	}
	last := len(m.Params) - 1
	for _, p := range m.Params[:last] {
		if !validMiddle(p) {
			s.b.log.Error("irc line not sent: bad parameter", "command", m.Command, "param", chat.Sanitize(p))
			return nil
		}
	}
	trailing := m.Params[last]
	ctcp := m.Command == "NOTICE" && strings.HasPrefix(trailing, "\x01") && strings.HasSuffix(trailing, "\x01") && len(trailing) >= 2
	if ctcp {
		trailing = "\x01" + chat.Sanitize(trailing[1:len(trailing)-1]) + "\x01"
	} else {
		trailing = chat.Sanitize(trailing)
	}
	if trailing == "" && (m.Command == "PRIVMSG" || m.Command == "NOTICE") {
		return nil
	}
	out := &ircv4.Message{Command: m.Command, Params: append(append([]string(nil), m.Params[:last]...), trailing)}
	line := out.String()
	if room := MaxLine - 2 - s.relayOverhead(); len(line) > room {
		// Should not happen: replies are split to fit. Cut at a character
		// boundary rather than let the server cut mid-character.
		cut := len(line) - room
		t := trailing[:chat.BreakAt(trailing, max(0, len(trailing)-cut))]
		if ctcp {
			t = strings.TrimSuffix(t, "\x01") + "\x01"
		}
		out.Params[last] = t
		line = out.String()
	}
	err := s.client.Write(line)
	if err != nil {
		s.b.log.Debug("irc write failed", "err", err)
	}
	return err
}

// relayOverhead is what a server adds in front of our line when it relays
// it: ":nick!user@host ". A nick the bot does not know (checkLine keeps
// servers from setting an empty one, but should it ever be) counts as the
// longest nick servers commonly allow.
func (s *session) relayOverhead() int {
	s.mu.Lock()
	nick, uh := s.nick, s.userhost
	s.mu.Unlock()
	nickLen := len(nick)
	if nickLen == 0 {
		nickLen = assumedNickLen
	}
	if uh == "" {
		return 1 + nickLen + 1 + assumedUserLen + 1 + assumedHostLen + 1
	}
	return 1 + nickLen + 1 + len(uh) + 1
}

// width is how many bytes of text fit in one PRIVMSG to target.
func (s *session) width(target string) int {
	return MaxLine - 2 - s.relayOverhead() - len("PRIVMSG ") - len(target) - len(" :")
}
