package main

// The commands that only read the library: today, random, search, stats.
// They open it read-only, so running them on the shipped quotes.db changes
// nothing on disk.

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

func init() {
	subcommands["today"] = &subcommand{summary: "print the quote of the day (--date another day, --tag, --lang or --collection their own)", args: "[--date YYYY-MM-DD] [--tag T] [--lang L] [--collection C] [--json]", flags: todayCommand}
	subcommands["random"] = &subcommand{summary: "print a random quote, like fortune(6)", args: "[flags]", flags: randomCommand}
	subcommands["search"] = &subcommand{summary: "print the quotes that match words", args: "[--collection C] [--json] WORDS...", flags: searchCommand}
	subcommands["stats"] = &subcommand{summary: "count quotes, authors and tags", args: "[--json]", flags: statsCommand}
}

// calendar returns the calendar of --tz; an unknown zone is a usage error.
func calendar(g *globals) (*quoter.Calendar, error) {
	cal, err := quoter.LoadCalendar(g.TZ)
	if err != nil {
		return nil, usagef("--tz: %s", quoter.ErrorMessage(err))
	}
	return cal, nil
}

func todayCommand(fs *flag.FlagSet) runFunc {
	date := fs.String("date", "", "show the quote of `YYYY-MM-DD` instead of today's (the archive)")
	var f quoter.Filter
	fs.StringVar(&f.Tag, "tag", "", "the quote of the day of this `tag`: its own daily cycle")
	fs.StringVar(&f.Lang, "lang", "", "the quote of the day in this `language` (e.g. fr): its own daily cycle, or with --tag the first of the tag's in it")
	fs.StringVar(&f.Collection, "collection", "", "the quote of the day of this `collection` (or the first of several, comma-separated): its own daily cycle; private ones too")
	asJSON := fs.Bool("json", false, "print a JSON object")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("today takes no arguments, got %q; use --date YYYY-MM-DD for another day, --tag or --lang for a tag's or a language's quote", args[0])
		}
		cal, err := calendar(g)
		if err != nil {
			return err
		}
		day := cal.Today()
		if *date != "" {
			if day, err = quoter.ParseDate(*date); err != nil {
				return usagef("--date: %s", quoter.ErrorMessage(err))
			}
		}
		db, err := openLibrary(g, true)
		if err != nil {
			return err
		}
		defer db.Close()
		q, err := db.Today(ctx, day, f)
		switch {
		case err == nil:
			return printQuote(g.Stdout, q, *asJSON)
		case quoter.ErrorCode(err) == quoter.EGONE:
			return fmt.Errorf("no quote to show for %s: %w", day, err)
		case f.Collection != "":
			return err // names the unknown collection, or says it has no quotes
		case f.IsZero():
			return notFound(err, g.DB+" holds no quotes: add some with 'quotesd import FILE' or 'quotesd add'")
		case f.Tag != "" && f.Lang != "" && quoter.ErrorCode(err) == quoter.ENOTFOUND:
			// The message names an unknown tag or language, or says that
			// none of the tag's quotes is in the language.
			return fmt.Errorf("%w (--tag %s --lang %s)", err, f.Tag, f.Lang)
		}
		return err // an unknown tag or language is named in the message
	}
}

func randomCommand(fs *flag.FlagSet) runFunc {
	var f quoter.Filter
	fs.IntVar(&f.MaxLen, "max-len", 0, "at most `N` bytes, attribution included (0: no limit)")
	fs.IntVar(&f.MinLen, "min-len", 0, "at least `N` bytes, attribution included")
	fs.StringVar(&f.Tag, "tag", "", "only quotes with this `tag`")
	fs.StringVar(&f.Author, "author", "", "only quotes by this `author` (exact name, any case)")
	fs.StringVar(&f.Lang, "lang", "", "only quotes in this `language` (e.g. en)")
	fs.StringVar(&f.Collection, "collection", "", "only quotes of this `collection`, or of several, comma-separated (default: every public one)")
	asJSON := fs.Bool("json", false, "print a JSON object")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("random takes no arguments, got %q; filter with --tag, --author, --lang, --collection, --min-len, --max-len", args[0])
		}
		if f.MinLen < 0 || f.MaxLen < 0 {
			return usagef("--min-len and --max-len must not be negative")
		}
		if f.MaxLen > 0 && f.MinLen > f.MaxLen {
			return usagef("--min-len %d is more than --max-len %d: no quote can match", f.MinLen, f.MaxLen)
		}
		db, err := openLibrary(g, true)
		if err != nil {
			return err
		}
		defer db.Close()
		q, err := db.Random(ctx, f)
		if err != nil {
			if err := checkCollections(ctx, db, f); err != nil {
				return err
			}
			if f.IsZero() {
				return notFound(err, g.DB+" holds no quotes: add some with 'quotesd import FILE' or 'quotesd add'")
			}
			return notFound(err, "no quote matches those filters: loosen them, or see 'quotesd stats' and 'quotesd search'")
		}
		return printQuote(g.Stdout, q, *asJSON)
	}
}

func searchCommand(fs *flag.FlagSet) runFunc {
	var f quoter.Filter
	fs.StringVar(&f.Collection, "collection", "", "search this `collection`, or several, comma-separated (default: every public one)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	return func(ctx context.Context, g *globals, args []string) error {
		query := strings.Join(args, " ")
		if strings.TrimSpace(query) == "" {
			return usagef("search needs words to look for, e.g. 'quotesd search simplify' or 'quotesd search wis*'")
		}
		db, err := openLibrary(g, true)
		if err != nil {
			return err
		}
		defer db.Close()
		qs, total, err := db.SearchIn(ctx, query, f, quoter.Page{Limit: quoter.MaxLimit})
		if err != nil {
			return err
		}
		if total == 0 {
			return fmt.Errorf("no quote matches %q: try fewer words, or a prefix such as wis*", query)
		}
		if err := printQuotes(g.Stdout, qs, *asJSON); err != nil {
			return err
		}
		if total > len(qs) {
			fmt.Fprintf(g.Stderr, "quotesd: showing the best %d of %d matches; add words to narrow the search\n", len(qs), total)
		}
		return nil
	}
}

func statsCommand(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, `print {"quotes":N,"authors":N,"tags":N}`)
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("stats takes no arguments")
		}
		db, err := openLibrary(g, true)
		if err != nil {
			return err
		}
		defer db.Close()
		st, err := db.Stats(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			b, err := marshal(st)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
			return err
		}
		_, err = fmt.Fprintf(g.Stdout, "quotes:  %d\nauthors: %d\ntags:    %d\n", st.Quotes, st.Authors, st.Tags)
		return err
	}
}
