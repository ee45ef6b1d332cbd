package main

// The commands that change the library: init, add, import, purge.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/quotesd/quotesd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

func init() {
	subcommands["init"] = &subcommand{summary: "create the --db library (a file, or the tables in a PostgreSQL database): the shipped library, or --empty", args: "[--empty]", flags: initCommand}
	subcommands["add"] = &subcommand{summary: "add one quote", args: "--author A [flags] TEXT (- reads it from stdin)", flags: addCommand}
	subcommands["import"] = &subcommand{summary: "add quotes from fortune, CSV or JSON files", args: "[--format fortune|csv|json] [--collection C] FILE... (- is stdin)", flags: importCommand, files: true,
		detail: "A fortune file's quotes go to a collection named after the file (literature, riddles); CSV and JSON " +
			"records to the collection they name, else classics. --collection puts every quote in one collection. " +
			"A collection that does not exist is created, public. Each quote records the file and line it came from, " +
			"unless the record carries its own added_by (an export of another library)."}
	subcommands["purge"] = &subcommand{summary: "erase quote ID for good, even from the days it was the quote of the day", args: "ID (cannot be undone)", flags: purgeCommand}
}

func initCommand(fs *flag.FlagSet) runFunc {
	empty := fs.Bool("empty", false, "create an empty library instead of a copy of the shipped one")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("init takes no arguments; choose the file with --db")
		}
		if g.DB == "" {
			return usagef("--db (or QUOTESD_DB) is empty: name the file to create, e.g. --db quotes.db")
		}
		if postgres.IsURL(g.DB) {
			return initDatabase(ctx, g, *empty)
		}
		if !*empty {
			if err := writeNewFile(g.DB, quotesd.Library); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "created %s: a copy of the shipped library\n", g.DB)
			return nil
		}
		// Claim the name with an empty file first, so that an existing file is
		// never opened, let alone changed; the store turns an empty file into
		// an empty library.
		if err := writeNewFile(g.DB, nil); err != nil {
			return err
		}
		db, err := sqlite.Open(g.DB, sqlite.Create())
		if err != nil {
			os.Remove(g.DB)
			return err
		}
		if err := db.Close(); err != nil {
			return err
		}
		fmt.Fprintf(g.Stdout, "created %s: an empty library\n", g.DB)
		return nil
	}
}

// initDatabase is init for a PostgreSQL database, which its operator has
// created: it creates the library's tables in it and, unless empty, copies
// the shipped library into them. A database that holds a library already
// is left as it is.
func initDatabase(ctx context.Context, g *globals, empty bool) error {
	db, err := postgres.Open(ctx, g.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if empty {
		lib, err := db.Export(ctx)
		if err != nil {
			return err
		}
		if len(lib.Quotes)+len(lib.Removed) > 0 {
			return fmt.Errorf("%s holds a library already (%d quotes): nothing to create", displayDB(g.DB), len(lib.Quotes))
		}
		_, err = fmt.Fprintf(g.Stdout, "created %s: an empty library\n", displayDB(g.DB))
		return err
	}
	shipped, err := openShipped(g)
	if err != nil {
		return err
	}
	defer shipped.Close()
	lib, err := shipped.store.(*sqlite.DB).Export(ctx)
	if err != nil {
		return err
	}
	if err := db.Restore(ctx, lib); err != nil {
		if quoter.ErrorCode(err) == quoter.ECONFLICT {
			return fmt.Errorf("%s holds a library already: nothing to create", displayDB(g.DB))
		}
		return err
	}
	_, err = fmt.Fprintf(g.Stdout, "created %s: a copy of the shipped library\n", displayDB(g.DB))
	return err
}

// stringsFlag is a flag that may be given more than once.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func addCommand(fs *flag.FlagSet) runFunc {
	var q quoter.Quote
	var tags stringsFlag
	fs.StringVar(&q.Author, "author", "", "`name` of who said or wrote it (required)")
	fs.StringVar(&q.Source, "source", "", "the `work` it comes from")
	fs.IntVar(&q.Year, "year", 0, "the `year` of the work (negative for BC)")
	fs.Var(&tags, "tag", "a `tag` (repeat for more)")
	fs.StringVar(&q.Lang, "lang", "", "BCP 47 `language` tag (default en)")
	fs.StringVar(&q.Collection, "collection", "", "the `collection` it goes to (default classics; a new one is created, public)")
	return func(ctx context.Context, g *globals, args []string) error {
		if q.Author == "" {
			return usagef("add needs --author: write --author Anonymous when no one is known")
		}
		switch {
		case len(args) == 0:
			return usagef("add needs the quote's text as an argument, or - to read it from stdin")
		case len(args) == 1 && args[0] == "-":
			b, err := io.ReadAll(io.LimitReader(g.Stdin, quoter.MaxTextLen*4))
			if err != nil {
				return fmt.Errorf("reading the quote from stdin: %w", err)
			}
			q.Text = string(b)
		default:
			q.Text = strings.Join(args, " ")
		}
		q.Tags = tags
		q.AddedBy = cliProvenance(quoter.ViaCLI)
		quoter.Normalize(&q)
		if err := q.Validate(); err != nil {
			return err
		}
		return changeLibrary(g, func(db quoter.Library) error { return db.Add(ctx, &q) },
			func() string { return fmt.Sprintf("added quote %d to %s (collection %s)", q.ID, g.DB, q.Collection) })
	}
}

func importCommand(fs *flag.FlagSet) runFunc {
	format := fs.String("format", "", "input `format`: fortune, csv or json (default: guessed from each file's name and content)")
	collection := fs.String("collection", "", "put every quote in this `collection` (default: a fortune file's name, or what each record names)")
	return func(ctx context.Context, g *globals, args []string) error {
		f, err := importer.ParseFormat(*format)
		if err != nil {
			return usagef("--format: %s", quoter.ErrorMessage(err))
		}
		if *collection != "" {
			if err := quoter.ValidCollection(*collection); err != nil {
				return usagef("--collection: %s", quoter.ErrorMessage(err))
			}
		}
		origin := importer.Origin{By: cliProvenance(quoter.ViaImport), Collection: *collection}
		if len(args) == 0 {
			return usagef("import needs one or more files (- for stdin), e.g. 'quotesd import /usr/share/games/fortunes/literature'")
		}
		prog := newProgress(g.Stderr)
		var qs []quoter.Quote
		var authors []quoter.Author
		for _, name := range args {
			data, err := readInput(g, name)
			if err != nil {
				return err
			}
			format := f
			if format == "" {
				format = importer.Guess(name, data)
			}
			rs, err := importer.Parse(name, data, format)
			if err != nil {
				return fmt.Errorf("%s\nnothing was imported", quoter.ErrorMessage(err))
			}
			as, err := importer.Authors(rs)
			if err != nil {
				return fmt.Errorf("%s\nnothing was imported", quoter.ErrorMessage(err))
			}
			authors = append(authors, as...)
			qs = append(qs, origin.Quotes(name, format, rs)...)
			prog.printf("read %d quotes", len(qs))
		}
		db, err := openLibrary(g, false)
		if err != nil {
			prog.done()
			return err
		}
		defer db.Close()
		res, err := db.Import(ctx, qs, func(done int) {
			prog.printf("importing: %d of %d quotes", done, len(qs))
		})
		prog.done()
		if err != nil {
			return fmt.Errorf("%w\nnothing was imported", err)
		}
		// The notes on authors, after the quotes: a file's notes replace
		// those the library had for the same authors.
		for _, a := range authors {
			if err := db.SetAuthor(ctx, a); err != nil {
				return fmt.Errorf("the quotes were imported, but not the notes on %s: %w", a.Name, err)
			}
		}
		_, err = fmt.Fprintf(g.Stdout, "imported %d quotes into %s (%d already there or repeated)\n", res.Added, g.DB, res.Skipped)
		return err
	}
}

// readInput reads a whole input file, or stdin for "-".
func readInput(g *globals, name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(g.Stdin)
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w; nothing was imported", name, unwrapPath(err))
	}
	return b, nil
}

// purgeCommand erases a quote for good: a quote deleted from the library is
// still shown on the days it was the quote of the day (the past is fixed);
// purging erases its text, so those days have no quote any more. It works
// on a quote still in the library too, deleting it first. It cannot be
// undone, which the output says.
func purgeCommand(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) != 1 {
			return usagef("purge takes one quote id, e.g. 'quotesd purge 42'")
		}
		id, err := parseID(args[0])
		if err != nil {
			return err
		}
		return changeLibrary(g, func(db quoter.Library) error { return db.Purge(ctx, id) }, func() string {
			return fmt.Sprintf("purged quote %d from %s: its text is erased for good, and the days it was the quote of the day now have none", id, g.DB)
		})
	}
}
