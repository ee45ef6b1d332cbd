package irc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
)

// SASL is done on the connection before irc.v4 takes it over. irc.v4's own
// capability negotiation sends CAP END as soon as the server has
// acknowledged the capabilities, which is before AUTHENTICATE could run,
// and its write hook is not part of its stable API. So the bot negotiates
// here, on the bare connection, in the order IRCv3 asks for:
//
//	PASS (if any), CAP LS 302, CAP REQ :sasl, AUTHENTICATE PLAIN,
//	AUTHENTICATE <base64 in 400-byte chunks>, 903, CAP END
//
// and only then hands the connection to irc.v4, which registers with NICK
// and USER (the server holds registration until CAP END, so nothing is
// lost; no capability is left for irc.v4 to negotiate). Lines irc.v4 would
// have seen meanwhile (notices, PING) are answered or skipped here.

// errNoSASL is the server not offering SASL: perhaps its services are down
// (some ircds hide the capability then), so it is worth trying again later.
var errNoSASL = errors.New("server does not offer SASL")

// saslChunk is the most base64 an AUTHENTICATE line carries.
const saslChunk = 400

// authenticateLines returns the AUTHENTICATE payload lines for SASL PLAIN:
// base64 of "authzid NUL authcid NUL password" cut in 400-byte chunks, with
// a final "+" when the last chunk is exactly 400 bytes (or the payload is
// empty), as the IRCv3 SASL specification requires.
func authenticateLines(user, password string) []string {
	enc := base64.StdEncoding.EncodeToString([]byte(user + "\x00" + user + "\x00" + password))
	var lines []string
	for len(enc) >= saslChunk {
		lines = append(lines, "AUTHENTICATE "+enc[:saslChunk])
		enc = enc[saslChunk:]
	}
	if enc == "" {
		return append(lines, "AUTHENTICATE +")
	}
	return append(lines, "AUTHENTICATE "+enc)
}

// negotiateSASL runs the exchange above. Errors marked permanent (bad
// credentials, no PLAIN mechanism) end the bot; others are retried.
func (s *session) negotiateSASL(lc *lineConn) error {
	cfg := &s.b.cfg
	if cfg.Password != "" {
		if err := lc.writeLine("PASS :" + cfg.Password); err != nil {
			return err
		}
	}
	if err := lc.writeLine("CAP LS 302"); err != nil {
		return err
	}
	var caps []string
	for done := false; !done; {
		m, err := s.preRegMessage(lc)
		if err != nil {
			return fmt.Errorf("waiting for CAP LS: %w", err)
		}
		switch {
		case m.Command == "CAP" && len(m.Params) >= 3 && strings.EqualFold(m.Params[1], "LS"):
			caps = append(caps, strings.Fields(m.Trailing())...)
			// "CAP * LS * :caps" announces more lines; the last has no "*".
			done = !(len(m.Params) >= 4 && m.Params[2] == "*")
		case m.Command == "421" || m.Command == "451": // CAP unknown: a server from before IRCv3
			return errNoSASL
		}
	}
	i := slices.IndexFunc(caps, func(c string) bool { return c == "sasl" || strings.HasPrefix(c, "sasl=") })
	if i < 0 {
		return errNoSASL
	}
	if _, mechs, ok := strings.Cut(caps[i], "="); ok && !slices.Contains(strings.Split(strings.ToUpper(mechs), ","), "PLAIN") {
		return permanent("irc SASL: server offers only %s, not PLAIN", mechs)
	}
	if err := lc.writeLine("CAP REQ :sasl"); err != nil {
		return err
	}
	for acked := false; !acked; {
		m, err := s.preRegMessage(lc)
		if err != nil {
			return fmt.Errorf("waiting for CAP ACK: %w", err)
		}
		if m.Command == "CAP" && len(m.Params) >= 3 {
			switch strings.ToUpper(m.Params[1]) {
			case "ACK":
				acked = true
			case "NAK":
				return errNoSASL
			}
		}
	}
	if s.b.wantsAccounts() {
		if err := s.requestCaps(lc, caps); err != nil {
			return err
		}
	}
	if err := lc.writeLine("AUTHENTICATE PLAIN"); err != nil {
		return err
	}
	for {
		m, err := s.preRegMessage(lc)
		if err != nil {
			return fmt.Errorf("during SASL: %w", err)
		}
		switch m.Command {
		case "AUTHENTICATE":
			if m.Param(0) != "+" {
				return fmt.Errorf("irc SASL: unexpected challenge %q", preview(m.Param(0)))
			}
			for _, l := range authenticateLines(cfg.SASLUser, cfg.SASLPassword) {
				if err := lc.writeLine(l); err != nil {
					return err
				}
			}
		case "900": // RPL_LOGGEDIN
			s.b.log.Info("irc logged in", "account", cfg.SASLUser)
		case "903": // RPL_SASLSUCCESS
			return lc.writeLine("CAP END")
		case "902": // ERR_NICKLOCKED
			return permanent("irc SASL: account %q is locked: %s", cfg.SASLUser, chat.Sanitize(m.Trailing()))
		case "904", "905", "908": // failed, message too long, mechanism unknown
			return permanent("irc SASL authentication as %q failed: %s %s", cfg.SASLUser, m.Command, chat.Sanitize(m.Trailing()))
		case "906", "907": // aborted, already authenticated
			return fmt.Errorf("irc SASL: %s %s", m.Command, chat.Sanitize(m.Trailing()))
		}
	}
}

// requestCaps asks, one at a time (a refusal of one must not cost the
// others), for those of curationCaps the server offers in offered, and
// records those it grants in s.caps.
func (s *session) requestCaps(lc *lineConn, offered []string) error {
	for _, want := range curationCaps {
		if !slices.ContainsFunc(offered, func(c string) bool { name, _, _ := strings.Cut(c, "="); return name == want }) {
			continue
		}
		if err := lc.writeLine("CAP REQ :" + want); err != nil {
			return err
		}
		for answered := false; !answered; {
			m, err := s.preRegMessage(lc)
			if err != nil {
				return fmt.Errorf("waiting for CAP ACK: %w", err)
			}
			if m.Command == "CAP" && len(m.Params) >= 3 {
				switch strings.ToUpper(m.Params[1]) {
				case "ACK":
					s.mu.Lock()
					s.caps[want] = true
					s.mu.Unlock()
					answered = true
				case "NAK":
					answered = true
				}
			}
		}
	}
	return nil
}

// preRegMessage reads the next message during the pre-registration
// exchange, answering PING and failing on ERROR.
func (s *session) preRegMessage(lc *lineConn) (m *ircv4.Message, err error) {
	for {
		m, _, err = lc.readMessage()
		if err != nil {
			return nil, err
		}
		switch m.Command {
		case "PING":
			if err := lc.writeLine("PONG :" + chat.Sanitize(m.Trailing())); err != nil {
				return nil, err
			}
			continue
		case "ERROR":
			return nil, fmt.Errorf("server closed the link: %s", chat.Sanitize(m.Trailing()))
		}
		return m, nil
	}
}
