// Package pgtest gives tests a throwaway PostgreSQL database: created with
// a unique name on the server QUOTESD_TEST_POSTGRES names, dropped when the
// test ends. Without a server the test is skipped, or fails when
// QUOTESD_E2E=require (as in CI), so that a missing server never passes
// for a green run.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when QUOTESD_TEST_POSTGRES is unset:
// the development and CI machines' PostgreSQL, trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var counter atomic.Int64

// ServerURL returns the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("QUOTESD_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates an empty database with a unique name and returns its
// URL; the database is dropped when the test ends, after the test's own
// cleanups (which close what connects to it).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin := ServerURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			tb.Fatalf("no PostgreSQL server answers at %s, and QUOTESD_E2E=require: start it (see .ci/run): %v", redacted(admin), err)
		}
		tb.Skipf("no PostgreSQL server answers at %s (set QUOTESD_TEST_POSTGRES, or QUOTESD_E2E=require to fail instead): %v", redacted(admin), err)
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("quotesd_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return DatabaseURL(tb, name)
}

// DatabaseURL returns the URL of the database name on the test server.
func DatabaseURL(tb testing.TB, name string) string {
	tb.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("pgtest: QUOTESD_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "QUOTESD_TEST_POSTGRES"
	}
	return u.Redacted()
}
