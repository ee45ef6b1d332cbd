package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// Building a library to ship: a fixed seed and clock make the build
// reproducible, and Finalize leaves one file in rollback journal mode that
// read-only commands open without changing it or leaving -wal/-shm files.
func Example_buildShippedLibrary() {
	dir, err := os.MkdirTemp("", "quotesd-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "quotes.db")
	ctx := context.Background()

	released := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db, err := sqlite.Open(path, sqlite.Create(), sqlite.WithSeed(2026), sqlite.WithClock(func() time.Time { return released }))
	if err != nil {
		log.Fatal(err)
	}
	res, err := db.Import(ctx, []quoter.Quote{
		{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854},
		{Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Source: "Hamlet"},
		{Text: "To err is human, to forgive divine.", Author: "Alexander Pope", Source: "An Essay on Criticism", Year: 1711},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added", res.Added)
	if err := db.Finalize(ctx); err != nil { // closes db
		log.Fatal(err)
	}

	lib, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer lib.Close()
	for q, err := range lib.All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("#%d %s\n", q.ID, q.Attribution())
	}
	_, err = os.Stat(path + "-wal")
	fmt.Println("wal file:", !os.IsNotExist(err))
	// Output:
	// added 3
	// #1 Henry David Thoreau, Walden (1854)
	// #2 William Shakespeare, Hamlet
	// #3 Alexander Pope, An Essay on Criticism (1711)
	// wal file: false
}
