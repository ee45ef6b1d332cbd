package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

func init() {
	subcommands["export"] = &subcommand{summary: "write every quote to stdout as JSON or CSV", args: "[--format json|csv] [--collection C] > FILE", flags: exportCommand,
		detail: "An export holds every quote of every collection, private ones included, with its collection and " +
			"provenance (added_by, {} when unknown; edited_by when edited): `quotesd import` reads it back as it was."}
}

// exportQuote is one quote in an export: the fields that make up a quote,
// without the id and time added, which belong to one library. It is the
// shape of library/quotes.json and what `quotesd import` reads back, so an
// export imported into an empty library gives the same export again: the
// provenance is written for every quote, {} when unknown, so that the
// import keeps it as it is rather than record the export's file and line.
type exportQuote struct {
	Text       string            `json:"text"`
	Author     string            `json:"author"`
	Source     string            `json:"source,omitempty"`
	Year       int               `json:"year,omitempty"`
	Tags       []string          `json:"tags"`
	Lang       string            `json:"lang"`
	Collection string            `json:"collection"`
	AddedBy    quoter.Provenance `json:"added_by"`
	EditedBy   quoter.Provenance `json:"edited_by,omitzero"`
}

// provenanceCell is a provenance as a CSV export writes it: a JSON object,
// or nothing when unknown (the column itself tells the import to keep it).
func provenanceCell(o quoter.Provenance) (string, error) {
	if o.IsZero() {
		return "", nil
	}
	b, err := marshal(o)
	return string(b), err
}

func exportCommand(fs *flag.FlagSet) runFunc {
	format := fs.String("format", "json", "output `format`: json or csv")
	collection := fs.String("collection", "", "only the quotes of this `collection`, or of several, comma-separated (default: all, private ones too)")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("export takes no arguments; it writes to stdout, so redirect it: quotesd export > quotes.json")
		}
		if _, err := quoter.Collections(*collection); err != nil {
			return usagef("--collection: %s", quoter.ErrorMessage(err))
		}
		var write func(q *quoter.Quote) error
		var finish func() error
		w := bufio.NewWriter(g.Stdout)
		switch strings.ToLower(*format) {
		case "json":
			// One quote per line inside the array: valid JSON that diffs well.
			n := 0
			write = func(q *quoter.Quote) error {
				tags := q.Tags
				if tags == nil {
					tags = []string{}
				}
				b, err := marshal(exportQuote{q.Text, q.Author, q.Source, q.Year, tags, q.Lang, q.Collection, q.AddedBy, q.EditedBy})
				if err != nil {
					return err
				}
				sep := ",\n"
				if n == 0 {
					sep = "[\n"
				}
				n++
				_, err = fmt.Fprintf(w, "%s  %s", sep, b)
				return err
			}
			finish = func() error {
				if n == 0 {
					_, err := w.WriteString("[]\n")
					return err
				}
				_, err := w.WriteString("\n]\n")
				return err
			}
		case "csv":
			cw := csv.NewWriter(w)
			if err := cw.Write([]string{"text", "author", "source", "year", "tags", "lang", "collection", "added_by", "edited_by"}); err != nil {
				return err
			}
			write = func(q *quoter.Quote) error {
				year := ""
				if q.Year != 0 {
					year = strconv.Itoa(q.Year)
				}
				added, err := provenanceCell(q.AddedBy)
				if err != nil {
					return err
				}
				edited, err := provenanceCell(q.EditedBy)
				if err != nil {
					return err
				}
				return cw.Write([]string{q.Text, q.Author, q.Source, year, strings.Join(q.Tags, ";"), q.Lang, q.Collection, added, edited})
			}
			finish = func() error {
				cw.Flush()
				return cw.Error()
			}
		default:
			return usagef("--format: unknown export format %q: want json or csv", *format)
		}

		db, err := openLibrary(g, true)
		if err != nil {
			return err
		}
		defer db.Close()
		// Every quote in id order, so an export lists quotes in the order
		// they were added and imports back with the same ids; private
		// collections too (an export is the whole library), unless
		// --collection chooses.
		only := quoter.Filter{Collection: *collection}
		if *collection != "" {
			if _, _, err := db.List(ctx, only, quoter.Page{Limit: 1}); err != nil {
				return err // an unknown collection, named
			}
		}
		for q, err := range db.All(ctx) {
			if err != nil {
				return err
			}
			if !only.Match(q) {
				continue
			}
			if err := write(q); err != nil {
				return err
			}
		}
		if err := finish(); err != nil {
			return err
		}
		return w.Flush()
	}
}
