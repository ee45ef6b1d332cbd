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
	subcommands["export"] = &subcommand{summary: "write every quote to stdout as JSON or CSV", args: "[--format json|csv] > FILE", flags: exportCommand}
}

// exportQuote is one quote in an export: the fields that make up a quote,
// without the id and time added, which belong to one library. It is the
// shape of library/quotes.json and what `quotesd import` reads back, so an
// export imported into an empty library gives the same export again.
type exportQuote struct {
	Text   string   `json:"text"`
	Author string   `json:"author"`
	Source string   `json:"source,omitempty"`
	Year   int      `json:"year,omitempty"`
	Tags   []string `json:"tags"`
	Lang   string   `json:"lang"`
}

func exportCommand(fs *flag.FlagSet) runFunc {
	format := fs.String("format", "json", "output `format`: json or csv")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("export takes no arguments; it writes to stdout, so redirect it: quotesd export > quotes.json")
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
				b, err := marshal(exportQuote{q.Text, q.Author, q.Source, q.Year, tags, q.Lang})
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
			if err := cw.Write([]string{"text", "author", "source", "year", "tags", "lang"}); err != nil {
				return err
			}
			write = func(q *quoter.Quote) error {
				year := ""
				if q.Year != 0 {
					year = strconv.Itoa(q.Year)
				}
				return cw.Write([]string{q.Text, q.Author, q.Source, year, strings.Join(q.Tags, ";"), q.Lang})
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
		// Page through the library in id order, so an export lists quotes in
		// the order they were added and imports back with the same ids.
		for off := 0; ; {
			qs, total, err := db.List(ctx, quoter.Filter{}, quoter.Page{Offset: off, Limit: quoter.MaxLimit, Sort: quoter.SortID})
			if err != nil {
				return err
			}
			for _, q := range qs {
				if err := write(q); err != nil {
					return err
				}
			}
			off += len(qs)
			if len(qs) == 0 || off >= total {
				break
			}
		}
		if err := finish(); err != nil {
			return err
		}
		return w.Flush()
	}
}
