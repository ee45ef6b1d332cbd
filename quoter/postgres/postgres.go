// Package postgres stores a quote library in a PostgreSQL database and
// implements quoter.Quoter on it, for several quotesd replicas that serve
// one library.
//
// It keeps the same schema as the SQLite store (quoter/sqlite) and walks
// the same recorded cycles, so that both stores give the same quote for the
// same day given the same seed and history, and `quotesd migrate` moves a
// library between them exactly. The schema is created and upgraded by
// embedded migrations (see migration/), each applied in its own
// transaction under an advisory lock and recorded in schema_version.
//
// Each replica answers from memory what the SQLite store answers from
// memory (the state of the library, quotes of the day, counts), and learns
// of other replicas' changes by LISTEN/NOTIFY: every change notifies the
// channel quotesd_library in its transaction, and every DB listens on one
// connection of its own. A replica that loses that connection keeps
// serving from its memory, says so through Health, and reads the state
// again when it is back.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quotesd/quotesd/quoter"
)

// Compile-time check that *DB is a Quoter.
var _ quoter.Quoter = (*DB)(nil)

//go:embed migration/*.sql
var migrationFS embed.FS

// DB is a quote library in a PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	url   string // without password, for messages
	now   func() time.Time
	pool  *pgxpool.Pool
	cache *cache

	listener *listener
}

// Option configures Open.
type Option func(*options)

type options struct {
	now  func() time.Time
	seed *uint64
}

// WithClock sets the clock that stamps Quote.Added, the migrations and the
// frontier of changes; tests inject one.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSeed fixes the shuffle seed of the daily selection when Open creates
// the library (it is random otherwise). It has no effect on an existing
// library, whose seed never changes.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = &seed } }

// IsURL reports whether s names a PostgreSQL database rather than a file:
// a postgres:// or postgresql:// URL.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user@host:port/db?...;
// pool_max_conns sets the pool's size, sslmode the use of TLS, as pgx
// documents), creates or upgrades the library's schema in it, and starts
// listening for other replicas' changes.
//
// Errors name the database (without its password) and say what is wrong:
// an unreachable server, a database whose tables are not a quote library,
// a library written by a newer quotesd.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, quoter.Errorf(quoter.EINVALID, "invalid PostgreSQL URL: %v", errors.Unwrap(err))
	}
	name := redact(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, quoter.Internal("connect to "+name, err)
	}
	db := &DB{url: name, now: o.now, pool: pool, cache: newCache()}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, quoter.Internal("connect to "+name, err)
	}
	if err := db.migrate(ctx, o.seed); err != nil {
		pool.Close()
		return nil, err
	}
	db.listener, err = listen(ctx, cfg.ConnConfig, db.cache)
	if err != nil {
		pool.Close()
		return nil, quoter.Internal("listen for changes on "+name, err)
	}
	return db, nil
}

// redact names a database for messages: user, host, port and name.
func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Name returns the database's URL without its password or parameters.
func (db *DB) Name() string { return db.url }

// Close stops listening and closes the connections. The methods of a
// closed DB fail.
func (db *DB) Close() error {
	if db.listener != nil {
		db.listener.stop()
	}
	db.pool.Close()
	return nil
}

// Health reports whether this replica hears the database: nil while its
// listening connection is up, else an error saying since when it has been
// serving from memory. /readyz and the metrics ask it.
func (db *DB) Health() error { return db.listener.health() }

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
			panic("postgres: migration " + name + " is out of sequence")
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms
})

// SchemaVersion is the newest schema this package knows.
func SchemaVersion() int { return len(migrations()) }

// migrateLock is the advisory lock that replicas starting together take
// while they look at and upgrade the schema, so that one applies each
// migration and the others then see it applied.
const migrateLock = 0x71756f7465736431 // "quotesd1"

// migrate brings the schema up to date, one transaction per migration,
// and refuses a database that holds other tables named like the library's
// but no schema_version, and a library from a newer quotesd.
func (db *DB) migrate(ctx context.Context, seed *uint64) error {
	for _, m := range migrations() {
		if err := db.applyMigration(ctx, m, seed); err != nil {
			return err
		}
	}
	var v int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return quoter.Internal("read schema version of "+db.url, err)
	}
	if v > SchemaVersion() {
		return quoter.Errorf(quoter.EINVALID, "%s: library schema version %d is newer than this quotesd supports (%d); upgrade quotesd", db.url, v, SchemaVersion())
	}
	return nil
}

// applyMigration applies m and records it, in one transaction, unless it
// is applied already.
func (db *DB) applyMigration(ctx context.Context, m migration, seed *uint64) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return quoter.Internal("begin migration "+m.name, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return quoter.Internal("lock the schema of "+db.url, err)
	}
	var hasVersion, hasQuotes bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('quotes') IS NOT NULL`).Scan(&hasVersion, &hasQuotes); err != nil {
		return quoter.Internal("read the schema of "+db.url, err)
	}
	if !hasVersion && hasQuotes {
		return quoter.Errorf(quoter.EINVALID, "%s has a table quotes but is not a quote library: use another database or schema", db.url)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied timestamptz NOT NULL)`); err != nil {
		return quoter.Internal("create schema_version in "+db.url, err)
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_version WHERE version >= $1)`, m.version).Scan(&done); err != nil {
		return quoter.Internal("read schema version of "+db.url, err)
	} else if done {
		return nil
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return quoter.Internal(fmt.Sprintf("migrate %s to version %d (%s)", db.url, m.version, m.name), err)
	}
	if m.version == 1 && seed != nil {
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'seed'`, int64(*seed)); err != nil {
			return quoter.Internal("set seed of "+db.url, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name, applied) VALUES ($1, $2, $3)`,
		m.version, m.name, db.now().UTC()); err != nil {
		return quoter.Internal("record migration "+m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return quoter.Internal("commit migration "+m.name, err)
	}
	return nil
}

// isUnique reports whether err is a unique violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
