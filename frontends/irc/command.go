package irc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// Command kinds the bot answers.
const (
	cmdRandom = "random" // !quote
	cmdSearch = "search" // !quote <words>
	cmdByID   = "id"     // !quote #<id>
	cmdToday  = "today"  // !today [tag] [lang:xx] [YYYY-MM-DD], !yesterday [tag] [lang:xx]
	cmdHelp   = "help"   // !help

	cmdStats   = "stats"   // !quote stats
	cmdInfo    = "info"    // !quote #<id> info
	cmdAdd     = "add"     // !addquote <text> -- <author>
	cmdGrab    = "grab"    // !grab <nick>
	cmdDelete  = "delete"  // !delquote #<id>
	cmdEdit    = "edit"    // !editquote #<id> <text> [-- <author>]
	cmdApprove = "approve" // !approve s<id>
	cmdReject  = "reject"  // !reject s<id> [reason]
	cmdPending = "pending" // !pending
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

	Collection string // cmdRandom, cmdSearch: "@name" asked for
	Text       string // cmdAdd, cmdEdit: the quote's text, cleaned (see chat.CleanText)
	Author     string // cmdAdd, cmdEdit: the author after " -- "
	Nick       string // cmdGrab: whose line
	Reason     string // cmdReject
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
		return parseQuote(arg), true
	case "today":
		return parseToday(command{Kind: cmdToday}, arg, true), true
	case "yesterday":
		return parseToday(command{Kind: cmdToday, Offset: -1}, arg, false), true
	case "help":
		return command{Kind: cmdHelp}, true
	case "addquote":
		return parseAdd(arg), true
	case "grab":
		if !validNick(arg) {
			return command{Kind: cmdGrab, Err: "usage: grab <nick>"}, true
		}
		return command{Kind: cmdGrab, Nick: arg}, true
	case "delquote":
		id, rest := parseID(arg, "#")
		if id == 0 || rest != "" {
			return command{Kind: cmdDelete, Err: "usage: delquote #<id>"}, true
		}
		return command{Kind: cmdDelete, ID: id}, true
	case "editquote":
		return parseEdit(arg), true
	case "approve":
		id, rest := parseID(arg, "s")
		if id == 0 || rest != "" {
			return command{Kind: cmdApprove, Err: "usage: approve s<id>"}, true
		}
		return command{Kind: cmdApprove, ID: id}, true
	case "pending":
		if arg != "" {
			return command{Kind: cmdPending, Err: "usage: pending"}, true
		}
		return command{Kind: cmdPending}, true
	case "reject":
		id, rest := parseID(arg, "s")
		if id == 0 {
			return command{Kind: cmdReject, Err: "usage: reject s<id> [reason]"}, true
		}
		reason, err := chat.CleanText(rest)
		if err == "" && len(reason) > quoter.MaxNoteLen {
			err = fmt.Sprintf("a reason is at most %d bytes", quoter.MaxNoteLen)
		}
		if err != "" {
			return command{Kind: cmdReject, Err: err}, true
		}
		return command{Kind: cmdReject, ID: id, Reason: reason}, true
	}
	return command{}, false
}

// parseQuote reads the words after !quote: nothing (a random quote),
// "#42" (that quote), "#42 info" (its provenance), "stats", "@collection"
// with or without words, or words to search for.
func parseQuote(arg string) command {
	if strings.EqualFold(arg, "stats") {
		return command{Kind: cmdStats}
	}
	var c command
	if strings.HasPrefix(arg, "@") {
		name, rest, _ := strings.Cut(arg[1:], " ")
		name = strings.ToLower(name)
		if !validCollection(name) {
			return command{Kind: cmdRandom, Err: "a collection looks like @club-quotes"}
		}
		c.Collection, arg = name, strings.TrimSpace(rest)
	}
	switch {
	case arg == "":
		c.Kind = cmdRandom
		return c
	case strings.HasPrefix(arg, "#") && c.Collection == "":
		id, rest := parseID(arg, "#")
		switch {
		case id == 0:
			return command{Kind: cmdByID, Err: "a quote number looks like #42"}
		case strings.EqualFold(rest, "info"):
			return command{Kind: cmdInfo, ID: id}
		case rest == "":
			return command{Kind: cmdByID, ID: id}
		}
	}
	if len(arg) > maxQuery {
		arg = arg[:chat.BreakAt(arg, maxQuery)]
	}
	c.Kind, c.Query = cmdSearch, arg
	return c
}

// parseID reads a number written with its mark ("#42" for a quote, "s12"
// for a submission) at the start of arg, and returns it (0 when there is
// none) and the rest of arg.
func parseID(arg, mark string) (int64, string) {
	word, rest, _ := strings.Cut(arg, " ")
	if len(word) <= len(mark) || !strings.EqualFold(word[:len(mark)], mark) {
		return 0, ""
	}
	id, err := strconv.ParseInt(word[len(mark):], 10, 64)
	if err != nil || id <= 0 {
		return 0, ""
	}
	return id, strings.TrimSpace(rest)
}

// addUsage is the answer to an !addquote that makes no sense.
const addUsage = "usage: addquote <text> -- <author>"

// parseAdd reads "<text> -- <author>": the author is after the last " -- ".
func parseAdd(arg string) command {
	text, author, ok := cutAuthor(arg)
	if !ok || text == "" || author == "" {
		return command{Kind: cmdAdd, Err: addUsage}
	}
	c := command{Kind: cmdAdd}
	var bad string
	if c.Text, bad = chat.CleanText(text); bad == "" {
		c.Author, bad = chat.CleanText(author)
	}
	if bad != "" {
		return command{Kind: cmdAdd, Err: bad}
	}
	return c
}

// parseEdit reads "#42 <text>" or "#42 <text> -- <author>".
func parseEdit(arg string) command {
	id, rest := parseID(arg, "#")
	if id == 0 || rest == "" {
		return command{Kind: cmdEdit, Err: "usage: editquote #<id> <text> [-- <author>]"}
	}
	c := command{Kind: cmdEdit, ID: id}
	text, author, ok := cutAuthor(rest)
	if !ok {
		text = rest
	}
	var bad string
	if c.Text, bad = chat.CleanText(text); bad == "" && ok {
		c.Author, bad = chat.CleanText(author)
	}
	if bad == "" && (c.Text == "" || ok && c.Author == "") {
		bad = "usage: editquote #<id> <text> [-- <author>]"
	}
	if bad != "" {
		return command{Kind: cmdEdit, Err: bad}
	}
	return c
}

// cutAuthor splits "text -- author" at the last " -- " (a trailing " --"
// is an empty author).
func cutAuthor(s string) (text, author string, ok bool) {
	if strings.HasSuffix(s, " --") {
		return strings.TrimSpace(strings.TrimSuffix(s, " --")), "", true
	}
	i := strings.LastIndex(s, " -- ")
	if i < 0 {
		return s, "", false
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(" -- "):]), true
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
		p + "yesterday, " + p + "today YYYY-MM-DD: earlier days · " +
		p + "quote @<collection> [words] · " + p + "quote stats · " + p + "quote #<id> info: who added it · " +
		p + "addquote <text> -- <author> · " + p + "grab <nick>: their last line here · " +
		p + "delquote #<id> · " + p + "editquote #<id> <text> [-- <author>] · " +
		p + "pending · " + p + "approve s<id> · " + p + "reject s<id> [reason]"
}
