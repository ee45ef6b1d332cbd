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
			"provenance (added_by, {} when unknown; edited_by when edited), and the notes on authors (author_bio, author_link, " +
			"on each author's first quote): `quotesd import` reads it back as it was."}
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
	AuthorBio  string            `json:"author_bio,omitempty"`  // on an author's first quote only
	AuthorLink string            `json:"author_link,omitempty"` // likewise
}

// authorNotes reads the notes of every author of the library's public
// quotes, by slug, for an export to write on each author's first quote.
func authorNotes(ctx context.Context, db quoter.Quoter) (map[string]quoter.Author, error) {
	notes := map[string]quoter.Author{}
	for offset := 0; ; offset += quoter.MaxLimit {
		as, _, err := db.AuthorList(ctx, quoter.Page{Offset: offset, Limit: quoter.MaxLimit, Sort: quoter.SortName})
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if a.Bio != "" || a.Link != "" {
				notes[a.Slug] = a
			}
		}
		if len(as) < quoter.MaxLimit {
			return notes, nil
		}
	}
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
		var notes map[string]quoter.Author
		// firstNotes is the notes on q's author the first time the
		// author comes, "" after.
		firstNotes := func(q *quoter.Quote) (bio, link string) {
			slug := q.AuthorSlug()
			a, ok := notes[slug]
			if !ok {
				return "", ""
			}
			delete(notes, slug)
			return a.Bio, a.Link
		}
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
				bio, link := firstNotes(q)
				b, err := marshal(exportQuote{q.Text, q.Author, q.Source, q.Year, tags, q.Lang, q.Collection, q.AddedBy, q.EditedBy, bio, link})
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
			if err := cw.Write([]string{"text", "author", "source", "year", "tags", "lang", "collection", "added_by", "edited_by", "author_bio", "author_link"}); err != nil {
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
				bio, link := firstNotes(q)
				return cw.Write([]string{q.Text, q.Author, q.Source, year, strings.Join(q.Tags, ";"), q.Lang, q.Collection, added, edited, bio, link})
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
		if notes, err = authorNotes(ctx, db); err != nil {
			return err
		}
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
