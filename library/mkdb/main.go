// Command mkdb builds the shipped quote library, quotes.db, from its
// reviewable source, library/quotes.json:
//
//	go generate ./...    # runs: go run ./library/mkdb -o quotes.db library/quotes.json
//
// The build is reproducible: the same JSON gives the same file, byte for
// byte, so a change to quotes.db in a commit is always explained by a change
// to the JSON. To that end the library gets a fixed shuffle seed (the quote
// of each day is part of the release, not of the build), a fixed time added
// for every quote, ids in file order, and the file is finalized into
// rollback journal mode and written out fresh by VACUUM INTO, leaving no
// -wal file beside it.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3" // the plain "sqlite3" driver, for canonicalize

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// Seed is the shuffle seed of the shipped library. Changing it changes the
// quote of every day, so it never changes.
const Seed = 0x71756f746573 // "quotes"

// Added is the time added of every shipped quote.
var Added = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "quotes.db", "output `file` (replaced)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkdb [-o quotes.db] library/quotes.json")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	n, err := Build(context.Background(), flag.Arg(0), *out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkdb: %s\n", message(err))
		os.Exit(1)
	}
	fmt.Printf("mkdb: wrote %s: %d quotes\n", *out, n)
}

// message is err for a person: a quoter error's own message without the
// package prefix, anything else as is.
func message(err error) string {
	if code := quoter.ErrorCode(err); code != quoter.EINTERNAL {
		return quoter.ErrorMessage(err)
	}
	return err.Error()
}

// Build writes the library made from the JSON file src to dst and returns
// the number of quotes. dst is replaced only once the new file is complete.
func Build(ctx context.Context, src, dst string) (int, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return 0, err
	}
	rs, err := importer.ParseJSON(src, data)
	if err != nil {
		return 0, err
	}
	if err := checkDuplicates(rs); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".mkdb-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, filepath.Base(dst))
	db, err := sqlite.Open(path, sqlite.Create(), sqlite.WithSeed(Seed), sqlite.WithClock(func() time.Time { return Added }))
	if err != nil {
		return 0, err
	}
	qs := importer.Quotes(rs)
	res, err := db.Import(ctx, qs, nil)
	if err != nil {
		db.Close()
		return 0, err
	}
	if res.Added != len(qs) {
		db.Close()
		return 0, fmt.Errorf("%s: stored %d of %d quotes", src, res.Added, len(qs))
	}
	if err := db.Finalize(ctx); err != nil {
		return 0, err
	}
	final := path + ".final"
	if err := canonicalize(ctx, path, final); err != nil {
		return 0, err
	}
	if err := os.Rename(final, dst); err != nil {
		return 0, err
	}
	return len(qs), nil
}

// checkDuplicates names both records when the source holds the same quote
// twice: the store would skip the second silently, and the reviewer of the
// JSON should decide which attribution is right.
func checkDuplicates(rs []importer.Record) error {
	seen := make(map[[32]byte]importer.Pos, len(rs))
	for _, r := range rs {
		fp := quoter.Fingerprint(r.Quote.Text)
		if first, ok := seen[fp]; ok {
			return quoter.Errorf(quoter.EINVALID, "%s: the same text as record %d (line %d)", r.Pos, first.Record, first.Line)
		}
		seen[fp] = r.Pos
	}
	return nil
}

// canonicalize writes a canonical copy of the library at path to out: it
// first sets the time each schema migration is recorded as applied to Added
// (the store stamps migrations with the wall clock, which would make every
// build differ in those bytes alone), then VACUUM INTO writes a fresh file
// in one transaction. The copy's header counters thus no longer depend on
// how many transactions the store used to build the library, only on its
// content, and it is a rollback-journal file with nothing beside it.
func canonicalize(ctx context.Context, path, out string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `UPDATE schema_version SET applied = ?`, Added.Format("2006-01-02T15:04:05.000Z")); err != nil {
		return fmt.Errorf("%s: pin migration times: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		return fmt.Errorf("%s: vacuum into %s: %w", path, out, err)
	}
	return db.Close()
}
