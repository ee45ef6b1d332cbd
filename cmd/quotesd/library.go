package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"quotesd"
	"quotesd/quoter"
	"quotesd/quoter/sqlite"
)

// defaultDB is the default of --db (see globals.register).
const defaultDB = "quotes.db"

// openLibrary opens the --db library, read-only when readOnly so that
// commands that only read leave the file (and `git status`) untouched,
// after ensureLibrary has made sure there is one.
// changeLibrary opens the library for writing, makes one change with fn,
// closes it and prints the line done returns, which may tell what fn did:
// the shape of every command that changes the library in one call.
func changeLibrary(g *globals, fn func(db *sqlite.DB) error, done func() string) error {
	db, err := openLibrary(g, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := fn(db); err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, done())
	return err
}

func openLibrary(g *globals, readOnly bool) (*sqlite.DB, error) {
	if err := ensureLibrary(g); err != nil {
		return nil, err
	}
	var opts []sqlite.Option
	if readOnly {
		opts = append(opts, sqlite.ReadOnly())
	}
	return sqlite.Open(g.DB, opts...)
}

// ensureLibrary creates a missing library file at the default path from
// the library built into the binary, with a note on stderr: that is what
// lets a `go install`ed quotesd work in any directory. A missing file at a
// path the user chose is an error instead, because it is more likely a typo
// than a wish for a new library; the error says how to create one.
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
