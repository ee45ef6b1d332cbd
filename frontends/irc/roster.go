package irc

// The roster: who is in the bot's channels, which of them are channel
// operators (for --irc-ops-curate) and which services account each is
// logged in to, as far as the server tells. It is kept per session, from
// NAMES, JOIN, PART, KICK, QUIT, NICK and MODE, and, where the server
// offers them, IRCv3 extended-join, account-notify and WHOX.

import (
	"strings"
	"sync"

	ircv4 "gopkg.in/irc.v4"
)

// The IRCv3 capabilities the bot asks for when curation is configured.
// account-tag tags each message with its sender's account: the surest
// source. extended-join gives a joining member's account and
// account-notify every later change; with WHOX for those present when
// the bot joins, they keep the roster's accounts true. ngircd offers
// none of them (nor WHOX): there curators are known by hostmask only.
var curationCaps = []string{"account-tag", "extended-join", "account-notify"}

// maxRosterMembers bounds the members remembered per channel.
const maxRosterMembers = 10000

// member is what the roster knows of one nick in one channel.
type member struct {
	op      bool
	account string // "" when not logged in or not known
}

// roster is the session's view of its channels.
type roster struct {
	mu sync.Mutex
	// chans maps a lower-cased channel to its members by lower-cased nick.
	chans map[string]map[string]*member
	// opPrefixes are the NAMES prefixes that mean operator or above, and
	// opModes the channel modes that give them (from ISUPPORT PREFIX).
	opPrefixes, opModes string
	prefixes            string // every NAMES prefix
	// prefixModes are all the modes with a NAMES prefix; argModes the
	// other modes that take an argument when set, unsetArgModes when unset
	// (from ISUPPORT CHANMODES).
	prefixModes, argModes, unsetArgModes string
	whox                                 bool // the server offers WHOX
}

func newRoster() *roster {
	return &roster{
		chans:      make(map[string]map[string]*member),
		opPrefixes: "~&@", opModes: "qao", prefixModes: "qaohv", prefixes: "~&@%+",
		argModes: "beIkl", unsetArgModes: "beIk",
	}
}

// isupport reads the tokens of an RPL_ISUPPORT (005) that matter here.
func (r *roster) isupport(params []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tok := range params {
		name, value, _ := strings.Cut(tok, "=")
		switch strings.ToUpper(name) {
		case "WHOX":
			r.whox = true
		case "PREFIX": // (qaohv)~&@%+
			modes, prefixes, ok := strings.Cut(strings.TrimPrefix(value, "("), ")")
			if !ok || len(modes) != len(prefixes) {
				continue
			}
			r.prefixModes, r.prefixes, r.opModes, r.opPrefixes = modes, prefixes, "", ""
			for i := 0; i < len(modes); i++ {
				if strings.IndexByte("hv", modes[i]) < 0 { // halfops and voices are not operators
					r.opModes += modes[i : i+1]
					r.opPrefixes += prefixes[i : i+1]
				}
			}
		case "CHANMODES": // list,always,set-only,never
			kinds := strings.Split(value, ",")
			if len(kinds) >= 3 {
				r.argModes = kinds[0] + kinds[1] + kinds[2]
				r.unsetArgModes = kinds[0] + kinds[1]
			}
		}
	}
}

// hasWHOX reports whether the server offers WHOX.
func (r *roster) hasWHOX() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.whox
}

// channel returns the members of ch; nil when the bot is not in it.
func (r *roster) channel(ch string) map[string]*member {
	return r.chans[ircLower(ch)]
}

// add records nick in ch, a channel the bot is in, when there is room,
// and returns its entry (a throwaway one otherwise).
func (r *roster) add(ch, nick string) *member {
	m := r.channel(ch)
	if m == nil {
		return &member{}
	}
	key := ircLower(nick)
	if e := m[key]; e != nil {
		return e
	}
	e := &member{}
	if len(m) < maxRosterMembers {
		m[key] = e
	}
	return e
}

// joined starts ch afresh as the bot joins it.
func (r *roster) joined(ch string) {
	r.mu.Lock()
	r.chans[ircLower(ch)] = make(map[string]*member)
	r.mu.Unlock()
}

// left forgets ch.
func (r *roster) left(ch string) {
	r.mu.Lock()
	delete(r.chans, ircLower(ch))
	r.mu.Unlock()
}

// names reads an RPL_NAMREPLY (353): "<me> <type> <channel> :[prefixes]nick ...".
func (r *roster) names(m *ircv4.Message) {
	if len(m.Params) < 4 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range strings.Fields(m.Params[3]) {
		nick := strings.TrimLeft(w, r.prefixes)
		prefix := w[:len(w)-len(nick)]
		nick, _, _ = strings.Cut(nick, "!") // userhost-in-names
		if nick == "" {
			continue
		}
		r.add(m.Params[2], nick).op = strings.ContainsAny(prefix, r.opPrefixes)
	}
}

// join records nick joining ch; with extended-join, account is its
// account ("*" for none) and known says so.
func (r *roster) join(ch, nick, account string, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.add(ch, nick)
	e.op = false
	if known {
		e.account = accountName(account)
	}
}

// part forgets nick in ch (PART, KICK).
func (r *roster) part(ch, nick string) {
	r.mu.Lock()
	if m := r.channel(ch); m != nil {
		delete(m, ircLower(nick))
	}
	r.mu.Unlock()
}

// quit forgets nick everywhere.
func (r *roster) quit(nick string) {
	r.mu.Lock()
	for _, m := range r.chans {
		delete(m, ircLower(nick))
	}
	r.mu.Unlock()
}

// rename follows a NICK change everywhere.
func (r *roster) rename(from, to string) {
	r.mu.Lock()
	for _, m := range r.chans {
		if e := m[ircLower(from)]; e != nil {
			delete(m, ircLower(from))
			m[ircLower(to)] = e
		}
	}
	r.mu.Unlock()
}

// account follows an ACCOUNT message (account-notify): nick logged in to
// account, or out ("*").
func (r *roster) account(nick, account string) {
	r.mu.Lock()
	for _, m := range r.chans {
		if e := m[ircLower(nick)]; e != nil {
			e.account = accountName(account)
		}
	}
	r.mu.Unlock()
}

// whoxReply reads an RPL_WHOSPCRPL (354) to the bot's "WHO #chan
// %tcnfa,<whoxToken>": "<me> <token> <channel> <nick> <flags> <account>".
func (r *roster) whoxReply(m *ircv4.Message) {
	if len(m.Params) < 6 || m.Params[1] != whoxToken {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.channel(m.Params[2]) == nil {
		return
	}
	e := r.add(m.Params[2], m.Params[3])
	e.op = strings.ContainsAny(m.Params[4], r.opPrefixes)
	e.account = accountName(m.Params[5])
}

// whoxToken marks the bot's own WHOX queries' replies.
const whoxToken = "417"

// mode follows a channel MODE: "<channel> <modes> [args...]", for the
// operator modes.
func (r *roster) mode(params []string) {
	if len(params) < 2 || !isChannel(params[0]) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	args := params[2:]
	set := true
	for _, c := range params[1] {
		switch {
		case c == '+' || c == '-':
			set = c == '+'
			continue
		case strings.ContainsRune(r.prefixModes, c):
			if len(args) == 0 {
				return
			}
			if strings.ContainsRune(r.opModes, c) {
				if e := r.channel(params[0])[ircLower(args[0])]; e != nil {
					e.op = set
				}
			}
			args = args[1:]
		case set && strings.ContainsRune(r.argModes, c), !set && strings.ContainsRune(r.unsetArgModes, c):
			if len(args) > 0 {
				args = args[1:]
			}
		}
	}
}

// lookup returns what the roster knows of nick in ch.
func (r *roster) lookup(ch, nick string) member {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.channel(ch)[ircLower(nick)]; e != nil {
		return *e
	}
	return member{}
}

// accountName is the account in an extended JOIN, ACCOUNT or WHOX reply:
// "*" and "0" mean none.
func accountName(a string) string {
	if a == "*" || a == "0" {
		return ""
	}
	return a
}
