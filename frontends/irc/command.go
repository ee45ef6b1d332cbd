package irc

import (
	"strconv"
	"strings"

	"quotesd/quoter"
)

// Command kinds the bot answers.
const (
	cmdRandom = "random" // !quote
	cmdSearch = "search" // !quote <words>
	cmdByID   = "id"     // !quote #<id>
	cmdToday  = "today"  // !today, !today YYYY-MM-DD, !yesterday
	cmdHelp   = "help"   // !help
)

// command is one parsed request from a channel or private message.
type command struct {
	Kind   string
	Query  string      // cmdSearch: the words as typed
	ID     int64       // cmdByID
	Offset int         // cmdToday: days relative to today (0 today, -1 yesterday) when Date is zero
	Date   quoter.Date // cmdToday: an explicit archive date
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
		if arg == "" {
			return command{Kind: cmdToday}, true
		}
		d, err := quoter.ParseDate(arg)
		if err != nil {
			return command{Kind: cmdToday, Err: "a date looks like 2025-03-14"}, true
		}
		return command{Kind: cmdToday, Date: d}, true
	case "yesterday":
		return command{Kind: cmdToday, Offset: -1}, true
	case "help":
		return command{Kind: cmdHelp}, true
	}
	return command{}, false
}

// helpText lists the commands, for !help.
func helpText(prefix string) string {
	p := prefix
	return p + "quote: a random quote · " + p + "quote <words>: best match · " + p + "quote #<id>: that quote · " +
		p + "today: quote of the day · " + p + "yesterday, " + p + "today YYYY-MM-DD: earlier days"
}
