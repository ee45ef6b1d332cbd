package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

// Rebuilding from the committed source gives the committed quotes.db, byte
// for byte: the build is reproducible and quotes.db is up to date.
func TestBuild_ReproducesTheShippedLibrary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "quotes.db")
	n, err := Build(context.Background(), "../../library/quotes.json", out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../quotes.db")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("building library/quotes.json (%d quotes) gives %d bytes that differ from quotes.db (%d bytes): run go generate ./...", n, len(got), len(want))
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("the build left %d files, want only quotes.db", len(entries))
	}
}

func TestBuild_RejectsRepeatedQuotes(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "q.json")
	data := "[\n{\"text\": \"Know thyself.\", \"author\": \"Socrates\"},\n{\"text\": \"KNOW  thyself.\", \"author\": \"Thales\"}\n]"
	if err := os.WriteFile(src, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), src, filepath.Join(dir, "out.db"))
	if got, want := quoter.ErrorMessage(err), src+":3: record 2: the same text as record 1 (line 2)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.db")); err == nil {
		t.Errorf("a failed build wrote out.db")
	}
}
