package chat

// The dispatch of a parsed command to the quote library: what a bot
// answers, as text to fit, whatever its medium.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// LookupTimeout bounds one answer's calls to the quote library.
const LookupTimeout = 5 * time.Second

// Dispatcher answers the commands every chat bot answers (!quote and its
// forms, !today, !yesterday, !help) from the library. It is shared by the
// goroutines of a frontend: its fields are set before first use and then
// only read. The curation commands (IsCuration) are the frontend's: who
// may curate is a matter of its medium (IRC: masks, accounts, channel
// operators).
type Dispatcher struct {
	// Name names the frontend in logs ("irc quote lookup failed").
	Name     string
	Library  quoter.Library
	Calendar *quoter.Calendar // what day "today" is; nil: the zero Calendar
	Log      *slog.Logger     // nil: none
	// Prefix returns the command prefix in force (a live setting).
	Prefix func() string
	// Collections returns the collections room is served (nil: every
	// public one), for a room whose quotes are its own. Nil: every room
	// is served every public collection. Direct messages ("" room) are
	// always served every public one.
	Collections func(room string) []string

	// For Handle only:
	Cooldowns *Cooldowns // nil: none
	Metrics   *Metrics   // nil: not counted
	Width     int        // the byte budget of one line of a reply
	Lines     int        // the most lines of a reply; 0: 1
}

// Message is what a person said to a bot, in a room or directly.
type Message struct {
	Room   string // the room's name as the frontend knows it; "" when Direct
	User   string // who said it: the key of their cooldown, folded by the frontend where case does not matter
	Text   string
	Direct bool // a one-to-one message, not in a room
}

// Handle answers m for a frontend that needs nothing more: it parses the
// command (nil for anything else, chatter among it), applies the
// cooldowns (nil when over one: the bot says nothing, and counts the
// drop), and returns the reply fitted to Width and Lines. A library failure
// the user is not told of is the error, with no lines (logged already, as
// Failure does). Curation commands are not answered (nil, nil).
func (d *Dispatcher) Handle(ctx context.Context, m Message) ([]string, error) {
	c, ok := Parse(m.Text, d.prefix())
	if !ok || IsCuration(c.Kind) {
		return nil, nil
	}
	room := m.Room
	if m.Direct {
		room = ""
	}
	if d.Cooldowns != nil {
		if ok, why := d.Cooldowns.Allow(m.User, room); !ok {
			if d.Metrics != nil {
				d.Metrics.Dropped.WithLabelValues(why).Inc()
			}
			return nil, nil
		}
	}
	if d.Metrics != nil {
		d.Metrics.Commands.WithLabelValues(c.Kind).Inc()
	}
	ctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	lines := max(d.Lines, 1)
	text, tail, err := d.Answer(ctx, room, c, d.Width, lines)
	if err != nil {
		return nil, err
	}
	return Fit(text, tail, d.Width, lines), nil
}

// Answer is the reply to c asked in room ("" for a direct message): a
// quote's text and its tail (see QuoteParts), or a message and no tail,
// to fit in lines lines of width bytes (a quote that fits is chosen where
// there is a choice). In a room, quotes come from the room's collections
// (see Collections); "@name" asks for one collection, which must be
// public or the room's own. A library failure the user is not told of is
// returned as err, with no text; one they are told of (not found, invalid)
// is the text.
func (d *Dispatcher) Answer(ctx context.Context, room string, c Command, width, lines int) (text, tail string, err error) {
	if c.Err != "" {
		return c.Err, "", nil
	}
	var lib *View
	if c.Kind == KindRandom || c.Kind == KindSearch || c.Kind == KindByID {
		if lib, err = d.View(ctx, room); err != nil {
			return d.failure(err, "")
		}
		if c.Collection != "" && !lib.Visible(c.Collection) {
			return "no collection @" + c.Collection, "", nil
		}
	}
	q := d.Library
	switch c.Kind {
	case KindHelp:
		return Help(d.prefix()), "", nil
	case KindRandom:
		f := quoter.Filter{Collection: lib.Served}
		if c.Collection != "" {
			f.Collection = c.Collection
		}
		fit := f
		fit.MaxLen = FitLen(width, lines)
		quote, err := q.Random(ctx, fit)
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			quote, err = q.Random(ctx, f) // only long ones: cut one
		}
		if err != nil {
			return d.failure(err, EmptyText(f.Collection))
		}
		text, tail = QuoteParts(quote)
		return text, tail, nil
	case KindByID:
		quote, err := q.Quote(ctx, c.ID)
		if err == nil && !lib.Visible(quote.Collection) {
			err = quoter.Errorf(quoter.ENOTFOUND, "not served here")
		}
		if err != nil {
			return d.failure(err, fmt.Sprintf("no quote #%d", c.ID))
		}
		text, tail = QuoteParts(quote)
		return text, tail, nil
	case KindSearch:
		return d.search(ctx, lib, c, width, lines)
	case KindToday:
		return d.today(ctx, room, c)
	}
	return "", "", nil
}

// search answers !quote <words>: the best match among the quotes served
// where it was asked (or in the collection named, which the caller has
// checked this room may see), unless it is too long and a close one fits.
func (d *Dispatcher) search(ctx context.Context, lib *View, c Command, width, lines int) (text, tail string, err error) {
	f := quoter.Filter{Collection: lib.Served}
	if c.Collection != "" {
		f.Collection = c.Collection
	}
	found, _, err := d.Library.SearchIn(ctx, c.Query, f, quoter.Page{Limit: searchCandidates})
	if err != nil {
		return d.failure(err, "no quote matches")
	}
	if len(found) == 0 {
		return "no quote matches", "", nil
	}
	best := found[0]
	for _, quote := range found {
		if quote.Len() <= FitLen(width, lines) {
			best = quote
			break
		}
	}
	text, tail = QuoteParts(best)
	return text, tail, nil
}

// searchCandidates is how many of the best matches a search weighs when
// the best is too long for the reply.
const searchCandidates = 5

// today answers !today and !yesterday: the quote of the day asked for,
// labelled with its date when not today's and with its tag or language.
// The plain command asks with the zero filter, so it is the very quote of
// the day the web and mail show, cut to fit by the caller, never swapped
// for a shorter one.
func (d *Dispatcher) today(ctx context.Context, room string, c Command) (text, tail string, err error) {
	today := d.calendar().Today()
	day := c.Date
	if day == (quoter.Date{}) {
		day = today.AddDays(c.Offset)
	}
	if today.Before(day) {
		return "that day has not come yet: try " + d.prefix() + "today", "", nil
	}
	var label []string
	if day != today {
		label = append(label, day.String())
	}
	f := quoter.Filter{Tag: c.Tag, Lang: c.Lang, Collection: strings.Join(d.collections(room), ",")}
	if c.Tag != "" {
		label = append(label, c.Tag)
	}
	if c.Lang != "" {
		label = append(label, "lang:"+c.Lang)
	}
	quote, err := d.Library.Today(ctx, day, f)
	if err != nil {
		notFound := EmptyText(f.Collection)
		if c.Tag != "" || c.Lang != "" {
			notFound = quoter.ErrorMessage(err) // names the unknown tag or language
		}
		return d.failure(err, notFound)
	}
	text, tail = QuoteParts(quote)
	if len(label) > 0 {
		text = strings.Join(label, ", ") + ": " + text
	}
	return text, tail, nil
}

// QuoteOfDay is the daily post for room: the quote of the day of the
// room's collections, or, for a room without, asked with the zero filter
// as the web asks it, as text and tail to fit. A purged quote of the day
// is said so, once, rather than retried as a post that can never be made.
// Any other failure is the error (logged here): the post stays due.
func (d *Dispatcher) QuoteOfDay(ctx context.Context, room string, day quoter.Date) (text, tail string, err error) {
	ctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	f := quoter.Filter{Collection: strings.Join(d.collections(room), ",")}
	quote, err := d.Library.Today(ctx, day, f)
	if quoter.ErrorCode(err) == quoter.EGONE {
		d.log().Info(d.Name+" daily quote purged", "day", day.String())
		return "No quote of the day today: it was removed from the library for good.", "", nil
	} else if err != nil {
		d.log().Error(d.Name+" daily quote failed", "day", day.String(), "err", err)
		return "", "", err
	}
	text, tail = QuoteParts(quote)
	return "Quote of the day: " + text, tail, nil
}

// Failure maps a library error to what the user is told: the not-found
// text given, or the library's own message for invalid input and for a
// purged quote. Anything else is logged and answered with silence (""):
// a room gains nothing from an apology per request while storage is
// broken.
func (d *Dispatcher) Failure(err error, notFound string) string {
	switch quoter.ErrorCode(err) {
	case quoter.ENOTFOUND:
		return notFound
	case quoter.EINVALID, quoter.EGONE:
		return quoter.ErrorMessage(err)
	}
	d.log().Error(d.Name+" quote lookup failed", "err", err)
	return ""
}

// failure is Failure for Answer: the text told, or the error when there
// is nothing to tell.
func (d *Dispatcher) failure(err error, notFound string) (text, tail string, _ error) {
	if told := d.Failure(err, notFound); told != "" {
		return told, "", nil
	}
	return "", "", err
}

// EmptyText is the answer when a draw from set (a Filter.Collection)
// finds nothing: the whole library's, or a room's collections, which
// start empty.
func EmptyText(set string) string {
	if set == "" {
		return "the library is empty"
	}
	return "no quotes in " + strings.ReplaceAll(set, ",", " or ") + " yet"
}

// View is the library as one room (or a direct message) sees it: which
// collections it is served, and which others it may name.
type View struct {
	Own     []string // the room's collections; none: every public one
	Served  string   // Filter.Collection for what it is served
	All     []quoter.Collection
	private map[string]bool // private collections, by name
	known   map[string]bool // every collection, by name
}

// View returns the library as seen from room ("" for a direct message).
func (d *Dispatcher) View(ctx context.Context, room string) (*View, error) {
	cols, err := d.Library.Collections(ctx)
	if err != nil {
		return nil, err
	}
	v := &View{private: make(map[string]bool), known: make(map[string]bool), All: cols}
	for _, c := range cols {
		v.known[c.Name] = true
		if c.Private {
			v.private[c.Name] = true
		}
	}
	v.Own = d.collections(room)
	v.Served = strings.Join(v.Own, ",")
	return v, nil
}

// Serves reports whether a quote of collection is among those the view is
// served by default.
func (v *View) Serves(collection string) bool {
	if len(v.Own) == 0 {
		return !v.private[collection]
	}
	return slices.Contains(v.Own, collection)
}

// Visible reports whether the view may see collection at all: one of its
// own, or a public one. A private collection of another room is as
// unknown here as one that does not exist.
func (v *View) Visible(collection string) bool {
	if collection == "" {
		collection = quoter.DefaultCollection
	}
	return slices.Contains(v.Own, collection) || !v.private[collection] && (v.known[collection] || collection == quoter.DefaultCollection)
}

func (d *Dispatcher) collections(room string) []string {
	if room == "" || d.Collections == nil {
		return nil
	}
	return d.Collections(room)
}

func (d *Dispatcher) prefix() string {
	if d.Prefix == nil {
		return "!"
	}
	return d.Prefix()
}

func (d *Dispatcher) calendar() *quoter.Calendar {
	if d.Calendar == nil {
		return &quoter.Calendar{}
	}
	return d.Calendar
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}
