package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/quotesd/quotesd/quoter"
)

// A full disk during an import (simulated with SQLite's max_page_count on
// the writer's one connection: past it, writes fail with SQLITE_FULL just
// as they do on ENOSPC) rolls the whole import back: the library is what
// it was, and takes the import once there is room.
func TestImport_DiskFullRollsBackEverything(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "quotes.db"), Create())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	batch := func(prefix string, n int) []quoter.Quote {
		qs := make([]quoter.Quote, n)
		for i := range qs {
			qs[i] = quoter.Quote{Text: fmt.Sprintf("%s quote %d: %s", prefix, i, strings.Repeat("padding ", 20)), Author: fmt.Sprintf("Author %d", i%50), Tags: []string{"t"}, Lang: "en"}
		}
		return qs
	}
	if _, err := db.Import(ctx, batch("First", 50), nil); err != nil {
		t.Fatal(err)
	}
	snapshot := func() (quoter.Stats, []*quoter.Quote) {
		st, err := db.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		qs, _, err := db.List(ctx, quoter.Filter{}, quoter.Page{Limit: quoter.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		return st, qs
	}
	stBefore, qsBefore := snapshot()

	var pages int
	if err := db.wdb.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.wdb.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+4)); err != nil {
		t.Fatal(err)
	}
	_, err = db.Import(ctx, batch("Second", 5000), nil)
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("import past the disk's room: err = %v, want SQLITE_FULL", err)
	}
	if quoter.ErrorCode(err) != quoter.EINTERNAL || !strings.Contains(err.Error(), "import") {
		t.Errorf("err = %v, want an internal error naming the import", err)
	}
	if stAfter, qsAfter := snapshot(); stAfter != stBefore || !reflect.DeepEqual(qsAfter, qsBefore) {
		t.Errorf("the library changed after a failed import: stats %+v, then %+v", stBefore, stAfter)
	}
	if _, n, err := db.Search(ctx, "Second", quoter.Page{}); err != nil || n != 0 {
		t.Errorf("search for the failed import's words: %d found, err %v; want none", n, err)
	}

	if _, err := db.wdb.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	res, err := db.Import(ctx, batch("Second", 5000), nil)
	if err != nil {
		t.Fatalf("import once there is room: %v", err)
	}
	if res.Added != 5000 {
		t.Errorf("import once there is room added %d, want 5000", res.Added)
	}
}
