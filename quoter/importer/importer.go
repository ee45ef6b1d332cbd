// Package importer reads quotes from the files people already have: fortune(6)
// files, CSV with a header, and JSON arrays (including quotable's export
// format). Parsers are pure functions from bytes to records; they validate
// every record as the store would, so a bad file is rejected before anything
// is written, with an error that names the file and the line (or record).
// Tags are turned into the library's syntax on the way in ("Famous Quotes"
// becomes famous-quotes).
package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// Format is an input format.
type Format string

// The formats Parse understands.
const (
	Fortune Format = "fortune"
	CSV     Format = "csv"
	JSON    Format = "json"
)

// Formats lists the formats by name, for flag help and errors.
var Formats = []Format{Fortune, CSV, JSON}

// ParseFormat returns the Format named s ("" means Guess later).
// Errors: EINVALID for an unknown name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", Fortune, CSV, JSON:
		return f, nil
	}
	return "", quoter.Errorf(quoter.EINVALID, "unknown format %q: want fortune, csv or json", s)
}

// Pos is where a record starts in its input: a line for fortune and CSV
// files, a record number (from 1) and its line for JSON.
type Pos struct {
	File   string
	Line   int // from 1; 0 when unknown
	Record int // from 1, JSON only; 0 otherwise
}

func (p Pos) String() string {
	switch {
	case p.Record > 0 && p.Line > 0:
		return fmt.Sprintf("%s:%d: record %d", p.File, p.Line, p.Record)
	case p.Record > 0:
		return fmt.Sprintf("%s: record %d", p.File, p.Record)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

// Record is one parsed, normalized and validated quote with its position.
type Record struct {
	Quote quoter.Quote
	Pos   Pos
	// Provenance says that the record carries its own added_by, known or
	// not (an export of a library writes it for every quote, {} when
	// unknown): an import keeps it rather than record this file and line.
	Provenance bool
	// AuthorBio and AuthorLink are notes on the quote's author (see
	// quoter.Author), "" when the record has none; Authors gathers them.
	AuthorBio, AuthorLink string
}

// Authors gathers the notes on authors that rs carry, one per author
// slug: the first record's that has any (a file usually repeats them on
// every quote of an author). An import stores them with SetAuthor after
// the quotes. Errors: EINVALID naming the record whose notes are bad.
func Authors(rs []Record) ([]quoter.Author, error) {
	var out []quoter.Author
	seen := map[string]bool{}
	for _, r := range rs {
		if r.AuthorBio == "" && r.AuthorLink == "" {
			continue
		}
		a := quoter.Author{Name: r.Quote.Author, Slug: r.Quote.AuthorSlug(), Bio: strings.TrimSpace(r.AuthorBio), Link: strings.TrimSpace(r.AuthorLink)}
		if seen[a.Slug] {
			continue
		}
		if err := a.ValidateNotes(); err != nil {
			return nil, errorAt(r.Pos, "%s", quoter.ErrorMessage(err))
		}
		seen[a.Slug] = true
		out = append(out, a)
	}
	return out, nil
}

// Quotes returns the quotes of rs in order.
func Quotes(rs []Record) []quoter.Quote {
	qs := make([]quoter.Quote, len(rs))
	for i := range rs {
		qs[i] = rs[i].Quote
	}
	return qs
}

// errorAt returns an EINVALID error whose message starts with pos, so the
// user sees "quotes.csv:17: text is empty" and knows where to look.
func errorAt(pos Pos, format string, args ...any) error {
	return quoter.Errorf(quoter.EINVALID, "%s: %s", pos, fmt.Sprintf(format, args...))
}

// finish normalizes and validates q, reporting a problem at pos.
//
// Tags from other collections are often words with spaces and capitals
// (quotable has "Famous Quotes"), which the library's tag syntax (lower-case
// letters, digits and dashes) does not allow; rather than reject such files,
// runs of spaces and underscores in a tag become one dash: famous-quotes.
//
// A record that names no collection keeps Collection empty, so that the
// importer's caller can choose one (`quotesd import` names a fortune
// file's after the file); the store puts it in quoter.DefaultCollection.
func finish(q *quoter.Quote, pos Pos) error {
	for i, t := range q.Tags {
		q.Tags[i] = strings.Join(strings.FieldsFunc(t, func(r rune) bool { return r == '_' || unicode.IsSpace(r) }), "-")
	}
	named := strings.TrimSpace(q.Collection) != ""
	quoter.Normalize(q)
	if !named {
		q.Collection = ""
	}
	if q.Tags == nil {
		q.Tags = []string{} // so JSON shows [] rather than null
	}
	if err := q.Validate(); err != nil {
		return errorAt(pos, "%s", quoter.ErrorMessage(err))
	}
	return nil
}

// Parse reads quotes in format f from data, which came from the file name
// (used in errors and, when f is "", to guess the format with Guess).
// Errors: EINVALID naming the file and the line or record at fault.
func Parse(name string, data []byte, f Format) ([]Record, error) {
	if f == "" {
		f = Guess(name, data)
	}
	switch f {
	case Fortune:
		return ParseFortune(name, data)
	case CSV:
		return ParseCSV(name, data)
	case JSON:
		return ParseJSON(name, data)
	}
	return nil, quoter.Errorf(quoter.EINVALID, "%s: unknown format %q: want fortune, csv or json", name, f)
}

// Guess picks the format of a file from its extension (.csv, .json; .txt,
// .fortune and .u8 are fortune files), or, failing that, from its content: a
// first non-blank byte '[' or '{' means JSON, a first line that is a CSV
// header naming a text column means CSV, anything else is taken for a
// fortune file, the format with the least structure.
func Guess(name string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV
	case ".json":
		return JSON
	case ".txt", ".fortune", ".fortunes", ".u8":
		return Fortune
	}
	data = bytes.TrimPrefix(data, bom)
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		return JSON
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if isCSVHeader(string(bytes.TrimRight(first, "\r"))) {
		return CSV
	}
	return Fortune
}

// bom is the UTF-8 byte order mark that spreadsheet programs put in front of
// CSV exports; every parser ignores it.
var bom = []byte("\ufeff")

// checkText rejects input that is not text at all: NUL bytes (a binary file,
// such as a fortune .dat index passed by mistake) and invalid UTF-8 (often an
// old Latin-1 file). encoding/json would silently turn invalid UTF-8 into
// U+FFFD, so the check runs before any parser.
func checkText(name string, data []byte) error {
	line := 1
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == 0:
			return quoter.Errorf(quoter.EINVALID, "%s:%d: binary data (a NUL byte): this is not a text file of quotes", name, line)
		case c == '\n':
			line++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return quoter.Errorf(quoter.EINVALID, "%s:%d: invalid UTF-8: convert the file first, e.g. iconv -f LATIN1 -t UTF-8", name, line)
			}
			i += size
			continue
		}
		i++
	}
	return nil
}

// parseProvenance reads a quoter.Provenance written as a JSON object.
func parseProvenance(s string, dst *quoter.Provenance) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return errors.New(`want an object such as {"by":"alice","via":"irc"}`)
	}
	return nil
}
