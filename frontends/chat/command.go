package chat

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// Command kinds a chat bot answers; each is also the "command" label of
// its commands_total metric (see Metrics).
const (
	KindRandom = "random" // !quote
	KindSearch = "search" // !quote <words>
	KindByID   = "id"     // !quote #<id>
	KindToday  = "today"  // !today [tag] [lang:xx] [YYYY-MM-DD], !yesterday [tag] [lang:xx]
	KindHelp   = "help"   // !help

	KindStats   = "stats"   // !quote stats
	KindInfo    = "info"    // !quote #<id> info
	KindAdd     = "add"     // !addquote <text> -- <author>
	KindGrab    = "grab"    // !grab <nick>
	KindDelete  = "delete"  // !delquote #<id>
	KindEdit    = "edit"    // !editquote #<id> <text> [-- <author>]
	KindApprove = "approve" // !approve s<id>
	KindReject  = "reject"  // !reject s<id> [reason]
	KindPending = "pending" // !pending
)

// Command is one parsed request, from a room or a direct message.
type Command struct {
	Kind   string
	Query  string      // KindSearch: the words as typed
	ID     int64       // KindByID
	Offset int         // KindToday: days relative to today (0 today, -1 yesterday) when Date is zero
	Date   quoter.Date // KindToday: an explicit archive date
	Tag    string      // KindToday: the tag whose own quote of the day is asked for
	Lang   string      // KindToday: the language whose own quote of the day is asked for
	Err    string      // a usage problem to tell the user (e.g. a bad date)

	Collection string // KindRandom, KindSearch: "@name" asked for
	Text       string // KindAdd, KindEdit: the quote's text, cleaned (see CleanText)
	Author     string // KindAdd, KindEdit: the author after " -- "
	Nick       string // KindGrab: whose line
	Reason     string // KindReject
}

// MaxQuery bounds the search words a user may send; longer ones are cut
// (they cannot be more useful, and the store's query parser need not see
// kilobytes).
const MaxQuery = 200

// Parse recognises a bot command in the text of a message. prefix is
// the command prefix (usually "!"). It returns false for anything else,
// which the bot ignores in silence: chatter, unknown commands, IRC's CTCP.
// Commands are case-insensitive; arguments keep their case.
func Parse(text, prefix string) (Command, bool) {
	if prefix == "" || !strings.HasPrefix(text, prefix) || strings.HasPrefix(text, "\x01") {
		return Command{}, false
	}
	text = strings.TrimSpace(text[len(prefix):])
	name, arg, _ := strings.Cut(text, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(name) {
	case "quote":
		return parseQuote(arg), true
	case "today":
		return parseToday(Command{Kind: KindToday}, arg, true), true
	case "yesterday":
		return parseToday(Command{Kind: KindToday, Offset: -1}, arg, false), true
	case "help":
		return Command{Kind: KindHelp}, true
	case "addquote":
		return parseAdd(arg), true
	case "grab":
		if !validName(arg) {
			return Command{Kind: KindGrab, Err: GrabUsage}, true
		}
		return Command{Kind: KindGrab, Nick: arg}, true
	case "delquote":
		id, rest := parseID(arg, "#")
		if id == 0 || rest != "" {
			return Command{Kind: KindDelete, Err: "usage: delquote #<id>"}, true
		}
		return Command{Kind: KindDelete, ID: id}, true
	case "editquote":
		return parseEdit(arg), true
	case "approve":
		id, rest := parseID(arg, "s")
		if id == 0 || rest != "" {
			return Command{Kind: KindApprove, Err: "usage: approve s<id>"}, true
		}
		return Command{Kind: KindApprove, ID: id}, true
	case "pending":
		if arg != "" {
			return Command{Kind: KindPending, Err: "usage: pending"}, true
		}
		return Command{Kind: KindPending}, true
	case "reject":
		id, rest := parseID(arg, "s")
		if id == 0 {
			return Command{Kind: KindReject, Err: "usage: reject s<id> [reason]"}, true
		}
		reason, err := CleanText(rest)
		if err == "" && len(reason) > quoter.MaxNoteLen {
			err = fmt.Sprintf("a reason is at most %d bytes", quoter.MaxNoteLen)
		}
		if err != "" {
			return Command{Kind: KindReject, Err: err}, true
		}
		return Command{Kind: KindReject, ID: id, Reason: reason}, true
	}
	return Command{}, false
}

// parseQuote reads the words after !quote: nothing (a random quote),
// "#42" (that quote), "#42 info" (its provenance), "stats", "@collection"
// with or without words, or words to search for.
func parseQuote(arg string) Command {
	if strings.EqualFold(arg, "stats") {
		return Command{Kind: KindStats}
	}
	var c Command
	if strings.HasPrefix(arg, "@") {
		name, rest, _ := strings.Cut(arg[1:], " ")
		name = strings.ToLower(name)
		if quoter.ValidCollection(name) != nil {
			return Command{Kind: KindRandom, Err: "a collection looks like @club-quotes"}
		}
		c.Collection, arg = name, strings.TrimSpace(rest)
	}
	switch {
	case arg == "":
		c.Kind = KindRandom
		return c
	case strings.HasPrefix(arg, "#") && c.Collection == "":
		id, rest := parseID(arg, "#")
		switch {
		case id == 0:
			return Command{Kind: KindByID, Err: "a quote number looks like #42"}
		case strings.EqualFold(rest, "info"):
			return Command{Kind: KindInfo, ID: id}
		case rest == "":
			return Command{Kind: KindByID, ID: id}
		}
	}
	if len(arg) > MaxQuery {
		arg = arg[:BreakAt(arg, MaxQuery)]
	}
	c.Kind, c.Query = KindSearch, arg
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

// AddUsage is the answer to an !addquote that makes no sense.
const AddUsage = "usage: addquote <text> -- <author>"

// parseAdd reads "<text> -- <author>": the author is after the last " -- ".
func parseAdd(arg string) Command {
	text, author, ok := cutAuthor(arg)
	if !ok || text == "" || author == "" {
		return Command{Kind: KindAdd, Err: AddUsage}
	}
	c := Command{Kind: KindAdd}
	var bad string
	if c.Text, bad = CleanText(text); bad == "" {
		c.Author, bad = CleanText(author)
	}
	if bad != "" {
		return Command{Kind: KindAdd, Err: bad}
	}
	return c
}

// parseEdit reads "#42 <text>" or "#42 <text> -- <author>".
func parseEdit(arg string) Command {
	id, rest := parseID(arg, "#")
	if id == 0 || rest == "" {
		return Command{Kind: KindEdit, Err: "usage: editquote #<id> <text> [-- <author>]"}
	}
	c := Command{Kind: KindEdit, ID: id}
	text, author, ok := cutAuthor(rest)
	if !ok {
		text = rest
	}
	var bad string
	if c.Text, bad = CleanText(text); bad == "" && ok {
		c.Author, bad = CleanText(author)
	}
	if bad == "" && (c.Text == "" || ok && c.Author == "") {
		bad = "usage: editquote #<id> <text> [-- <author>]"
	}
	if bad != "" {
		return Command{Kind: KindEdit, Err: bad}
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

// TodayUsage is the answer to a !today whose arguments make no sense.
const TodayUsage = "usage: today [tag] [lang:xx] [YYYY-MM-DD]"

// parseToday reads the words after !today (or !yesterday, when withDate is
// false): at most one of each of a date YYYY-MM-DD, a language written
// lang:xx and a tag, any other word. A word of digits and dashes is taken
// for a date, so a mistyped one is answered as such rather than as an
// unknown tag.
func parseToday(c Command, arg string, withDate bool) Command {
	for _, w := range strings.Fields(arg) {
		lw := strings.ToLower(w)
		switch {
		case strings.Trim(w, "0123456789-") == "" && strings.Contains(w, "-"):
			d, err := quoter.ParseDate(w)
			switch {
			case err != nil:
				c.Err = "a date looks like 2025-03-14"
			case !withDate || c.Date != (quoter.Date{}):
				c.Err = TodayUsage
			}
			c.Date = d
		case strings.HasPrefix(lw, "lang:"):
			if c.Lang != "" || len(lw) == len("lang:") {
				c.Err = TodayUsage
			}
			c.Lang = lw[len("lang:"):]
		default:
			if c.Tag != "" {
				c.Err = TodayUsage
			}
			c.Tag = lw
		}
		// Words that cannot be a tag or a language are not echoed back.
		if len(c.Tag) > quoter.MaxTagLen {
			c.Err = fmt.Sprintf("a tag is one word of at most %d characters", quoter.MaxTagLen)
		}
		if len(c.Lang) > MaxLangLen {
			c.Err = "a language looks like lang:fr"
		}
		if c.Err != "" {
			return Command{Kind: KindToday, Err: c.Err}
		}
	}
	return c
}

// MaxLangLen bounds a language a user may ask for, as MaxQuery bounds
// search words: BCP 47 tags in use are far shorter.
const MaxLangLen = 35

// Help lists the commands, for !help, written with prefix.
func Help(prefix string) string {
	p := prefix
	return p + "quote: a random quote · " + p + "quote <words>: best match · " + p + "quote #<id>: that quote · " +
		p + "today: quote of the day · " + p + "today <tag>, " + p + "today lang:<xx>: that tag's or language's · " +
		p + "yesterday, " + p + "today YYYY-MM-DD: earlier days · " +
		p + "quote @<collection> [words] · " + p + "quote stats · " + p + "quote #<id> info: who added it · " +
		p + "addquote <text> -- <author> · " + p + "grab <nick>: their last line here · " +
		p + "delquote #<id> · " + p + "editquote #<id> <text> [-- <author>] · " +
		p + "pending · " + p + "approve s<id> · " + p + "reject s<id> [reason]"
}

// GrabUsage is the answer to a !grab without one name.
const GrabUsage = "usage: grab <nick>"

// validName reports whether s can name a person in a room for !grab: one
// word of at most 64 bytes, clean (CleanText would keep it as it is). A
// frontend checks its medium's own rules on top (IRC's nick grammar).
func validName(s string) bool {
	if s == "" || len(s) > 64 || strings.ContainsAny(s, " \t") {
		return false
	}
	clean, bad := CleanText(s)
	return bad == "" && clean == s
}

// IsCuration reports whether kind reads or changes the library's
// curation: adding, grabbing, deleting, editing, moderating, and the
// statistics and provenance only curators see. A frontend answers these
// with its own notion of who may (IRC: curators by mask or account, or
// channel operators).
func IsCuration(kind string) bool {
	switch kind {
	case KindAdd, KindGrab, KindDelete, KindEdit, KindApprove, KindReject, KindPending, KindStats, KindInfo:
		return true
	}
	return false
}
