// Package leasetest gives tests a throwaway PostgreSQL database: made for
// the test, dropped after it.
package leasetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServer is the server tests use when QUOTESD_TEST_POSTGRES is unset:
// the development and CI machines' PostgreSQL, with trust authentication.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Server returns the URL of the PostgreSQL server tests use: the
// maintenance database (QUOTESD_TEST_POSTGRES, else DefaultServer).
func Server() string {
	if u := os.Getenv("QUOTESD_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultServer
}

// Database creates a database of its own for tb and returns its URL; it
// is dropped (its connections ended) when tb ends. Without a server the
// test is skipped, or fails when QUOTESD_E2E=require, as in CI.
func Database(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, Server())
	if err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			tb.Fatalf("no PostgreSQL answers at %s, and QUOTESD_E2E=require: %v (see .ci/run)", Server(), err)
		}
		tb.Skipf("no PostgreSQL answers at %s: %v (set QUOTESD_TEST_POSTGRES, or QUOTESD_E2E=require to fail instead)", Server(), err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "quotesd_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, Server())
		if err != nil {
			tb.Errorf("dropping database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(Server())
	if err != nil {
		tb.Fatalf("QUOTESD_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
