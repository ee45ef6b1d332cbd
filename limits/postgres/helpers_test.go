package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// testDB is a throwaway database (pgtest.NewDatabase) the test can make
// unreachable.
type testDB struct {
	Name string
	URL  string
}

func newTestDB(tb testing.TB) *testDB {
	tb.Helper()
	u := pgtest.NewDatabase(tb)
	p, err := url.Parse(u)
	if err != nil {
		tb.Fatal(err)
	}
	return &testDB{Name: strings.TrimPrefix(p.Path, "/"), URL: u}
}

// Pool returns a pool of connections to the database, closed when the
// test ends (before the database is dropped).
func (db *testDB) Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), db.URL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// server runs sql on the test server's maintenance database, as the
// superuser.
func (db *testDB) server(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// Unreachable makes the database unreachable, as when its server goes
// away: it refuses new connections, and the ones open are ended
// (pg_terminate_backend). Reachable undoes it.
func (db *testDB) Unreachable(tb testing.TB) {
	tb.Helper()
	db.server(tb, "ALTER DATABASE "+db.Name+" ALLOW_CONNECTIONS false")
	db.server(tb, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db.Name)
}

// Reachable lets the database take connections again.
func (db *testDB) Reachable(tb testing.TB) {
	tb.Helper()
	db.server(tb, "ALTER DATABASE "+db.Name+" ALLOW_CONNECTIONS true")
}
