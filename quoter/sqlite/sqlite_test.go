package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the plain "sqlite3" driver, to look inside files

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

var ctx = context.Background()

// tempPath returns a path for a new library in the test's temp dir.
func tempPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "quotes.db")
}

// mustOpen opens the library at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string, opts ...sqlite.Option) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path, opts...)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// newDB returns an empty library with a fixed seed.
func newDB(tb testing.TB, opts ...sqlite.Option) *sqlite.DB {
	tb.Helper()
	return mustOpen(tb, tempPath(tb), append([]sqlite.Option{sqlite.Create(), sqlite.WithSeed(42)}, opts...)...)
}

// synthetic returns n distinct quotes; every third is in French and every
// fifth carries the tag "five".
func synthetic(n int) []quoter.Quote {
	qs := make([]quoter.Quote, n)
	for i := range qs {
		qs[i] = quoter.Quote{
			Text:   fmt.Sprintf("Synthetic quote number %d says something.", i),
			Author: fmt.Sprintf("Author %d", i%7),
			Lang:   "en",
		}
		if i%3 == 0 {
			qs[i].Lang = "fr"
		}
		if i%5 == 0 {
			qs[i].Tags = []string{"five"}
		}
	}
	return qs
}

// wantCode fails the test unless err carries the quoter error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := quoter.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// raw opens path with the plain driver, read-only, to check what the store wrote.
func raw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	r, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

func TestOpen(t *testing.T) {
	t.Run("OK_CreatesLibrary", func(t *testing.T) {
		path := tempPath(t)
		db := mustOpen(t, path, sqlite.Create())
		if db.Path() != path {
			t.Errorf("Path() = %q, want %q", db.Path(), path)
		}
		var v int
		if err := raw(t, path).QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != sqlite.SchemaVersion() {
			t.Errorf("schema version = %d (%v), want %d", v, err, sqlite.SchemaVersion())
		}
		st, err := db.Stats(ctx)
		if err != nil || st != (quoter.Stats{}) {
			t.Errorf("Stats() = %+v, %v; want zero", st, err)
		}
	})
	t.Run("OK_ReopensExisting", func(t *testing.T) {
		path := tempPath(t)
		db := mustOpen(t, path, sqlite.Create())
		q := &quoter.Quote{Text: "Simplify, simplify.", Author: "Henry David Thoreau"}
		if err := db.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db = mustOpen(t, path)
		if got, err := db.Quote(ctx, q.ID); err != nil || got.Text != q.Text {
			t.Errorf("Quote(%d) = %v, %v after reopening", q.ID, got, err)
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		path := tempPath(t)
		_, err := sqlite.Open(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "quotesd init") {
			t.Fatalf("Open(missing) = %v, want an error naming the file and `quotesd init`", err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Error("Open without Create created the file")
		}
		if _, err := sqlite.Open(path, sqlite.ReadOnly()); err == nil {
			t.Error("Open(missing, ReadOnly) succeeded")
		}
	})
	t.Run("ErrNotSQLite", func(t *testing.T) {
		path := tempPath(t)
		junk := []byte("%\nThis is a fortune file, not a database.\n%\n")
		os.WriteFile(path, junk, 0o644)
		for _, opts := range [][]sqlite.Option{nil, {sqlite.ReadOnly()}, {sqlite.Create()}} {
			_, err := sqlite.Open(path, opts...)
			if want := path + " is not a SQLite database"; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Open(junk) = %v, want %q", err, want)
			}
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, junk) {
			t.Error("Open changed a file that is not a database")
		}
	})
	t.Run("ErrNotALibrary", func(t *testing.T) {
		path := tempPath(t)
		other, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		other.Close()
		for _, opts := range [][]sqlite.Option{nil, {sqlite.ReadOnly()}} {
			if _, err := sqlite.Open(path, opts...); err == nil || !strings.Contains(err.Error(), "not a quote library") {
				t.Errorf("Open(other database) = %v, want an error saying it is not a quote library", err)
			}
		}
	})
	t.Run("ErrNewerSchema", func(t *testing.T) {
		path := tempPath(t)
		mustOpen(t, path, sqlite.Create()).Close()
		w, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (99, '099_future.sql', '2099-01-01')`); err != nil {
			t.Fatal(err)
		}
		w.Close()
		want := fmt.Sprintf("%s: library schema version 99 is newer than this quotesd supports (%d); upgrade quotesd", path, sqlite.SchemaVersion())
		for _, opts := range [][]sqlite.Option{nil, {sqlite.ReadOnly()}} {
			_, err := sqlite.Open(path, opts...)
			wantCode(t, err, quoter.EINVALID)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Open(newer) = %v, want %q", err, want)
			}
		}
	})
	t.Run("ErrDirectory", func(t *testing.T) {
		if _, err := sqlite.Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "directory") {
			t.Errorf("Open(dir) = %v, want an error saying it is a directory", err)
		}
	})
}

// A file that Open refuses is refused before anything is written: a
// read-write Open of a library from a newer schema, or of a SQLite database
// that is no library, leaves the file's bytes as they were (no switch to
// WAL, no new header nor change counter) and no -wal/-shm beside it.
func TestOpen_RefusesBeforeWriting(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup string
		want  string
	}{
		{"NewerSchema", `INSERT INTO schema_version (version, name, applied) VALUES (99, '099_future.sql', '2099-01-01')`, "is newer than this quotesd supports"},
		{"NotALibrary", `DROP TABLE schema_version`, "is a SQLite database but not a quote library"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := tempPath(t)
			if err := mustOpen(t, path, sqlite.Create()).Finalize(ctx); err != nil {
				t.Fatal(err)
			}
			w, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Exec(c.setup); err != nil {
				t.Fatal(err)
			}
			w.Close()
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = sqlite.Open(path)
			wantCode(t, err, quoter.EINVALID)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open = %v, want %q", err, c.want)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(after) != sha256.Sum256(before) {
				t.Errorf("Open changed the file it refused (%d bytes before, %d after; header byte 18-19 %v, was %v)",
					len(before), len(after), after[18:20], before[18:20])
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
				t.Errorf("files beside the refused library: %d, want none", len(entries)-1)
			}
		})
	}
}

// A library opened read-only must not change its file in any way nor leave
// -wal/-shm files: the shipped quotes.db lives in git.
func TestOpen_ReadOnlyLeavesFileUntouched(t *testing.T) {
	path := tempPath(t)
	db, err := sqlite.Open(path, sqlite.Create())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Import(ctx, quotertest.Sample(), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Finalize(ctx); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	var mode string
	if err := raw(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("journal mode after Finalize = %q (%v), want delete", mode, err)
	}
	before, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(path, old, old)

	ro := mustOpen(t, path, sqlite.ReadOnly())
	if _, err := ro.Today(ctx, quoter.Date{Year: 2026, Month: 1, Day: 1}, quoter.Filter{}); err != nil {
		t.Errorf("Today: %v", err)
	}
	if _, err := ro.Random(ctx, quoter.Filter{MaxLen: 200}); err != nil {
		t.Errorf("Random: %v", err)
	}
	if _, _, err := ro.Search(ctx, "wit", quoter.Page{}); err != nil {
		t.Errorf("Search: %v", err)
	}
	if _, _, err := ro.List(ctx, quoter.Filter{}, quoter.Page{Sort: quoter.SortAuthor}); err != nil {
		t.Errorf("List: %v", err)
	}
	wantCode(t, ro.Add(ctx, &quoter.Quote{Text: "New.", Author: "Someone"}), quoter.EINVALID)
	wantCode(t, ro.Delete(ctx, 1), quoter.EINVALID)
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the file's bytes changed after a read-only session")
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(old) || st2.Size() != st.Size() {
		t.Errorf("mtime = %v, want unchanged %v", st2.ModTime(), old)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("a read-only session left %s behind", filepath.Base(path+suffix))
		}
	}
}

// A library a writer has left in WAL mode is read without leaving the
// -wal and -shm files SQLite makes to read it; writes are still refused,
// and a writer open at the same time keeps its files and sees no change.
func TestOpen_ReadOnlyOnAWALLibraryLeavesNoFilesBehind(t *testing.T) {
	path := tempPath(t)
	w, err := sqlite.Open(path, sqlite.Create())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Import(ctx, quotertest.Sample(), nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if h, _ := os.ReadFile(path); len(h) < 20 || h[18] != 2 {
		t.Fatal("the library is not in WAL mode after a writer closed it")
	}
	before, _ := os.ReadFile(path)
	left := func() []string {
		var names []string
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(path + suffix); err == nil {
				names = append(names, filepath.Base(path+suffix))
			}
		}
		return names
	}

	ro := mustOpen(t, path, sqlite.ReadOnly())
	if _, err := ro.Random(ctx, quoter.Filter{}); err != nil {
		t.Errorf("Random: %v", err)
	}
	wantCode(t, ro.Add(ctx, &quoter.Quote{Text: "New.", Author: "Someone"}), quoter.EINVALID)
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) > 0 {
		t.Errorf("a read-only session on a WAL library left %v behind", got)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the file's bytes changed after a read-only session")
	}

	// With a writer open, its files stay while a reader comes and goes.
	w = mustOpen(t, path)
	ro = mustOpen(t, path, sqlite.ReadOnly())
	if _, err := ro.Random(ctx, quoter.Filter{}); err != nil {
		t.Errorf("Random beside a writer: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) != 2 {
		t.Errorf("with a writer open, %v beside the library after a reader closed, want its -wal and -shm", got)
	}
	if err := w.Add(ctx, &quoter.Quote{Text: "Written after the reader left.", Author: "Someone"}); err != nil {
		t.Errorf("the writer after the reader closed: %v", err)
	}
}

// Opening a library read-write switches it to WAL, so readers never wait
// for a writer.
func TestOpen_ReadWriteUsesWAL(t *testing.T) {
	path := tempPath(t)
	mustOpen(t, path, sqlite.Create())
	var mode string
	if err := raw(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode = %q (%v), want wal", mode, err)
	}
}

// A database made by the frozen version 1 schema opens read-only as it is,
// then read-write is upgraded to the current version and keeps its quotes
// and tags; the version table says what was applied.
func TestMigration_FromV1(t *testing.T) {
	schema, err := os.ReadFile("testdata/schema_v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := tempPath(t)
	w, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`,
		string(schema),
		`INSERT INTO schema_version VALUES (1, '001_init.sql', '2026-01-01T00:00:00.000Z')`,
		`INSERT INTO quotes (text, author, added, rendered_len, fingerprint, rank)
			VALUES ('Know thyself.', 'Socrates', '2026-01-01T00:00:00.000Z', 27, x'01', 0)`,
		`INSERT INTO tags VALUES (1, 'wisdom')`,
	} {
		if _, err := w.Exec(stmt); err != nil {
			t.Fatalf("building a v1 library: %v", err)
		}
	}
	w.Close()

	// Read-only, a v1 library is read as it is (the shipped quotes.db may
	// be older than the binary), and left as it is.
	before, _ := os.ReadFile(path)
	ro := mustOpen(t, path, sqlite.ReadOnly())
	if q, err := ro.Today(ctx, quoter.Date{Year: 2026, Month: 1, Day: 1}, quoter.Filter{}); err != nil || q.Author != "Socrates" || fmt.Sprint(q.Tags) != "[wisdom]" {
		t.Errorf("read-only v1: Today = %v, %v", q, err)
	}
	if _, n, err := ro.Search(ctx, "thyself", quoter.Page{}); err != nil || n != 1 {
		t.Errorf("read-only v1: Search(thyself) = total %d, %v", n, err)
	}
	ro.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a read-only open of a v1 library changed the file")
	}

	db := mustOpen(t, path)
	q, err := db.Quote(ctx, 1)
	if err != nil || q.Text != "Know thyself." || q.Author != "Socrates" || fmt.Sprint(q.Tags) != "[wisdom]" {
		t.Fatalf("Quote(1) = %+v, %v", q, err)
	}
	if qs, n, err := db.Search(ctx, "thyself", quoter.Page{}); err != nil || n != 1 || len(qs) != 1 {
		t.Errorf("Search(thyself) = %d results, total %d, %v; want 1", len(qs), n, err)
	}
	// Version 2 changed how imports index quotes for search: both ways
	// of adding a quote must still make it findable.
	if _, err := db.Import(ctx, []quoter.Quote{{Text: "Imported after the upgrade.", Author: "Upgrader"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Add(ctx, &quoter.Quote{Text: "Added after the upgrade.", Author: "Upgrader"}); err != nil {
		t.Fatal(err)
	}
	if _, n, err := db.Search(ctx, "upgrade", quoter.Page{}); err != nil || n != 2 {
		t.Errorf("Search(upgrade) = total %d, %v; want 2", n, err)
	}
	checkDenseRanks(t, db)
	rows, err := raw(t, path).Query(`SELECT version, name FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		rows.Scan(&v, &name)
		got = append(got, fmt.Sprintf("%d:%s", v, name))
	}
	if len(got) != sqlite.SchemaVersion() || got[0] != "1:001_init.sql" {
		t.Errorf("schema_version = %v, want %d rows starting with 1:001_init.sql", got, sqlite.SchemaVersion())
	}
}

// The frozen schema under testdata is the real version 1 migration, so the
// migration test above tests what was shipped.
func TestMigration_V1IsFrozen(t *testing.T) {
	frozen, err1 := os.ReadFile("testdata/schema_v1.sql")
	current, err2 := os.ReadFile("migration/001_init.sql")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(frozen, current) {
		t.Error("migration/001_init.sql changed: migrations are append-only; add a new file instead")
	}
}

func TestBackup(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db := quotertest.NewLibrary(t)
		dest := filepath.Join(t.TempDir(), "backup.db")
		if err := db.Backup(ctx, dest); err != nil {
			t.Fatalf("Backup: %v", err)
		}
		cp := mustOpen(t, dest, sqlite.ReadOnly())
		day := quoter.Date{Year: 2026, Month: 3, Day: 14}
		want, _ := db.Today(ctx, day, quoter.Filter{})
		got, err := cp.Today(ctx, day, quoter.Filter{})
		if err != nil || got.ID != want.ID {
			t.Errorf("backup's Today = %v, %v; want #%d", got, err, want.ID)
		}
		s1, _ := db.Stats(ctx)
		s2, _ := cp.Stats(ctx)
		if s1 != s2 {
			t.Errorf("backup stats = %+v, want %+v", s2, s1)
		}
	})
	t.Run("OK_WhileWriting", func(t *testing.T) {
		db := quotertest.NewLibrary(t)
		done := make(chan error)
		go func() {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				err = db.Add(ctx, &quoter.Quote{Text: fmt.Sprintf("Written during the backup, %d.", i), Author: "Writer"})
			}
			done <- err
		}()
		dest := filepath.Join(t.TempDir(), "backup.db")
		if err := db.Backup(ctx, dest); err != nil {
			t.Fatalf("Backup: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Add during backup: %v", err)
		}
		cp := mustOpen(t, dest, sqlite.ReadOnly())
		st, err := cp.Stats(ctx)
		if n := len(quotertest.Sample()); err != nil || st.Quotes < n || st.Quotes > n+50 {
			t.Errorf("backup holds %d quotes (%v), want between %d and %d", st.Quotes, err, n, n+50)
		}
		checkDenseRanks(t, cp)
	})
	t.Run("ErrExists", func(t *testing.T) {
		db := quotertest.NewLibrary(t)
		dest := filepath.Join(t.TempDir(), "backup.db")
		os.WriteFile(dest, []byte("precious"), 0o644)
		wantCode(t, db.Backup(ctx, dest), quoter.ECONFLICT)
		if b, _ := os.ReadFile(dest); string(b) != "precious" {
			t.Error("Backup overwrote an existing file")
		}
	})
}

func TestQuotertest_Sample(t *testing.T) {
	db := quotertest.NewLibrary(t)
	st, err := db.Stats(ctx)
	if err != nil || st.Quotes != len(quotertest.Sample()) || st.Quotes < 35 {
		t.Fatalf("Stats = %+v, %v; want all %d sample quotes", st, err, len(quotertest.Sample()))
	}
	qs, _, err := db.List(ctx, quoter.Filter{MinLen: 3900}, quoter.Page{})
	if err != nil || len(qs) != 1 || len(qs[0].Text) > quoter.MaxTextLen {
		t.Errorf("quotes near 4 KiB = %d, %v; want 1 within MaxTextLen", len(qs), err)
	}
	langs := map[string]bool{}
	for _, q := range quotertest.Sample() {
		langs[q.Lang] = true
	}
	if len(langs) < 3 {
		t.Errorf("sample has languages %v, want several", langs)
	}
	if qs, _, err := db.Search(ctx, "script alert", quoter.Page{}); err != nil || len(qs) != 1 || qs[0].Text != quotertest.Script {
		t.Errorf("the markup fixture is not stored as is: %v, %v", qs, err)
	}
}

// Several processes opening a new library at once (say, serve and a
// cron job) all succeed and apply each migration once.
func TestOpen_ConcurrentFirstOpens(t *testing.T) {
	path := tempPath(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := sqlite.Open(path, sqlite.Create())
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	var n, v int
	if err := raw(t, path).QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil || n != sqlite.SchemaVersion() || v != n {
		t.Errorf("schema_version has %d rows up to %d (%v), want %d", n, v, err, sqlite.SchemaVersion())
	}
}

// downgradeToV4 turns a current library back into what version 4 wrote:
// no collections, provenance, submissions or curators, and no collection
// cycles.
func downgradeToV4(t *testing.T, path string) {
	t.Helper()
	w, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	for _, stmt := range []string{
		`DROP INDEX quotes_collection`,
		`ALTER TABLE quotes DROP COLUMN collection`,
		`ALTER TABLE quotes DROP COLUMN added_by`,
		`ALTER TABLE quotes DROP COLUMN edited_by`,
		`ALTER TABLE removed_quotes DROP COLUMN collection`,
		`ALTER TABLE removed_quotes DROP COLUMN added_by`,
		`ALTER TABLE removed_quotes DROP COLUMN edited_by`,
		`DROP TABLE collections`,
		`DROP TABLE submissions`,
		`DROP TABLE curators`,
		`DROP TABLE authors`, // version 6
		`DELETE FROM cycle_days WHERE cycle IN (SELECT id FROM cycles WHERE key LIKE 'col:%')`,
		`DELETE FROM cycle_slots WHERE cycle IN (SELECT id FROM cycles WHERE key LIKE 'col:%')`,
		`DELETE FROM cycles WHERE key LIKE 'col:%'`,
		`DELETE FROM schema_version WHERE version >= 5`,
	} {
		if _, err := w.Exec(stmt); err != nil {
			t.Fatalf("downgrading to version 4: %s: %v", stmt, err)
		}
	}
}

// A version 4 library, upgraded to version 5, puts every quote in the
// public collection classics and shows the same quote on every day, past
// and to come, in the library's cycle and the tags' and languages'; the
// cycle of classics is the library's. Read-only, a version 4 library is
// read as it is, in one collection, classics.
func TestMigration_V4ToV5(t *testing.T) {
	path := tempPath(t)
	clk := quotertest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	db := mustOpen(t, path, sqlite.Create(), sqlite.WithSeed(77), sqlite.WithClock(clk.Now))
	for i := range 30 {
		if err := db.Add(ctx, &quoter.Quote{Text: fmt.Sprintf("Quote %d of version 4.", i), Author: "Four", Tags: []string{simTags[i%len(simTags)]}}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(20 * time.Hour)
	}
	if err := db.Delete(ctx, 5); err != nil {
		t.Fatal(err)
	}
	db.Close()
	downgradeToV4(t, path)

	filters := []quoter.Filter{{}, {Tag: simTags[0]}, {Lang: "en"}}
	start := quoter.Frontier(clk.Now()).AddDays(-40)
	days := 100
	before := map[string]int64{}
	ro := mustOpen(t, path, sqlite.ReadOnly())
	for d := range days {
		for _, f := range filters {
			before[fmt.Sprint(d, f)] = todayID(t, ro, start.AddDays(d), f)
		}
	}
	if cols, err := ro.Collections(ctx); err != nil || len(cols) != 1 || cols[0].Name != quoter.DefaultCollection || cols[0].Quotes != 29 {
		t.Errorf("read-only v4: Collections() = %+v, %v; want classics with 29 quotes", cols, err)
	}
	if q, err := ro.Random(ctx, quoter.Filter{Collection: quoter.DefaultCollection}); err != nil || q.Collection != quoter.DefaultCollection {
		t.Errorf("read-only v4: Random(classics) = %+v, %v", q, err)
	}
	if got := todayID(t, ro, start, quoter.Filter{Collection: quoter.DefaultCollection}); got != before[fmt.Sprint(0, quoter.Filter{})] {
		t.Errorf("read-only v4: Today(classics) = #%d, want the library's #%d", got, before[fmt.Sprint(0, quoter.Filter{})])
	}
	ro.Close()

	db = mustOpen(t, path, sqlite.WithClock(clk.Now))
	for d := range days {
		for _, f := range filters {
			if got, want := todayID(t, db, start.AddDays(d), f), before[fmt.Sprint(d, f)]; got != want {
				t.Fatalf("after the upgrade, Today(%s, %+v) = #%d, want #%d as before", start.AddDays(d), f, got, want)
			}
		}
		if got, want := todayID(t, db, start.AddDays(d), quoter.Filter{Collection: quoter.DefaultCollection}), before[fmt.Sprint(d, quoter.Filter{})]; got != want {
			t.Fatalf("after the upgrade, Today(%s, classics) = #%d, want the library's #%d", start.AddDays(d), got, want)
		}
	}
	cols, err := db.Collections(ctx)
	if err != nil || len(cols) != 1 || cols[0] != (quoter.Collection{Name: quoter.DefaultCollection, Quotes: 29}) {
		t.Errorf("Collections() = %+v, %v; want public classics with 29 quotes", cols, err)
	}
	// Deleted before the upgrade, a quote is still in classics.
	if err := db.Add(ctx, &quoter.Quote{Text: "After the upgrade.", Author: "Five", Collection: "new"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCollection(ctx, quoter.Collection{Name: "new", Private: true}); err != nil {
		t.Fatal(err)
	}
	frontier := quoter.Frontier(clk.Now())
	for d := range days {
		if frontier.Before(start.AddDays(d)) {
			break
		}
		for _, f := range filters {
			if got, want := todayID(t, db, start.AddDays(d), f), before[fmt.Sprint(d, f)]; got != want {
				t.Fatalf("after changes, Today(%s, %+v) = #%d, want #%d as before", start.AddDays(d), f, got, want)
			}
		}
	}
}
