package irc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// Command kinds the bot answers.
const (
	cmdRandom = "random" // !quote
	cmdSearch = "search" // !quote <words>
	cmdByID   = "id"     // !quote #<id>
	cmdToday  = "today"  // !today [tag] [lang:xx] [YYYY-MM-DD], !yesterday [tag] [lang:xx]
	cmdHelp   = "help"   // !help
)

// command is one parsed request from a channel or private message.
type command struct {
	Kind   string
	Query  string      // cmdSearch: the words as typed
	ID     int64       // cmdByID
	Offset int         // cmdToday: days relative to today (0 today, -1 yesterday) when Date is zero
	Date   quoter.Date // cmdToday: an explicit archive date
	Tag    string      // cmdToday: the tag whose own quote of the day is asked for
	Lang   string      // cmdToday: the language whose own quote of the day is asked for
	Err    string      // a usage problem to tell the user (e.g. a bad date)
}

// maxQuery bounds the search words a user may send; longer ones are cut
// (they cannot be more useful, and the store's query parser need not see
// kilobytes).
const maxQuery = 200

// parseCommand recognises a bot command in the text of a PRIVMSG. prefix is
// the command prefix (usually "!"). It returns false for anything else,
// which the bot ignores in silence: chatter, unknown commands, CTCP.
// Commands are case-insensitive; arguments keep their case.
func parseCommand(text, prefix string) (command, bool) {
	if prefix == "" || !strings.HasPrefix(text, prefix) || strings.HasPrefix(text, "\x01") {
		return command{}, false
	}
	text = strings.TrimSpace(text[len(prefix):])
	name, arg, _ := strings.Cut(text, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(name) {
	case "quote":
		switch {
		case arg == "":
			return command{Kind: cmdRandom}, true
		case strings.HasPrefix(arg, "#") && !strings.ContainsRune(arg, ' '):
			id, err := strconv.ParseInt(arg[1:], 10, 64)
			if err != nil || id <= 0 {
				return command{Kind: cmdByID, Err: "a quote number looks like #42"}, true
			}
			return command{Kind: cmdByID, ID: id}, true
		default:
			if len(arg) > maxQuery {
				arg = arg[:breakAt(arg, maxQuery)]
			}
			return command{Kind: cmdSearch, Query: arg}, true
		}
	case "today":
		return parseToday(command{Kind: cmdToday}, arg, true), true
	case "yesterday":
		return parseToday(command{Kind: cmdToday, Offset: -1}, arg, false), true
	case "help":
		return command{Kind: cmdHelp}, true
	}
	return command{}, false
}

// todayUsage is the answer to a !today whose arguments make no sense.
const todayUsage = "usage: today [tag] [lang:xx] [YYYY-MM-DD]"

// parseToday reads the words after !today (or !yesterday, when withDate is
// false): at most one of each of a date YYYY-MM-DD, a language written
// lang:xx and a tag, any other word. A word of digits and dashes is taken
// for a date, so a mistyped one is answered as such rather than as an
// unknown tag.
func parseToday(c command, arg string, withDate bool) command {
	for _, w := range strings.Fields(arg) {
		lw := strings.ToLower(w)
		switch {
		case strings.Trim(w, "0123456789-") == "" && strings.Contains(w, "-"):
			d, err := quoter.ParseDate(w)
			switch {
			case err != nil:
				c.Err = "a date looks like 2025-03-14"
			case !withDate || c.Date != (quoter.Date{}):
				c.Err = todayUsage
			}
			c.Date = d
		case strings.HasPrefix(lw, "lang:"):
			if c.Lang != "" || len(lw) == len("lang:") {
				c.Err = todayUsage
			}
			c.Lang = lw[len("lang:"):]
		default:
			if c.Tag != "" {
				c.Err = todayUsage
			}
			c.Tag = lw
		}
		// Words that cannot be a tag or a language are not echoed back.
		if len(c.Tag) > quoter.MaxTagLen {
			c.Err = fmt.Sprintf("a tag is one word of at most %d characters", quoter.MaxTagLen)
		}
		if len(c.Lang) > maxLangLen {
			c.Err = "a language looks like lang:fr"
		}
		if c.Err != "" {
			return command{Kind: cmdToday, Err: c.Err}
		}
	}
	return c
}

// maxLangLen bounds a language a user may ask for, as maxQuery bounds
// search words: BCP 47 tags in use are far shorter.
const maxLangLen = 35

// helpText lists the commands, for !help.
func helpText(prefix string) string {
	p := prefix
	return p + "quote: a random quote · " + p + "quote <words>: best match · " + p + "quote #<id>: that quote · " +
		p + "today: quote of the day · " + p + "today <tag>, " + p + "today lang:<xx>: that tag's or language's · " +
		p + "yesterday, " + p + "today YYYY-MM-DD: earlier days"
}
