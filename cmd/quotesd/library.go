package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"

	"github.com/quotesd/quotesd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// defaultDB is the default of --db (see globals.register).
const defaultDB = "quotes.db"

// changeLibrary opens the library for writing, makes one change with fn,
// closes it and prints the line done returns, which may tell what fn did:
// the shape of every command that changes the library in one call.
func changeLibrary(g *globals, fn func(db quoter.Library) error, done func() string) error {
	db, err := openLibrary(g, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := fn(db.store); err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, done())
	return err
}

// store is an open library in either store: a SQLite file or a
// PostgreSQL database.
type store interface {
	quoter.Library
	// All yields every quote in id order, private collections too, for
	// exports (paging with List would be quadratic).
	All(ctx context.Context) iter.Seq2[*quoter.Quote, error]
	Close() error
}

// openStore opens the library --db names, which a postgres:// URL makes a
// PostgreSQL database (created or upgraded in place) and anything else a
// SQLite file. readOnly applies to files only: a database's access is the
// role's (grant SELECT only for a read-only role).
func openStore(ctx context.Context, db string, readOnly bool, opts ...sqlite.Option) (store, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	if readOnly {
		opts = append(opts, sqlite.ReadOnly())
	}
	return sqlite.Open(db, opts...)
}

// library is an open library; Close also removes the temporary copy of the
// shipped library that a command which only reads may be reading.
type library struct {
	store
	tmp string // directory of the copy, or ""
}

// Close closes the library and removes its temporary copy.
func (l *library) Close() error {
	err := l.store.Close()
	if l.tmp != "" {
		os.RemoveAll(l.tmp)
	}
	return err
}

// openLibrary opens the --db library, read-only when readOnly so that
// commands that only read leave the file (and `git status`) untouched.
//
// When --db is the default and there is no file there, a command that only
// reads reads the shipped library, from a temporary copy removed on Close,
// and says once how to get a file of one's own; it never creates quotes.db
// in the current directory, which may be anyone's. A command that writes
// creates the file from the shipped library first (see ensureLibrary): the
// quote it adds has to go somewhere, and that is what it was asked.
func openLibrary(g *globals, readOnly bool) (*library, error) {
	if postgres.IsURL(g.DB) {
		db, err := postgres.Open(context.Background(), g.DB)
		if err != nil {
			return nil, err
		}
		return &library{store: db}, nil
	}
	if readOnly && g.DB == defaultDB {
		if _, err := os.Stat(g.DB); errors.Is(err, fs.ErrNotExist) {
			return openShipped(g)
		}
	}
	if err := ensureLibrary(g); err != nil {
		return nil, err
	}
	db, err := openStore(context.Background(), g.DB, readOnly)
	if err != nil {
		return nil, err
	}
	return &library{store: db}, nil
}

// openShipped opens a temporary copy of the shipped library read-only:
// sqlite.DB opens a pool of connections by path, each of which SQLite
// reads from a file, so the bytes built into the binary are written out
// once (half a megabyte) and removed on Close.
func openShipped(g *globals) (*library, error) {
	dir, err := os.MkdirTemp("", "quotesd-")
	if err != nil {
		return nil, fmt.Errorf("cannot copy the shipped library: %w", err)
	}
	path := filepath.Join(dir, defaultDB)
	if err := os.WriteFile(path, quotesd.Library, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot copy the shipped library: %w", unwrapPath(err))
	}
	db, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if !g.shippedNoted {
		g.shippedNoted = true
		fmt.Fprintf(g.Stderr, "quotesd: no %s here: reading the shipped library; 'quotesd init' writes a copy of your own to add to (or pass --db)\n", defaultDB)
	}
	return &library{store: db, tmp: dir}, nil
}

// ensureLibrary creates a missing library file at the default path from
// the library built into the binary, with a note on stderr, for the
// commands that write: that is what lets a `go install`ed quotesd add a
// quote in any directory. A missing file at a path the user chose is an
// error instead, because it is more likely a typo than a wish for a new
// library; the error says how to create one.
func ensureLibrary(g *globals) error {
	if g.DB == "" {
		return usagef("--db (or QUOTESD_DB) is empty: name the library file, e.g. --db quotes.db")
	}
	if _, err := os.Stat(g.DB); !errors.Is(err, fs.ErrNotExist) {
		return nil // there is a file, or a problem Open will explain
	}
	if g.DB != defaultDB {
		return fmt.Errorf("%s does not exist: create it with 'quotesd --db %s init' (the shipped library) or 'init --empty'", g.DB, g.DB)
	}
	if _, err := createMissingLibrary(g.DB); err != nil {
		return err
	}
	fmt.Fprintf(g.Stderr, "quotesd: created %s from the shipped library (%d bytes); pass --db to use another file\n", g.DB, len(quotesd.Library))
	return nil
}

// createMissingLibrary writes the shipped library to path if no file is
// there, and reports whether it did.
func createMissingLibrary(path string) (bool, error) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return false, nil // there is a file, or a problem Open will explain
	}
	if err := writeNewFile(path, quotesd.Library); err != nil {
		return false, err
	}
	return true, nil
}

// writeNewFile writes data to a new file at path and fails if path exists.
// The data goes to a temporary file in the same directory first and is
// linked into place only when complete, so no one ever sees half a
// library, and an existing file is never overwritten (link, unlike rename,
// refuses to replace).
func writeNewFile(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: remove it first or choose another --db", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("cannot create %s: %w", path, unwrapPath(err))
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: remove it first or choose another --db", path)
		}
		return fmt.Errorf("cannot create %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *PathError wrapper, whose message repeats the
// (temporary) file name, leaving the cause such as "permission denied".
func unwrapPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// notFound rewrites an ENOTFOUND from the library into what to do about it.
func notFound(err error, hint string) error {
	if quoter.ErrorCode(err) == quoter.ENOTFOUND {
		return fmt.Errorf("%s", hint)
	}
	return err
}
