package xmpp

// Dispatch: every stanza from the server goes to the part of the session
// that deals with it.

import (
	"encoding/xml"
	"runtime/debug"
	"strings"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
)

// handle is mellium's handler: it runs on the stream's read goroutine,
// which holds the stream, so it never sends through the session (it
// queues) except to answer an IQ through t, as mellium wants. A bug in it
// is recovered and logged rather than taking the process down.
func (s *session) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.b.log.Error("xmpp handler panicked", "element", start.Name.Local, "panic", r, "stack", string(debug.Stack()))
			err = nil
		}
	}()
	e, err := readElement(t, *start, s.b.cfg.MaxStanza)
	if err == errTooBig {
		s.b.stats.Dropped.WithLabelValues(dropTooBig).Inc()
		return nil
	} else if err != nil {
		return err
	}
	switch e.Name.Local {
	case "message":
		s.message(e)
	case "presence":
		s.presence(e)
	case "iq":
		return s.iq(t, e)
	}
	return nil
}

// message answers a command in a room or a 1:1 chat. It ignores, as the
// IRC bot ignores NOTICEs, what must never be answered automatically:
// errors and headlines (two bots answering each other's would never
// stop), delayed messages (a room's history, offline messages: old news),
// our own messages as rooms echo them, and messages without a body (chat
// states, receipts).
func (s *session) message(e *element) {
	typ := e.attr("type")
	if typ == "error" || typ == "headline" || e.delayed() {
		return
	}
	body := e.child("", "body")
	if body == nil || e.child("", "subject") != nil {
		return
	}
	from, err := jid.Parse(e.attr("from"))
	if err != nil {
		return
	}
	text := firstLine(body.Text)
	switch typ {
	case "groupchat":
		r := s.room(from.Bare())
		if r == nil || from.Resourcepart() == "" || r.isMe(from.Resourcepart()) {
			return
		}
		s.command(request{room: r.cfg.JID, user: from.Bare().String() + "/" + from.Resourcepart(), text: text})
	default: // chat, normal
		if from.Bare().Equal(s.me.Bare()) || from.Equal(s.me.Domain()) {
			return
		}
		user := from.Bare().String()
		if s.room(from.Bare()) != nil {
			// A private message through a room: the occupant is the
			// person, their address the room's.
			user = from.String()
		}
		s.command(request{to: from.String(), user: user, text: text})
	}
}

// firstLine is the first line of a message body, cleaned: a command is
// one line, and whatever follows it is not read.
func firstLine(s string) string {
	s = strings.TrimLeft(s, " \t\r\n")
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(clean(s))
}
