package main

import (
	"context"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// An export carries the notes on authors (on each author's first quote),
// and importing it brings them back, in both formats.
func TestExport_CarriesAuthorNotesThroughImport(t *testing.T) {
	src := sampleDB(t)
	lib, err := sqlite.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	notes := quoter.Author{Slug: "oscar-wilde", Bio: "Irish poet, \"wit\", playwright.", Link: "https://en.wikipedia.org/wiki/Oscar_Wilde"}
	if err := lib.SetAuthor(context.Background(), notes); err != nil {
		t.Fatal(err)
	}
	lib.Close()
	for _, format := range []string{"json", "csv"} {
		t.Run(format, func(t *testing.T) {
			out := cliOK(t, "--db", src, "export", "--format", format)
			if n := strings.Count(out, "en.wikipedia.org/wiki/Oscar_Wilde"); n != 1 {
				t.Errorf("the export has the link %d times, want once (on the first quote):\n%.500s", n, out)
			}
			dst := emptyDB(t)
			if _, errOut, code := cli(t, out, "--db", dst, "import", "--format", format, "-"); code != 0 {
				t.Fatalf("import: exit %d: %s", code, errOut)
			}
			back, err := sqlite.Open(dst, sqlite.ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			a, err := back.Author(context.Background(), "oscar-wilde")
			if err != nil || a.Bio != notes.Bio || a.Link != notes.Link {
				t.Errorf("imported author = %+v, %v; want the notes exported", a, err)
			}
			if second := cliOK(t, "--db", dst, "export", "--format", format); second != out {
				t.Errorf("the re-imported library exports differently")
			}
		})
	}
}
