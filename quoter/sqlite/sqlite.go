// Package sqlite stores a quote library in one SQLite file and implements
// quoter.Quoter on it.
//
// The file is the unit of deployment: copy it to a replica and that replica
// shows the same quote of the day, because the shuffle seed lives in the
// file. The schema is created and upgraded by embedded migrations (see
// migration/), each applied in its own transaction and recorded in the
// schema_version table.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/quotesd/quotesd/quoter"
)

// Compile-time check that *DB is a whole library.
var _ quoter.Library = (*DB)(nil)

//go:embed migration/*.sql
var migrationFS embed.FS

// driverName is go-sqlite3 with the Go functions the queries need
// registered on every connection (see matchRank in search.go).
const driverName = "sqlite3_quotesd"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			// Memory-mapped reads spare a system call per page: random
			// quotes touch random pages of a file that may be large.
			// Mapping a file read-only does not change it.
			if _, err := c.Exec("PRAGMA mmap_size = 1073741824", nil); err != nil {
				return err
			}
			return c.RegisterFunc("quotesd_rank", matchRank, true)
		},
	})
}

// DB is a quote library in a SQLite file. It is safe for concurrent use.
//
// Reads go through a pool of connections; writes go through a separate pool
// of exactly one connection whose transactions begin IMMEDIATE, so writers in
// this process queue in Go instead of failing with SQLITE_BUSY, and a
// transaction never has to upgrade a read lock to a write lock (the classic
// SQLite deadlock). Writers in other processes wait up to the busy timeout.
type DB struct {
	path     string
	readOnly bool
	now      func() time.Time

	rdb *sql.DB // readers
	wdb *sql.DB // the one writer; nil when read-only

	cache  *cache
	sql    *queries
	schema int // the file's schema version

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared on rdb, by SQL text
}

// Option configures Open.
type Option func(*options)

type options struct {
	readOnly bool
	create   bool
	now      func() time.Time
	seed     *uint64
}

// ReadOnly opens the library for reading only. Its journal mode is left
// alone, so reading a library never changes the file's header nor leaves
// -wal or -shm files behind: running a command that only reads on the
// shipped quotes.db keeps `git status` clean. Write methods return
// EINVALID.
//
// A file in rollback mode (the shipped one) is opened with mode=ro. A file
// in WAL mode (any library quotesd has written) cannot be read without a
// -shm index, which SQLite creates beside it; a mode=ro connection never
// removes it nor the -wal, because removing them takes a write lock on the
// file. Such a file is opened read-write with query_only set instead, so
// that nothing can be written through it, and the last connection to close
// removes the files it made, as SQLite does for any writer, unless another
// process still has the library open. Where that open fails (no write
// access to the file or its directory) the file is opened with mode=ro as
// before, which SQLite can read a WAL file with only where the -shm exists
// or can be made.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// Create creates the file, with an empty library, when it does not exist.
// Without it a missing file is an error.
func Create() Option { return func(o *options) { o.create = true } }

// WithClock sets the clock that stamps Quote.Added and the migrations it
// applies; tests inject a fixed one, and so does the build of the shipped
// library, to be reproducible.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSeed fixes the shuffle seed of the daily selection when Open creates
// the library (it is random otherwise). It has no effect on an existing
// library, whose seed never changes. Building the shipped library with a
// fixed seed makes rebuilding it reproducible: same quotes, same days.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = &seed } }

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// Open opens the library in the file at path, creating or upgrading its
// schema unless it is opened read-only.
//
// Errors name the file and say what to do: a missing file (run `quotesd
// init`), a file that is not a SQLite database, a SQLite database that is
// not a quote library, and a library written by a newer quotesd.
func Open(path string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.readOnly && o.create {
		return nil, quoter.Errorf(quoter.EINVALID, "%s: cannot create a library read-only", path)
	}
	if err := checkFile(path, o.create); err != nil {
		return nil, err
	}

	db := &DB{path: path, readOnly: o.readOnly, now: o.now, cache: newCache(), stmts: map[string]*sql.Stmt{}}
	var err error
	if o.readOnly {
		if walMode(path) {
			db.rdb = openQueryOnly(path)
		}
		if db.rdb == nil {
			db.rdb, err = sql.Open(driverName, dsn(path, "ro", false))
			if err != nil {
				return nil, quoter.Internal("open "+path, err)
			}
		}
		v, err := db.checkVersion(context.Background())
		if err != nil {
			db.Close()
			return nil, err
		}
		db.sql = newQueries(v)
		db.schema = v
	} else {
		// Whatever would be refused is refused before the writer
		// connects: its first connection switches the file to WAL.
		if err := refuseBeforeWriting(context.Background(), path); err != nil {
			return nil, err
		}
		mode := "rw"
		if o.create {
			mode = "rwc"
		}
		// The writer is opened first and alone: it creates the file and
		// switches it to WAL before any reader connects.
		db.wdb, err = sql.Open(driverName, dsn(path, mode, true))
		if err != nil {
			return nil, quoter.Internal("open "+path, err)
		}
		db.wdb.SetMaxOpenConns(1)
		db.wdb.SetMaxIdleConns(1)
		db.wdb.SetConnMaxLifetime(0)
		db.wdb.SetConnMaxIdleTime(0)
		if err := db.migrate(context.Background(), o.seed); err != nil {
			db.Close()
			return nil, err
		}
		db.sql = newQueries(SchemaVersion())
		db.schema = SchemaVersion()
		db.rdb, err = sql.Open(driverName, dsn(path, "ro", false))
		if err != nil {
			db.Close()
			return nil, quoter.Internal("open "+path, err)
		}
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	db.rdb.SetMaxOpenConns(n)
	db.rdb.SetMaxIdleConns(n) // reopening connections would re-run the pragmas each time
	if err := db.rdb.Ping(); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	return db, nil
}

// busyTimeout is how long a connection waits for another's lock.
const busyTimeout = 5 * time.Second

// whileBusy runs fn again while it fails with "database is locked", for as
// long as the busy timeout. The first read of a file that another process
// is switching to WAL, or recovering, gets that answer at once whatever
// the timeout: several quotesd processes opening a new library together
// meet it (TestOpen_ConcurrentFirstOpens).
func whileBusy(fn func() error) error {
	for deadline := time.Now().Add(busyTimeout); ; time.Sleep(20 * time.Millisecond) {
		err := fn()
		var se sqlite3.Error
		if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return err
		}
	}
}

// dsn builds the go-sqlite3 data source name for path.
//
// Read-write connections use WAL: readers (the frontends) then never wait for
// a writer (an import) nor block it. Switching a file to WAL rewrites two
// bytes of its header, which is why only writers do it: a library opened
// read-only keeps whatever journal mode it has, and the shipped quotes.db is
// stored in rollback (DELETE) mode (see Finalize) so that reading it leaves
// neither -wal/-shm files nor a changed header.
//
// The writer gets a page cache of up to 64 MiB: an import touches pages of
// every index at random, and a small cache would spill them to the log
// before the commit.
func dsn(path, mode string, writer bool) string {
	v := "file:" + escapePath(path) + "?mode=" + mode + "&_busy_timeout=" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + "&_foreign_keys=1"
	if writer {
		v += "&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_cache_size=-65536"
	}
	return v
}

// escapePath escapes the characters that SQLite's URI filenames give a
// meaning to.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// checkFile turns the common ways a library file can be wrong into errors a
// person can act on, before SQLite answers with a bare "unable to open".
func checkFile(path string, create bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if create {
			return nil
		}
		return quoter.Errorf(quoter.ENOTFOUND, "%s does not exist: `quotesd init` creates a quote library there (or pass --db)", path)
	} else if err != nil {
		return quoter.Errorf(quoter.EINVALID, "cannot read %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return quoter.Errorf(quoter.EINVALID, "%s is a directory, not a quote library", path)
	}
	buf := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, buf)
	if n == 0 && create {
		return nil // an empty file becomes a new library
	}
	if err != nil || string(buf) != sqliteHeader {
		return quoter.Errorf(quoter.EINVALID, "%s is not a SQLite database", path)
	}
	return nil
}

// openQueryOnly opens the WAL-mode library at path read-write with
// query_only set (see ReadOnly), or returns nil if that does not work, as
// when the process may not write the file or its directory.
func openQueryOnly(path string) *sql.DB {
	rdb, err := sql.Open(driverName, dsn(path, "rw", false)+"&_query_only=1")
	if err != nil {
		return nil
	}
	if err := rdb.Ping(); err != nil {
		rdb.Close()
		return nil
	}
	return rdb
}

// walMode reports whether the database file at path is in WAL mode: bytes
// 18 and 19 of the header, the file format's write and read versions, are
// 2 then (1 in rollback mode).
func walMode(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	return h[18] == 2 || h[19] == 2
}

// openError explains an error from SQLite while opening path.
func openError(path string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
		return quoter.Errorf(quoter.EINVALID, "%s is not a SQLite database", path)
	}
	return quoter.Internal("open "+path, err)
}

// Path returns the file the library is in.
func (db *DB) Path() string { return db.path }

// stmt returns the statement for query prepared on the reader pool,
// preparing it on first use. Only queries from a fixed set (see queries)
// come here, so the map stays small. database/sql prepares a statement
// again on each connection that runs it, once. The lock is not held while
// preparing, which waits for a pooled connection: a reader in a transaction
// (which holds one) may look a statement up meanwhile.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	s, ok := db.stmts[query]
	db.stmtMu.Unlock()
	if ok {
		return s, nil
	}
	s, err := db.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil, quoter.Internal("prepare query", err)
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if prev, ok := db.stmts[query]; ok { // prepared meanwhile by another caller
		s.Close()
		return prev, nil
	}
	db.stmts[query] = s
	return s, nil
}

// Close closes the library. The methods of a closed DB fail.
func (db *DB) Close() error {
	var errs []error
	db.stmtMu.Lock()
	for _, s := range db.stmts {
		errs = append(errs, s.Close())
	}
	clear(db.stmts)
	db.stmtMu.Unlock()
	if db.rdb != nil {
		errs = append(errs, db.rdb.Close())
	}
	if db.wdb != nil {
		errs = append(errs, db.wdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return quoter.Internal("close "+db.path, err)
	}
	return nil
}

// migration is one file of migration/, applied once in order.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations ordered by version. Each file
// is named NNN_description.sql.
var migrations = sync.OnceValue(func() []migration {
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			panic("sqlite: migration " + name + " is out of sequence")
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms
})

// migrationSteps are the parts of migrations that SQL cannot do, run in the
// migration's transaction right after its SQL file.
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{
	4: scheduleMigration,
	5: curationMigration,
}

// SchemaVersion is the newest schema this package knows.
func SchemaVersion() int { return len(migrations()) }

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER PRIMARY KEY,
	name    TEXT NOT NULL,
	applied TEXT NOT NULL
)`

// refuseBeforeWriting refuses, through a read-only connection, the files
// that migrate would refuse (a SQLite database that is not a quote library,
// a library from a newer quotesd), so that a refused file is left exactly
// as it was: the writer's first connection switches a file to WAL, which
// rewrites its header, and a file that migrate refuses after that has been
// changed all the same. A missing or empty file is a new library.
func refuseBeforeWriting(ctx context.Context, path string) error {
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		return nil // checkFile has vetted the path; Open creates the library
	}
	ro, err := sql.Open(driverName, dsn(path, "ro", false))
	if err != nil {
		return quoter.Internal("open "+path, err)
	}
	defer ro.Close()
	return checkSchema(ctx, path, ro)
}

// checkSchema refuses a database with tables but no schema_version (not a
// quote library) and a library whose schema is newer than this quotesd's.
// A database with no tables at all is a library yet to be created.
func checkSchema(ctx context.Context, path string, q *sql.DB) error {
	var tables, hasVersion int
	if err := whileBusy(func() error {
		return q.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN type = 'table' AND name = 'schema_version' THEN 1 END)
		FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`).Scan(&tables, &hasVersion)
	}); err != nil {
		return openError(path, err)
	}
	if hasVersion == 0 {
		if tables > 0 {
			return quoter.Errorf(quoter.EINVALID, "%s is a SQLite database but not a quote library", path)
		}
		return nil
	}
	v, err := schemaVersion(ctx, path, q)
	if err != nil {
		return err
	}
	if v > SchemaVersion() {
		return newerError(path, v)
	}
	return nil
}

// migrate brings the schema up to date, one transaction per migration, and
// refuses a library from a newer quotesd rather than guess at its schema.
// Open has refused such files before writing (refuseBeforeWriting); the
// checks are made again here, on the writer, in case another process
// changed the file in between.
func (db *DB) migrate(ctx context.Context, seed *uint64) error {
	if err := checkSchema(ctx, db.path, db.wdb); err != nil {
		return err
	}
	if _, err := db.wdb.ExecContext(ctx, createVersionTable); err != nil {
		return quoter.Internal("create schema_version in "+db.path, err)
	}
	current, err := schemaVersion(ctx, db.path, db.wdb)
	if err != nil {
		return err
	}
	ms := migrations()
	if current > len(ms) {
		return newerError(db.path, current)
	}
	created := current == 0
	for _, m := range ms[current:] {
		if err := db.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	if created && seed != nil {
		if _, err := db.wdb.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'seed'`, int64(*seed)); err != nil {
			return quoter.Internal("set seed of "+db.path, err)
		}
	}
	return nil
}

// applyMigration applies m and records it, in one transaction.
func (db *DB) applyMigration(ctx context.Context, m migration) error {
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return quoter.Internal("begin migration "+m.name, err)
	}
	defer tx.Rollback()
	// Another process may have applied it since the version was read;
	// inside this (IMMEDIATE) transaction no one else can.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_version WHERE version >= ?`, m.version).Scan(&done); err != nil {
		return quoter.Internal("read schema version of "+db.path, err)
	} else if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return quoter.Internal(fmt.Sprintf("migrate %s to version %d (%s)", db.path, m.version, m.name), err)
	}
	if step := migrationSteps[m.version]; step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migrate %s to version %d (%s): %w", db.path, m.version, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)`,
		m.version, m.name, formatTime(db.now())); err != nil {
		return quoter.Internal("record migration "+m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return quoter.Internal("commit migration "+m.name, err)
	}
	return nil
}

// schemaVersion reads the newest migration recorded in the library at path.
func schemaVersion(ctx context.Context, path string, q *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, openError(path, err)
	}
	return int(v.Int64), nil
}

func newerError(path string, v int) error {
	return quoter.Errorf(quoter.EINVALID, "%s: library schema version %d is newer than this quotesd supports (%d); upgrade quotesd", path, v, SchemaVersion())
}

// minReadVersion is the oldest schema that read-only opens accept as is,
// since they cannot upgrade a file (the shipped quotes.db may be older than
// the binary). Version 2 changed only how imports index for search; for
// version 3's tag_list the queries fall back to reading tags (see
// quoteCols). A migration that the read queries cannot do without must
// raise it to its own version.
const minReadVersion = 1

// checkVersion is migrate for read-only opens: it cannot upgrade, so the
// schema must be one this quotesd reads.
func (db *DB) checkVersion(ctx context.Context) (int, error) {
	var hasVersion int
	if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&hasVersion); err != nil {
		return 0, openError(db.path, err)
	}
	if hasVersion == 0 {
		return 0, quoter.Errorf(quoter.EINVALID, "%s is a SQLite database but not a quote library: `quotesd init` creates one", db.path)
	}
	v, err := schemaVersion(ctx, db.path, db.rdb)
	if err != nil {
		return 0, err
	}
	switch {
	case v > SchemaVersion():
		return 0, newerError(db.path, v)
	case v < minReadVersion:
		return 0, quoter.Errorf(quoter.EINVALID, "%s: library schema version %d is too old for this quotesd to read (it reads %d to %d); run any command that changes the library once to upgrade it", db.path, v, minReadVersion, SchemaVersion())
	}
	return v, nil
}

// Finalize prepares the file to be shipped or copied as a single file and
// closes db: it checkpoints the write-ahead log, switches the file back to
// rollback (DELETE) journal mode and vacuums it. A library in DELETE mode
// can be opened ReadOnly without leaving -wal/-shm files and without any
// change to the file; the build of the shipped quotes.db ends with it.
func (db *DB) Finalize(ctx context.Context) error {
	if db.readOnly {
		return quoter.Errorf(quoter.EINVALID, "%s is open read-only", db.path)
	}
	if err := db.Close(); err != nil {
		return err
	}
	// One plain connection, so that nothing else holds the file while the
	// journal mode changes (leaving WAL needs exclusive access).
	c, err := sql.Open(driverName, dsn(db.path, "rw", false))
	if err != nil {
		return quoter.Internal("open "+db.path, err)
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	for _, stmt := range []string{
		`PRAGMA wal_checkpoint(TRUNCATE)`,
		`PRAGMA journal_mode = DELETE`,
		// One segment in the search index: see mergeSearchIndex.
		`INSERT INTO quotes_fts (quotes_fts) VALUES ('optimize')`,
		`VACUUM`,
	} {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			return quoter.Internal(fmt.Sprintf("finalize %s: %s", db.path, stmt), err)
		}
	}
	if err := c.Close(); err != nil {
		return quoter.Internal("close "+db.path, err)
	}
	return nil
}

// Backup copies the library to a new file dest with SQLite's online backup,
// which is safe while the library is being served and written. dest must
// not exist. The copy is a self-contained file in rollback journal mode.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if _, err := os.Lstat(dest); err == nil {
		return quoter.Errorf(quoter.ECONFLICT, "backup: %s already exists; choose a new file", dest)
	}
	ddb, err := sql.Open(driverName, dsn(dest, "rwc", false))
	if err != nil {
		return quoter.Internal("backup: open "+dest, err)
	}
	defer ddb.Close()
	dconn, err := ddb.Conn(ctx)
	if err != nil {
		return quoter.Internal("backup: create "+dest, err)
	}
	defer dconn.Close()
	sconn, err := db.rdb.Conn(ctx)
	if err != nil {
		return quoter.Internal("backup: read "+db.path, err)
	}
	defer sconn.Close()

	err = dconn.Raw(func(dc any) error {
		return sconn.Raw(func(sc any) error {
			bk, err := dc.(*sqlite3.SQLiteConn).Backup("main", sc.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			for {
				done, err := bk.Step(256)
				if err != nil {
					bk.Finish()
					return err
				}
				if done {
					return bk.Finish()
				}
				if err := ctx.Err(); err != nil {
					bk.Finish()
					return err
				}
			}
		})
	})
	if err == nil {
		_, err = dconn.ExecContext(ctx, `PRAGMA journal_mode = DELETE`)
	}
	if err != nil {
		dconn.Close()
		ddb.Close()
		os.Remove(dest)
		return quoter.Internal(fmt.Sprintf("backup %s to %s", db.path, dest), err)
	}
	return nil
}
