package main

import (
	"context"
	"encoding/json"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/passwd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// collectionsOf lists the library's collections through the CLI.
func collectionsOf(t *testing.T, db string) map[string]quoter.Collection {
	t.Helper()
	var cols []quoter.Collection
	if err := json.Unmarshal([]byte(cliOK(t, "--db", db, "collections", "--json")), &cols); err != nil {
		t.Fatal(err)
	}
	m := map[string]quoter.Collection{}
	for _, c := range cols {
		m[c.Name] = c
	}
	return m
}

// A fortune file is a collection named after it; CSV and JSON records go
// where they say, else to classics; --collection puts everything in one.
// Each quote records the file and line it came from.
func TestImport_PutsQuotesInCollections(t *testing.T) {
	db := emptyDB(t)
	dir := t.TempDir()
	cliOK(t, "--db", db, "import",
		writeFile(t, dir, "Riddles.u8", fortuneFile),
		writeFile(t, dir, "quotes.csv", csvFile),
		writeFile(t, dir, "own.json", `[{"text": "In my own collection.", "author": "A", "collection": "mine"}]`))
	cols := collectionsOf(t, db)
	if cols["riddles"].Quotes != 2 || cols["classics"].Quotes != 1 || cols["mine"].Quotes != 1 || cols["riddles"].Private {
		t.Errorf("collections after import = %+v; want riddles 2 (public), classics 1, mine 1", cols)
	}
	q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--author", "Henry David Thoreau"))
	if q.Collection != "riddles" || q.AddedBy.Via != quoter.ViaImport || q.AddedBy.File != "Riddles.u8" || q.AddedBy.Line != 1 {
		t.Errorf("imported fortune quote = %+v; want collection riddles, added by import from Riddles.u8 line 1", q)
	}
	q = decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--lang", "la"))
	if q.AddedBy.File != "quotes.csv" || q.AddedBy.Line != 2 {
		t.Errorf("imported CSV quote's provenance = %+v; want quotes.csv line 2", q.AddedBy)
	}

	cliOK(t, "--db", db, "import", "--collection", "club-quotes", writeFile(t, dir, "more", "Said in the club.\n\t-- Somebody\n%\n"))
	if q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--collection", "club-quotes")); q.Text != "Said in the club." {
		t.Errorf("random --collection club-quotes = %+v", q)
	}
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "import", "--collection", "Bad Name", "x"), "inner hyphens")
}

func TestCollections_ListSetAndServePrivately(t *testing.T) {
	db := shippedDB(t)
	out := cliOK(t, "--db", db, "add", "--author", "A Member", "--collection", "club", "Only for the club.")
	wantContains(t, "add output", out, "(collection club)")
	out = cliOK(t, "--db", db, "collections", "set", "club", "--private", "--title", "The Club")
	wantContains(t, "collections set", out, "collection club in "+db+" is private")
	c := collectionsOf(t, db)["club"]
	if !c.Private || c.Title != "The Club" || c.Quotes != 1 {
		t.Errorf("club = %+v, want private, titled, one quote", c)
	}
	list := strings.Split(strings.TrimSpace(cliOK(t, "--db", db, "collections")), "\n")
	if len(list) != 3 || !slices.Equal(strings.Fields(list[0]), []string{"COLLECTION", "QUOTES", "SERVED", "TITLE"}) ||
		!slices.Equal(strings.Fields(list[1]), []string{"classics", "483", "public"}) ||
		!slices.Equal(strings.Fields(list[2]), []string{"club", "1", "private", "The", "Club"}) {
		t.Errorf("collections printed:\n%s", strings.Join(list, "\n"))
	}
	// Private: served only where named.
	if st := stats(t, db); st.Quotes != 483 {
		t.Errorf("stats counts %d quotes, want the 483 public ones", st.Quotes)
	}
	// A backup holds (and counts) every collection.
	wantContains(t, "backup", cliOK(t, "--db", db, "backup", filepath.Join(t.TempDir(), "copy.db")), "(484 quotes)")
	for range 20 {
		if q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json")); q.Collection != "classics" {
			t.Fatalf("random drew %+v from a private collection", q)
		}
	}
	if q := decodeQuote(t, cliOK(t, "--db", db, "today", "--json", "--collection", "club")); q.Text != "Only for the club." {
		t.Errorf("today --collection club = %+v", q)
	}
	if q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--collection", "club,classics", "--author", "a member")); q.Collection != "club" {
		t.Errorf("random --collection club,classics = %+v", q)
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "random", "--collection", "nosuch"), `no collection is named "nosuch"`)
	cliFail(t, 1, "", "--db", db, "search", "club")
	wantContains(t, "search --collection club", cliOK(t, "--db", db, "search", "--collection", "club", "club"), "Only for the club.")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "search", "--collection", "nosuch", "club"), `no collection is named "nosuch"`)
	// A title alone keeps the privacy; --public makes it public again.
	cliOK(t, "--db", db, "collections", "set", "club", "--title", "Our Club")
	if c := collectionsOf(t, db)["club"]; !c.Private || c.Title != "Our Club" {
		t.Errorf("club after a new title = %+v, want still private", c)
	}
	cliOK(t, "--db", db, "collections", "set", "club", "--public")
	if st := stats(t, db); st.Quotes != 484 {
		t.Errorf("stats after club turned public = %d quotes, want 484", st.Quotes)
	}
	cliOK(t, "--db", db, "collections", "set", "empty-one")
	if c, ok := collectionsOf(t, db)["empty-one"]; !ok || c.Private || c.Quotes != 0 {
		t.Errorf("a new collection = %+v, %v", c, ok)
	}
	for _, args := range [][]string{
		{"collections", "set"},
		{"collections", "set", "Bad"},
		{"collections", "set", "x", "--private", "--public"},
		{"collections", "--private"},
		{"collections", "list"},
	} {
		cliFail(t, 2, "", append([]string{"--db", db}, args...)...)
	}
}

// An export holds every collection, private ones too, with collection and
// provenance, and an import of it gives back the same library.
func TestExport_CarriesCollectionsAndProvenance(t *testing.T) {
	src := emptyDB(t)
	dir := t.TempDir()
	cliOK(t, "--db", src, "import", writeFile(t, dir, "riddles", fortuneFile))
	cliOK(t, "--db", src, "add", "--author", "A", "--collection", "club", "Private words.")
	cliOK(t, "--db", src, "collections", "set", "club", "--private")
	for _, format := range []string{"json", "csv"} {
		first := cliOK(t, "--db", src, "export", "--format", format)
		for _, want := range []string{"riddles", "club", "Private words.", `"via":"import"`, `"file":"riddles"`} {
			if format == "csv" {
				want = strings.ReplaceAll(want, `"`, `""`)
			}
			wantContains(t, format+" export", first, want)
		}
		dst := emptyDB(t)
		cliOK(t, "--db", dst, "import", writeFile(t, dir, "export."+format, first))
		if second := cliOK(t, "--db", dst, "export", "--format", format); second != first {
			t.Errorf("%s: the export of the re-imported library differs:\nfirst:  %s\nsecond: %s", format, first, second)
		}
	}
	only := cliOK(t, "--db", src, "export", "--collection", "club")
	if strings.Count(only, `"text"`) != 1 || !strings.Contains(only, "Private words.") {
		t.Errorf("export --collection club = %s", only)
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", src, "export", "--collection", "nosuch"), "nosuch")
}

func TestAdd_RecordsWhoAddedIt(t *testing.T) {
	db := emptyDB(t)
	cliOK(t, "--db", db, "add", "--author", "A", "Added from the shell.")
	q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json"))
	want := quoter.Provenance{Via: quoter.ViaCLI}
	if u, err := user.Current(); err == nil {
		want.By = u.Username
	}
	if q.AddedBy != want || q.Collection != quoter.DefaultCollection {
		t.Errorf("added quote = %+v; want added by %+v in classics", q, want)
	}
}

// admin passwd stores an argon2id hash of the password read from stdin
// (not a terminal here), which verifies; --remove removes it.
func TestAdminPasswd_StoresAVerifiableHash(t *testing.T) {
	db := emptyDB(t)
	hashOf := func(curator string) (string, error) {
		lib, err := sqlite.Open(db, sqlite.ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer lib.Close()
		return lib.PasswordHash(context.Background(), curator)
	}
	out, errOut, code := cli(t, "s3cret passphrase\n", "--db", db, "admin", "passwd")
	if code != 0 {
		t.Fatalf("admin passwd: exit %d: %s", code, errOut)
	}
	wantContains(t, "admin passwd", out, "set the password of admin")
	h, err := hashOf("admin")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("stored hash = %q, %v", h, err)
	}
	for pw, want := range map[string]bool{"s3cret passphrase": true, "s3cret passphrase\n": false, "wrong": false} {
		if ok, err := passwd.Verify(h, pw); ok != want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if _, _, code := cli(t, "another password\r\n", "--db", db, "admin", "passwd", "carol"); code != 0 {
		t.Fatal("admin passwd carol failed")
	}
	if h, err := hashOf("carol"); err != nil {
		t.Fatal(err)
	} else if ok, _ := passwd.Verify(h, "another password"); !ok {
		t.Error("carol's password (CRLF-terminated on stdin) does not verify")
	}
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "admin", "passwd"), "no password on stdin")
	wantContains(t, "stderr", cliFail(t, 2, "short\n", "--db", db, "admin", "passwd"), "shorter than 8 bytes")
	cliFail(t, 2, "", "--db", db, "admin")
	cliFail(t, 2, "", "--db", db, "admin", "passwd", "two words")
	cliOK(t, "--db", db, "admin", "passwd", "--remove", "carol")
	if _, err := hashOf("carol"); quoter.ErrorCode(err) != quoter.ENOTFOUND {
		t.Errorf("after --remove: %v, want ENOTFOUND", err)
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "admin", "passwd", "--remove", "carol"), `no curator is named "carol"`)
	if h2, _ := hashOf("admin"); h2 != h {
		t.Errorf("admin's hash changed to %q", h2)
	}
}
