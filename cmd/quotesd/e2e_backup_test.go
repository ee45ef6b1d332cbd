package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// libraryCount opens the library at path read-only and counts its quotes.
func libraryCount(t *testing.T, path string) int {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	defer db.Close()
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return st.Quotes
}

// A backup taken while `quotesd serve` answers clients and another process
// adds quotes is a consistent, self-contained library holding every quote
// committed before it started; restoring it (stop, replace the file, start)
// serves it.
func TestBackup_WhileServedAndWrittenIsConsistentAndRestores(t *testing.T) {
	dir := t.TempDir()
	db := writeLibrary(t, filepath.Join(dir, "quotes.db"), shortQuotes...)
	s := startQOTD(t, db)

	writer, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	wg.Add(1)
	go func() { // a writer in another connection, committing all along
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			q := &quoter.Quote{Text: fmt.Sprintf("Written during the backup, number %d.", i), Author: "Writer", Lang: "en"}
			if err := writer.Add(ctx, q); err != nil {
				if ctx.Err() == nil {
					t.Errorf("add %d while backing up: %v", i, err)
				}
				return
			}
			mu.Lock()
			added++
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for i := range 3 {
		mu.Lock()
		before := len(shortQuotes) + added
		mu.Unlock()
		dest := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		stdout, stderr, code := runQuotesd(t, nil, "--db", db, "backup", dest)
		if code != 0 {
			t.Fatalf("backup %d: exit %d: %s", i, code, stderr)
		}
		if !strings.HasPrefix(stdout, "backed up "+db+" to "+dest) {
			t.Errorf("backup %d: stdout %q", i, stdout)
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(dest + suffix); err == nil {
				t.Errorf("backup %d left %s beside it: the copy must be one file", i, dest+suffix)
			}
		}
		mu.Lock()
		after := len(shortQuotes) + added
		mu.Unlock()
		if n := libraryCount(t, dest); n < before || n > after {
			t.Errorf("backup %d holds %d quotes, want between %d and %d (committed before and after it)", i, n, before, after)
		}
		if got := telnet(t, s.Addr("qotd"), ""); got == "" {
			t.Errorf("no quote served during backup %d", i)
		}
	}
	cancel()
	wg.Wait()
	writer.Close()

	// Restore, as docs/OPERATIONS.md says: stop, replace the file (and
	// remove any -wal/-shm of the old one), start.
	backup := filepath.Join(dir, "backup-0.db")
	want := libraryCount(t, backup)
	if err := s.Stop(); err != nil {
		t.Fatalf("stopping serve: %v", err)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+".new", b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(db + "-wal")
	os.Remove(db + "-shm")
	if err := os.Rename(db+".new", db); err != nil {
		t.Fatal(err)
	}
	if got := libraryCount(t, db); got != want {
		t.Errorf("restored library holds %d quotes, want the backup's %d", got, want)
	}
	s = startQOTD(t, db)
	if got, want := telnet(t, s.Addr("qotd"), ""), todaysReply(t, db, ""); got != want {
		t.Errorf("after the restore: reply %q, want %q", got, want)
	}
}

func TestBackup_RefusesToOverwriteAFile(t *testing.T) {
	dir := t.TempDir()
	db := writeLibrary(t, filepath.Join(dir, "quotes.db"), shortQuotes...)
	dest := filepath.Join(dir, "taken.db")
	if err := os.WriteFile(dest, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runQuotesd(t, nil, "--db", db, "backup", dest)
	if code != 1 || !strings.Contains(stderr, dest+" already exists") {
		t.Errorf("backup onto an existing file: exit %d, stderr %q; want 1 and a message naming the file", code, stderr)
	}
	if b, _ := os.ReadFile(dest); string(b) != "precious" {
		t.Errorf("the existing file was changed: %q", b)
	}
}

func TestBackup_MissingLibraryOrArgumentIsAClearError(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.db")
	dest := filepath.Join(dir, "b.db")
	_, stderr, code := runQuotesd(t, nil, "--db", missing, "backup", dest)
	if code != 1 || !strings.Contains(stderr, missing+" does not exist") {
		t.Errorf("missing library: exit %d, stderr %q; want 1 naming %s", code, stderr, missing)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("a backup file was written for a missing library")
	}
	db := writeLibrary(t, filepath.Join(dir, "quotes.db"), shortQuotes...)
	for _, args := range [][]string{{}, {"a.db", "b.db"}, {""}} {
		_, stderr, code := runQuotesd(t, nil, append([]string{"--db", db, "backup"}, args...)...)
		if code != 2 || !strings.Contains(stderr, "backup takes one argument") {
			t.Errorf("backup %q: exit %d, stderr %q; want usage (2)", args, code, stderr)
		}
	}
}
