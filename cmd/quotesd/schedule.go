package main

// The commands that plan days ahead: pin, unpin, pins. A pin makes a quote
// the quote of a day that has not begun anywhere yet; the past is fixed,
// so the core refuses any other day (EINVALID, with a message saying so).

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

func init() {
	subcommands["pin"] = &subcommand{summary: "make quote ID the quote of the day on DATE, a day to come", args: "YYYY-MM-DD ID", flags: pinCommand}
	subcommands["unpin"] = &subcommand{summary: "give DATE back to the daily cycle", args: "YYYY-MM-DD", flags: unpinCommand}
	subcommands["pins"] = &subcommand{summary: "list the pinned days to come", args: "[--from YYYY-MM-DD] [--json]", flags: pinsCommand}
}

// parseDay parses a DATE argument; a bad one is a usage error.
func parseDay(s string) (quoter.Date, error) {
	d, err := quoter.ParseDate(s)
	if err != nil {
		return quoter.Date{}, usagef("%s", quoter.ErrorMessage(err))
	}
	return d, nil
}

// parseID parses a quote ID argument ("42" or "#42"); a bad one is a
// usage error.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("invalid quote id %q: want a positive number such as 42 (see 'quotesd search --json')", s)
	}
	return id, nil
}

func pinCommand(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) != 2 {
			return usagef("pin takes a date and a quote id, e.g. 'quotesd pin 2027-01-01 42'")
		}
		day, err := parseDay(args[0])
		if err != nil {
			return err
		}
		id, err := parseID(args[1])
		if err != nil {
			return err
		}
		return changeLibrary(g, func(db quoter.Library) error { return db.Pin(ctx, day, id) }, func() string {
			return fmt.Sprintf("pinned quote %d to %s in %s: it is that day's quote of the day", id, day, g.DB)
		})
	}
}

func unpinCommand(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) != 1 {
			return usagef("unpin takes the pinned date, e.g. 'quotesd unpin 2027-01-01'; 'quotesd pins' lists them")
		}
		day, err := parseDay(args[0])
		if err != nil {
			return err
		}
		return changeLibrary(g, func(db quoter.Library) error { return db.Unpin(ctx, day) }, func() string {
			return fmt.Sprintf("unpinned %s in %s: its quote comes from the daily cycle again", day, g.DB)
		})
	}
}

// jsonPin is a pin as `pins --json` prints it; quote is null when the
// pinned quote was purged.
type jsonPin struct {
	Date  quoter.Date `json:"date"`
	ID    int64       `json:"id"`
	Quote *jsonQuote  `json:"quote"`
}

func pinsCommand(fs *flag.FlagSet) runFunc {
	from := fs.String("from", "", "list the pins from `YYYY-MM-DD` on (default: today, in --tz)")
	asJSON := fs.Bool("json", false, `print a JSON array of {"date","id","quote"}`)
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("pins takes no arguments; use --from YYYY-MM-DD for another first day")
		}
		cal, err := calendar(g)
		if err != nil {
			return err
		}
		day := cal.Today()
		if *from != "" {
			if day, err = quoter.ParseDate(*from); err != nil {
				return usagef("--from: %s", quoter.ErrorMessage(err))
			}
		}
		db, err := openLibrary(g, true)
		if err != nil {
			return err
		}
		defer db.Close()
		ps, err := db.Pins(ctx, day)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]jsonPin, len(ps))
			for i, p := range ps {
				out[i] = jsonPin{Date: p.Day, ID: p.QuoteID}
				if p.Quote != nil {
					q := toJSON(p.Quote)
					out[i].Quote = &q
				}
			}
			b, err := marshal(out)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
			return err
		}
		if len(ps) == 0 {
			_, err = fmt.Fprintf(g.Stdout, "no day is pinned from %s on\n", day)
			return err
		}
		for _, p := range ps {
			if _, err := fmt.Fprintf(g.Stdout, "%s  %-5d %s\n", p.Day, p.QuoteID, pinSummary(p.Quote)); err != nil {
				return err
			}
		}
		return nil
	}
}

// pinSummaryLen bounds the text pins shows of each quote, in bytes.
const pinSummaryLen = 60

// pinSummary is one line naming a pinned quote: its author and the start
// of its text.
func pinSummary(q *quoter.Quote) string {
	if q == nil {
		return "(purged: that day has no quote)"
	}
	text := strings.Join(strings.Fields(q.Text), " ")
	if len(text) > pinSummaryLen {
		cut := pinSummaryLen
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = strings.TrimRight(text[:cut], " ") + "…"
	}
	s := q.Author + ": " + text
	if q.Removed {
		s += " (removed from the library)"
	}
	return s
}
