package irc

// Who may curate: the --irc-curators entries and how a person on IRC is
// matched against them.

import (
	"fmt"
	"strings"
)

// accountPrefix marks a --irc-curators entry that names a services account.
const accountPrefix = "account:"

// Curator is one --irc-curators entry: a hostmask glob, such as
// "alice!*@*.example.org" (* any run of characters, ? any one), or a
// services account, written "account:alice". A hostmask is only as good
// as the server's host names (a cloak, an ident the server checked); an
// account is what services vouch for, so prefer it where the server tells
// the bot accounts (see person.Account).
type Curator struct {
	Mask    string // a nick!user@host glob; "" for an account entry
	Account string // a services account; "" for a hostmask entry
}

// ParseCurator parses one entry.
func ParseCurator(s string) (Curator, error) {
	c := parseCurator(strings.TrimSpace(s))
	return c, c.check()
}

func parseCurator(s string) Curator {
	if len(s) >= len(accountPrefix) && strings.EqualFold(s[:len(accountPrefix)], accountPrefix) {
		return Curator{Account: s[len(accountPrefix):]}
	}
	return Curator{Mask: s}
}

// String returns the entry as --irc-curators lists it.
func (c Curator) String() string {
	if c.Mask == "" {
		return accountPrefix + c.Account
	}
	return c.Mask
}

// check refuses entries that could never match, or would match everyone
// by a slip ("*", "*!*@*"): a mask needs a nick, a '!', a user, an '@'
// and a host, and a host that is not only wildcards.
func (c Curator) check() error {
	if c.Mask == "" {
		if c.Account == "" || !validMiddle(c.Account) || strings.ContainsAny(c.Account, "*?,") {
			return fmt.Errorf("curator %q: want account:NAME, one word", c.String())
		}
		return nil
	}
	nick, rest, ok1 := strings.Cut(c.Mask, "!")
	user, host, ok2 := strings.Cut(rest, "@")
	if !ok1 || !ok2 || nick == "" || user == "" || host == "" || !validMiddle(c.Mask) || strings.ContainsRune(c.Mask, ',') {
		return fmt.Errorf("curator %q: want a hostmask nick!user@host (with * and ?) or account:NAME", c.String())
	}
	if strings.Trim(host, "*?.") == "" {
		return fmt.Errorf("curator %q: a host of only wildcards would let anyone curate", c.String())
	}
	return nil
}

// person is who sent a command, as far as the bot can tell.
type person struct {
	Nick string
	Mask string // nick!user@host as the server relayed it
	// Account is the services account the server says the person is
	// logged in to (IRCv3 account-tag, or extended-join, account-notify
	// and WHOX for a channel member); "" when not logged in or when the
	// server does not say (ngircd says nothing).
	Account string
	Op      bool // an operator of the channel the command came from
}

// matches reports whether p is the curator c.
func (c Curator) matches(p person) bool {
	if c.Mask == "" {
		return p.Account != "" && strings.EqualFold(ircLower(c.Account), ircLower(p.Account))
	}
	return p.Mask != "" && glob(ircLower(c.Mask), ircLower(p.Mask))
}

// ircLower lower-cases s with the rfc1459 case mapping most servers
// announce: {}|^ are the lower case of []\~.
func ircLower(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r == '[':
			return '{'
		case r == ']':
			return '}'
		case r == '\\':
			return '|'
		case r == '~':
			return '^'
		}
		return r
	}, s)
}

// glob reports whether s matches pattern, where * is any run of bytes and
// ? any one character; every other byte stands for itself (unlike
// path.Match, for which the [ ] common in nicks are a class). It runs in
// time linear in len(pattern)*len(s) at worst, backtracking only to the
// last star.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			if pattern[p] == '?' {
				// One character, not one byte: skip its continuation bytes.
				i++
				for i < len(s) && s[i]&0xc0 == 0x80 {
					i++
				}
				p++
				continue
			}
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// curatorList is the --irc-curators setting. Set takes any list, so that
// Validate, which checks each entry, names the flag at fault.
type curatorList []Curator

func (l *curatorList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, c := range *l {
		s[i] = c.String()
	}
	return strings.Join(s, ",")
}

func (l *curatorList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, parseCurator(f))
		}
	}
	return nil
}

// isCurator reports whether p may curate collection from channel ("" for
// a private message): p matches a --irc-curators entry, which curates
// every collection, or p is an operator of channel, --irc-ops-curate is
// on, and collection is one of the channel's own (see Channel.home; with
// no collections configured, quoter.DefaultCollection).
func (b *Bot) isCurator(p person, channel, collection string) bool {
	cfg := b.inForce.Load()
	for _, c := range cfg.Curators {
		if c.matches(p) {
			return true
		}
	}
	if !cfg.OpsCurate || !p.Op || channel == "" {
		return false
	}
	ch, ok := b.channel(channel)
	if !ok {
		return false
	}
	if len(ch.Collections) == 0 {
		return collection == ch.home()
	}
	for _, c := range ch.Collections {
		if c == collection {
			return true
		}
	}
	return false
}

// channel returns the configured channel named name (any case).
func (b *Bot) channel(name string) (Channel, bool) {
	for _, c := range b.cfg.Channels {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Channel{}, false
}

// collections are those channel is served (see Channel.Collections).
func (b *Bot) collections(channel string) []string {
	ch, _ := b.channel(channel)
	return ch.Collections
}
