package queue_test

import (
	"context"
	"testing"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// backends are the databases the queue keeps its replies in. The tests of
// its behaviour run on each (forEachBackend): one behaviour, two backends.
var backends = []struct {
	name string
	// location returns where a new, empty queue is: a state directory, or
	// the URL of a throwaway PostgreSQL database.
	location func(t *testing.T) string
}{
	{"SQLite", func(t *testing.T) string { return t.TempDir() }},
	{"PostgreSQL", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
}

// forEachBackend runs test once per backend, as a subtest named after it,
// with the location of a new queue there.
func forEachBackend(t *testing.T, test func(t *testing.T, where string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.location(t)) })
	}
}

// openQueue opens the queue at where: a state directory (SQLite) or a
// PostgreSQL URL.
func openQueue(t *testing.T, where string, opts ...queue.Option) *queue.Queue {
	t.Helper()
	var q *queue.Queue
	var err error
	if postgres.IsURL(where) {
		q, err = queue.OpenPostgres(context.Background(), where, opts...)
	} else {
		q, err = queue.Open(where, opts...)
	}
	if err != nil {
		t.Fatalf("opening the queue at %s: %v", where, err)
	}
	return q
}
