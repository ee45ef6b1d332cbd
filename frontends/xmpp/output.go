package xmpp

// Output: the one writer goroutine, paced so that the server's rate
// limits (Prosody's limits module, ejabberd's shapers) never see a flood
// from the bot, however many people ask at once.

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/frontends/chat"
)

// replyQueue bounds the answers waiting to be sent: past it, a request
// is dropped (and counted) rather than queued for minutes.
const replyQueue = 32

// writeWait bounds one write: a server that stops reading ends the
// session instead of holding the writer for ever.
const writeWait = 30 * time.Second

// control queues a stanza that must be sent (presences: joins, nickname
// changes).
func (s *session) control(raw string) {
	select {
	case s.ctrl <- raw:
	default:
		s.b.log.Warn("xmpp control queue full: stanza dropped")
	}
}

// reply queues an answer; a full queue drops it.
func (s *session) reply(raw string) bool {
	select {
	case s.replies <- raw:
		return true
	default:
		s.b.stats.Dropped.WithLabelValues(chat.DropQueueFull).Inc()
		return false
	}
}

// writer is the one goroutine that sends what the bot says: presences
// first, then daily posts, then answers, each waiting for the pacing.
func (s *session) writer() {
	lim := rate.NewLimiter(rate.Inf, 1)
	if s.b.cfg.SendInterval > 0 {
		lim = rate.NewLimiter(rate.Every(s.b.cfg.SendInterval), s.b.cfg.SendBurst)
	}
	send := func(raw string) bool {
		if err := lim.Wait(s.ctx); err != nil {
			return false
		}
		return s.sendNow(raw) == nil
	}
	for {
		select {
		case raw := <-s.ctrl:
			if !send(raw) {
				return
			}
			continue
		default:
		}
		select {
		case <-s.ctx.Done():
			return
		case raw := <-s.ctrl:
			if !send(raw) {
				return
			}
		case <-s.dailyC:
			s.postDaily(send)
		case raw := <-s.replies:
			if !send(raw) {
				return
			}
		}
	}
}

// sendNow writes one stanza, written as XML, within writeWait; a failure
// ends the session.
func (s *session) sendNow(raw string) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeWait)
	defer cancel()
	conn := s.xs.Conn()
	_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
	err := s.xs.Send(ctx, xml.NewDecoder(strings.NewReader(raw)))
	_ = conn.SetWriteDeadline(time.Time{})
	if err != nil {
		s.fail(fmt.Errorf("xmpp write: %w", err))
		return err
	}
	s.b.stats.sent.Inc()
	return nil
}

// messageStanza is a message of type typ ("groupchat" to a room, "chat"
// to a person) with body, cleaned line by line.
func messageStanza(to, typ, body string) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return fmt.Sprintf(`<message to="%s" type="%s"><body>%s</body></message>`, escape(to), typ, escapeText(strings.Join(lines, "\n")))
}

// escapeText is escape, keeping line breaks as they are.
func escapeText(s string) string {
	return strings.ReplaceAll(escape(s), "&#xA;", "\n")
}
