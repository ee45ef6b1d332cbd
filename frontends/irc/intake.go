package irc

// Intake: what people say to the bot (commands, CTCP) becomes jobs for the
// writer, within the cooldowns and a short queue.

import (
	"strings"

	ircv4 "gopkg.in/irc.v4"
)

// jobQueue is how many commands may wait for the send pacing; more are
// dropped in silence. With 3 lines a reply and 2 s a line after the burst,
// a full queue is already half a minute of talking.
const jobQueue = 4

// job is a command to answer.
type job struct {
	target string // the channel, or the nick of a private message
	cmd    command
}

// privmsg handles a message to a channel or to us: CTCP, or a command.
// Requests over a cooldown or past the queue are dropped in silence.
func (s *session) privmsg(p *ircv4.Prefix, target, text string) {
	if strings.HasPrefix(text, "\x01") {
		s.ctcp(p.Name, text)
		return
	}
	cmd, ok := parseCommand(text, s.b.commandPrefix())
	if !ok {
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
	if !s.b.userCD.allow(user) {
		s.b.stats.dropped.WithLabelValues(dropUserCooldown).Inc()
		s.b.log.Debug("irc command dropped", "reason", "user cooldown", "nick", sanitize(p.Name))
		return
	}
	if isChannel(target) && !s.b.chanCD.allow(strings.ToLower(target)) {
		s.b.userCD.undo(user)
		s.b.stats.dropped.WithLabelValues(dropChannelCooldown).Inc()
		s.b.log.Debug("irc command dropped", "reason", "channel cooldown", "channel", sanitize(target))
		return
	}
	select {
	case s.jobs <- job{target: replyTo, cmd: cmd}:
	default:
		s.b.stats.dropped.WithLabelValues(dropQueueFull).Inc()
		s.b.log.Debug("irc command dropped", "reason", "queue full", "nick", sanitize(p.Name))
	}
}

// ctcp answers VERSION, at most once per CTCPInterval whoever asks, and ignores
// every other CTCP (PING, TIME, CLIENTINFO, ACTION...).
func (s *session) ctcp(nick, text string) {
	body := strings.Trim(text, "\x01")
	if name, _, _ := strings.Cut(body, " "); !strings.EqualFold(name, "VERSION") {
		return
	}
	if !validMiddle(nick) || !s.b.ctcpCD.allow("VERSION") {
		return
	}
	s.control("NOTICE", nick, "\x01VERSION "+sanitize(s.b.cfg.Version)+"\x01")
}
