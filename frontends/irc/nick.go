package irc

// The bot's nick: alternatives while the wanted one is refused at
// registration, and getting the wanted one back once it is free.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
)

// maxNickTries bounds how many alternative nicks one registration tries
// before the session gives up (and the next one starts from the wanted nick).
const maxNickTries = 10

// nickRefused handles 433 (in use), 432 (erroneous), 436 (collision) and
// 437 (held). Before registration irc.v4 itself answers 433 and 437 by
// appending "_"; 432 and 436 get a numbered alternative here
// ("quotesd1"), cut to the 9 characters every server allows, since an
// erroneous nick is often just too long. After registration these only
// answer our attempts to regain the wanted nick: we stay where we are.
func (s *session) nickRefused(m *ircv4.Message) {
	s.mu.Lock()
	registered := s.registered
	s.nickTries++
	tries := s.nickTries
	if registered && m.Command == ircv4.ERR_ERRONEUSNICKNAME {
		s.nickBad = true
	}
	s.mu.Unlock()
	if registered {
		return
	}
	s.b.log.Warn("irc nick refused", "code", m.Command, "nick", chat.Sanitize(m.Param(1)))
	if tries > maxNickTries {
		s.fail(fmt.Errorf("no acceptable nick after %d tries", maxNickTries))
		return
	}
	if m.Command == ircv4.ERR_ERRONEUSNICKNAME || m.Command == ircv4.ERR_NICKCOLLISION {
		// Written directly: irc.v4 writes its own 433 answer from this
		// goroutine too, and registration cannot go on without it.
		_ = s.client.Write("NICK " + altNick(s.b.cfg.Nick, tries))
	}
}

// altNick returns the n-th alternative to nick: nick with n appended, the
// whole at most 9 characters (RFC 2812's minimum NICKLEN).
func altNick(nick string, n int) string {
	suffix := strconv.Itoa(n)
	if len(nick)+len(suffix) > 9 {
		nick = nick[:max(1, 9-len(suffix))]
	}
	return nick + suffix
}

// regain asks for the wanted nick when we are on an alternative.
func (s *session) regain() {
	s.mu.Lock()
	want := s.registered && !s.nickBad && !strings.EqualFold(s.nick, s.b.cfg.Nick)
	s.mu.Unlock()
	if want {
		s.control("NICK", s.b.cfg.Nick)
	}
}

// regainer tries to get the wanted nick back every RegainInterval (never
// when 0), for servers whose QUIT or NICK of the holder we do not see (it
// shares no channel).
func (s *session) regainer() {
	if s.b.cfg.RegainInterval == 0 {
		return
	}
	t := time.NewTicker(s.b.cfg.RegainInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.regain()
		}
	}
}
