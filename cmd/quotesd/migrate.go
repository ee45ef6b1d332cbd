package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/snapshot"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

func init() {
	subcommands["migrate"] = &subcommand{
		summary: "copy a library exactly between stores: a SQLite file and a PostgreSQL database, either way",
		args:    "--from DB --to DB",
		detail: `Each DB is a file path (SQLite) or a postgres:// URL. The copy keeps every
quote with its id, the removed and purged quotes, the pins, the shuffle seed
and the recorded schedule, so that every past and future day shows the same
quote on both sides. --to must be a new file or a database with no library
in it (its schema is created); --from is only read.`,
		flags: migrateCommand,
	}
}

// exporter is a store migrate reads from, restorer one it writes to.
type (
	exporter interface {
		Export(ctx context.Context) (*snapshot.Library, error)
		Close() error
	}
	restorer interface {
		Restore(ctx context.Context, lib *snapshot.Library) error
		Close() error
	}
)

// migrateCommand copies --from to --to through a snapshot.Library.
func migrateCommand(fs *flag.FlagSet) runFunc {
	from := fs.String("from", "", "the library to copy: a SQLite file or a postgres:// URL")
	to := fs.String("to", "", "where to copy it: a new SQLite file or a postgres:// URL of a database without a library")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 || *from == "" || *to == "" {
			return usagef("migrate takes --from and --to and no arguments: quotesd migrate --from quotes.db --to postgres://user@host/db")
		}
		src, err := openExporter(ctx, *from)
		if err != nil {
			return err
		}
		defer src.Close()
		lib, err := src.Export(ctx)
		if err != nil {
			return err
		}
		dst, cleanup, err := openRestorer(ctx, *to)
		if err != nil {
			return err
		}
		if err := dst.Restore(ctx, lib); err != nil {
			dst.Close()
			cleanup()
			return err
		}
		if err := dst.Close(); err != nil {
			return err
		}
		_, err = fmt.Fprintf(g.Stdout, "copied %d quotes (%d removed, %d pins, %d cycles) from %s to %s\n",
			len(lib.Quotes), len(lib.Removed), len(lib.Pins), len(lib.Cycles), displayDB(*from), displayDB(*to))
		return err
	}
}

func openExporter(ctx context.Context, db string) (exporter, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: nothing to copy (check --from)", db)
	}
	return sqlite.Open(db, sqlite.ReadOnly())
}

// openRestorer opens the library to copy into, and a cleanup that removes
// a new file after a failed copy.
func openRestorer(ctx context.Context, db string) (restorer, func(), error) {
	if postgres.IsURL(db) {
		d, err := postgres.Open(ctx, db)
		return d, func() {}, err
	}
	if _, err := os.Lstat(db); err == nil {
		return nil, nil, fmt.Errorf("%s already exists: migrate writes a new file (choose another --to)", db)
	}
	d, err := sqlite.Open(db, sqlite.Create())
	if err != nil {
		return nil, nil, err
	}
	return d, func() { os.Remove(db); os.Remove(db + "-wal"); os.Remove(db + "-shm") }, nil
}
