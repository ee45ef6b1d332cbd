package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

func TestPrintQuote_TextIsRenderPlusNewline(t *testing.T) {
	q := &quoter.Quote{ID: 7, Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Lang: "en"}
	var b bytes.Buffer
	if err := printQuote(&b, q, false); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "Simplify, simplify.\n    -- Henry David Thoreau, Walden (1854)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPrintQuote_JSONIsOneLineAndKeepsMarkup(t *testing.T) {
	q := &quoter.Quote{ID: 3, Text: "a <b> & \"c\"\nd", Author: "A", Lang: "en"}
	var b bytes.Buffer
	if err := printQuote(&b, q, true); err != nil {
		t.Fatal(err)
	}
	want := `{"id":3,"text":"a <b> & \"c\"\nd","author":"A","source":"","tags":[],"lang":"en"}` + "\n"
	if got := b.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPrintQuotes_SeparatesWithPercentLines(t *testing.T) {
	qs := []*quoter.Quote{{Text: "one", Author: "A"}, {Text: "two", Author: "B"}}
	var b bytes.Buffer
	if err := printQuotes(&b, qs, false); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "one\n    -- A\n%\ntwo\n    -- B\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	b.Reset()
	if err := printQuotes(&b, nil, true); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "[]\n" {
		t.Errorf("no quotes as JSON = %q, want []", got)
	}
}

func TestProgress_SilentUnlessATerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	p.printf("importing %d", 1)
	p.done()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a buffer", b.String())
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Errorf("a pipe was taken for a terminal")
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if isTerminal(devNull) {
		t.Errorf("%s was taken for a terminal", os.DevNull)
	}
}

func TestProgress_RewritesOneLineThenClearsIt(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b}
	p.printf("importing: %d of %d quotes", 1000, 5000)
	p.printf("importing: %d of %d quotes", 2000, 5000) // within 100 ms: dropped
	p.done()
	if got, want := b.String(), "\r\x1b[Kimporting: 1000 of 5000 quotes\r\x1b[K"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
