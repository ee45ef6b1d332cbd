package sqlite_test

import (
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
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
