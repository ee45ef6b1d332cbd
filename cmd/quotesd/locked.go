package main

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/mattn/go-sqlite3"
)

// explainLocked rewrites the SQLite errors a command that writes can get
// into what happened and what to do: "database is locked" (another process
// held the library's write lock for longer than the busy timeout) and
// "attempt to write a readonly database" (no write access to the file or
// its directory, where SQLite keeps its journal), and a full disk.
func explainLocked(db string, err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return fmt.Errorf("%s is locked: another process is writing to it and did not finish within the 5 s busy timeout; nothing was changed, try again once it has finished (%w)", db, err)
	case sqlite3.ErrFull:
		return fmt.Errorf("%s: no space left on the disk; the change was rolled back and nothing was changed: free some space and try again (%w)", db, err)
	case sqlite3.ErrIoErr:
		if se.SystemErrno == syscall.ENOSPC || se.SystemErrno == syscall.EFBIG {
			return fmt.Errorf("%s: no space left to write (the disk is full, or the file reached its size limit); the change was rolled back and nothing was changed (%w)", db, err)
		}
	case sqlite3.ErrReadonly:
		return fmt.Errorf("%s is read-only here: changing the library needs write access to the file and to its directory (permissions, or a read-only mount); nothing was changed (%w)", db, err)
	}
	return err
}
