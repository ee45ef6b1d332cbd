package quotesd_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"

	"github.com/quotesd/quotesd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// The shipped quotes.db holds exactly library/quotes.json: the same quotes
// in the same order (ids 1..N in file order), with the same fields.
func TestLibrary_AgreesWithItsSource(t *testing.T) {
	data, err := os.ReadFile("library/quotes.json")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := importer.ParseJSON("library/quotes.json", data)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open("quotes.db", sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []*quoter.Quote
	for off := 0; ; {
		qs, total, err := db.List(context.Background(), quoter.Filter{}, quoter.Page{Offset: off, Limit: quoter.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, qs...)
		off += len(qs)
		if len(qs) == 0 || off >= total {
			break
		}
	}
	if len(got) != len(rs) {
		t.Fatalf("quotes.db has %d quotes, library/quotes.json %d: run go generate ./...", len(got), len(rs))
	}
	for i, r := range rs {
		want, q := r.Quote, got[i]
		wantTags := slices.Sorted(slices.Values(want.Tags))
		gotTags := slices.Sorted(slices.Values(q.Tags))
		if q.ID != int64(i+1) || q.Text != want.Text || q.Author != want.Author || q.Source != want.Source ||
			q.Year != want.Year || q.Lang != want.Lang || !slices.Equal(gotTags, wantTags) {
			t.Errorf("%s: quotes.db has %+v, want %+v: run go generate ./...", r.Pos, *q, want)
		}
	}
}

// The binary embeds the committed file, and that file is ready to ship:
// rollback journal mode (header bytes 18 and 19 are 1; WAL would make every
// read-only open leave -shm files) and no leftover journal beside it.
func TestLibrary_EmbedsTheFinalizedFile(t *testing.T) {
	b, err := os.ReadFile("quotes.db")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, quotesd.Library) {
		t.Errorf("the embedded library differs from quotes.db")
	}
	if len(b) < 100 || !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Fatalf("quotes.db is not a SQLite file")
	}
	if b[18] != 1 || b[19] != 1 {
		t.Errorf("quotes.db file format bytes = %d, %d, want 1, 1 (rollback journal, not WAL)", b[18], b[19])
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat("quotes.db" + suffix); err == nil {
			t.Errorf("quotes.db%s exists beside the library", suffix)
		}
	}
}

// The shipped library meets the bar set for it: at least 300 quotes, each
// with an author, a language and at least one tag.
func TestLibrary_IsCuratedAndComplete(t *testing.T) {
	db, err := sqlite.Open("quotes.db", sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Quotes < 300 {
		t.Errorf("the shipped library has %d quotes, want at least 300", st.Quotes)
	}
	data, err := os.ReadFile("library/quotes.json")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := importer.ParseJSON("library/quotes.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if len(r.Quote.Tags) == 0 {
			t.Errorf("%s: no tags", r.Pos)
		}
		if r.Quote.Author == importer.Unattributed {
			t.Errorf("%s: no author", r.Pos)
		}
	}
}

// NOTICE's provenance of the shipped quotes rests on this: every dated
// work was first published before 1930 (so before 1931, the year before
// which every work is in the public domain in the United States), or is a
// work of the United States government, which is in the public domain
// whatever its date (17 U.S.C. 105). library/SOURCES.md holds the rule.
func TestLibrary_EveryDatedWorkPredates1930OrIsTheUSGovernments(t *testing.T) {
	usGovernment := map[string]bool{
		"Franklin D. Roosevelt: First Inaugural Address": true, // 1933, delivered as President
	}
	data, err := os.ReadFile("library/quotes.json")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := importer.ParseJSON("library/quotes.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		q := r.Quote
		if q.Year >= 1930 && !usGovernment[q.Author+": "+q.Source] {
			t.Errorf("%s: %s, %s (%d): published after 1929, and not a US government work; see NOTICE and library/SOURCES.md", r.Pos, q.Author, q.Source, q.Year)
		}
	}
}
