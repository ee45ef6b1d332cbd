package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/quotesd/quotesd/quoter/sqlite"
)

func init() {
	subcommands["backup"] = &subcommand{summary: "copy the library to a new FILE, safely while it is served", args: "FILE", flags: backupCommand, files: true}
}

// backupCommand copies the --db library to a new file with SQLite's online
// backup. It opens the library read-only and copies a consistent snapshot
// even while `quotesd serve` reads it and other processes write to it, so
// it needs no downtime; the copy is a self-contained file (no WAL beside
// it) that is checked by opening it before the command reports success.
func backupCommand(*flag.FlagSet) runFunc {
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) != 1 || args[0] == "" {
			return usagef("backup takes one argument, the new file to write: quotesd --db %s backup quotes-backup.db", g.DB)
		}
		dest := args[0]
		if g.DB == "" {
			return usagef("--db (or QUOTESD_DB) is empty: name the library to back up")
		}
		// Unlike the reading commands, backup never creates a missing library
		// from the shipped copy: that would back up the wrong thing.
		if _, err := os.Stat(g.DB); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist: nothing to back up (check --db)", g.DB)
		}
		db, err := sqlite.Open(g.DB, sqlite.ReadOnly())
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Backup(ctx, dest); err != nil {
			return err
		}
		bk, err := sqlite.Open(dest, sqlite.ReadOnly())
		if err != nil {
			return fmt.Errorf("the backup %s does not open: %w", dest, err)
		}
		defer bk.Close()
		// Every collection's quotes, private ones too: Stats counts the
		// public ones only.
		cols, err := bk.Collections(ctx)
		if err != nil {
			return fmt.Errorf("the backup %s cannot be read: %w", dest, err)
		}
		n := 0
		for _, c := range cols {
			n += c.Quotes
		}
		fmt.Fprintf(g.Stdout, "backed up %s to %s (%d quotes)\n", g.DB, dest, n)
		return nil
	}
}
