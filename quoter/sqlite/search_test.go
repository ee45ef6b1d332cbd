package sqlite_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

func FuzzSearch(f *testing.F) {
	for _, seed := range []string{
		"wit", "soul wit", "curious*", `"`, `"a" OR "b"`, "a NEAR/3 b", "-x", "x -y", "(a OR b) AND c",
		"text:wit", "^start", "*", "**", "a*b", "'; DROP TABLE quotes; --", "\x00", "é", "ﬁ", "İ",
		"\xff\xfe", "NEAR", "AND OR NOT", "a\tb\nc", "\u00adsoft\u200bhyphen", "日本語*",
	} {
		f.Add(seed)
	}
	db := quotertest.NewLibrary(f)
	f.Fuzz(func(t *testing.T, query string) {
		qs, total, err := db.Search(ctx, query, quoter.Page{Limit: 5})
		if code := quoter.ErrorCode(err); code != "" && code != quoter.EINVALID {
			t.Fatalf("Search(%q) = %v", query, err)
		}
		if err == nil && (len(qs) > total || len(qs) > 5) {
			t.Fatalf("Search(%q) = %d results, total %d", query, len(qs), total)
		}
	})
}

// Each Import leaves the search index with at most one segment per level,
// where FTS4 alone would keep every import's segments until sixteen piled
// up at a level, and Finalize leaves one segment: a search looks each word
// up in every segment.
func TestImport_MergesSearchIndex(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path, sqlite.Create())
	for i := range 5 {
		batch := synthetic(500)
		for j := range batch {
			batch[j].Text = fmt.Sprintf("Import %d brings quote %d.", i, j)
		}
		if _, err := db.Import(ctx, batch, nil); err != nil {
			t.Fatalf("Import %d: %v", i, err)
		}
	}
	var levels, segments int
	look, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	err = look.QueryRow(`SELECT count(DISTINCT level), count(*) FROM quotes_fts_segdir`).Scan(&levels, &segments)
	look.Close() // another connection on the file would keep Finalize from leaving WAL mode
	if err != nil {
		t.Fatal(err)
	}
	if segments != levels {
		t.Errorf("after five imports the search index has %d segments on %d levels, want one per level", segments, levels)
	}
	if qs, total, err := db.Search(ctx, "import quote", quoter.Page{Limit: 1}); err != nil || total != 2500 || len(qs) != 1 {
		t.Errorf(`Search("import quote") = %d quotes, total %d, %v; want 1 of 2500`, len(qs), total, err)
	}
	if err := db.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := raw(t, path).QueryRow(`SELECT count(*) FROM quotes_fts_segdir`).Scan(&segments); err != nil || segments != 1 {
		t.Errorf("after Finalize the search index has %d segments (%v), want 1", segments, err)
	}
}
