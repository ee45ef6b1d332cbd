// Package pgtest gives a test a throwaway PostgreSQL database of its own,
// on the server QUOTESD_TEST_POSTGRES names (by default the development
// machine's, postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server used when QUOTESD_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("QUOTESD_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// DB is a database made for one test.
type DB struct {
	Name string
	URL  string // connects to it
	srv  *pgx.ConnConfig
}

// New creates a uniquely named database, dropped (its connections ended)
// when the test ends. When no server answers the test is skipped, or
// fails when QUOTESD_E2E=require (as in CI), so that a missing server
// cannot pass as green.
func New(tb testing.TB) *DB {
	tb.Helper()
	srv, err := pgx.ParseConfig(ServerURL())
	if err != nil {
		tb.Fatalf("QUOTESD_TEST_POSTGRES: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, srv)
	if err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			tb.Fatalf("no PostgreSQL server answers at %s, and QUOTESD_E2E=require: %v", ServerURL(), err)
		}
		tb.Skipf("no PostgreSQL server answers at %s (set QUOTESD_E2E=require to fail instead): %v", ServerURL(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "quotesd_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating database %s: %v", name, err)
	}
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("QUOTESD_TEST_POSTGRES is no URL: %v", err)
	}
	u.Path = "/" + name
	db := &DB{Name: name, URL: u.String(), srv: srv}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, srv)
		if err != nil {
			tb.Errorf("dropping database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping database %s: %v", name, err)
		}
	})
	return db
}

// Pool returns a pool of connections to the database, closed when the
// test ends.
func (db *DB) Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), db.URL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// Server runs sql on the server's maintenance database (as the
// superuser: to end the database's connections, or to refuse new ones).
func (db *DB) Server(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, db.srv)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// Unreachable makes the database unreachable: it refuses new connections
// and the ones open are ended, as when its server goes away. Reachable
// undoes it.
func (db *DB) Unreachable(tb testing.TB) {
	tb.Helper()
	db.Server(tb, "ALTER DATABASE "+db.Name+" ALLOW_CONNECTIONS false")
	db.Server(tb, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db.Name)
}

// Reachable lets the database take connections again.
func (db *DB) Reachable(tb testing.TB) {
	tb.Helper()
	db.Server(tb, "ALTER DATABASE "+db.Name+" ALLOW_CONNECTIONS true")
}
