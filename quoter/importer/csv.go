package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// csvColumns maps the header names ParseCSV understands (case-insensitive)
// to the field they fill. "quote" and "content" are what other quote
// collections call the text.
var csvColumns = map[string]string{
	"text": "text", "quote": "text", "content": "text",
	"author": "author",
	"source": "source", "work": "source",
	"year": "year",
	"tags": "tags", "tag": "tags",
	"lang": "lang", "language": "lang",
	"collection": "collection",
	"added_by":   "added_by", "edited_by": "edited_by",
	"author_bio": "author_bio", "author_link": "author_link",
}

// TagSeparators are the characters that separate tags within one CSV field:
// "love;life", "love,life" and "love|life" all give two tags. Tags may not
// contain any of them (see Quote.Validate), so accepting all three is never
// ambiguous, and files from other tools work whichever they chose. Export
// writes ";", which needs no CSV quoting.
const TagSeparators = ",;|"

// ParseCSV reads CSV (RFC 4180) with a header row naming the columns: text
// (or quote, content), author, source, year, tags, lang, collection,
// added_by, edited_by, author_bio, author_link, in any order and case; other columns are ignored.
// Tags are separated by any of TagSeparators; an empty year is unknown; an
// empty lang is "en"; an empty collection is left for the caller to choose.
// added_by and edited_by hold a quoter.Provenance as a JSON object (what
// `quotesd export --format csv` writes), empty when unknown.
//
// Errors: EINVALID naming the file and the line of the bad record (a
// missing text column, a malformed row, a year that is not a number, or a
// record that fails Quote.Validate).
func ParseCSV(name string, data []byte) ([]Record, error) {
	if err := checkText(name, data); err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, bom)))
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil // an empty file holds no quotes
	} else if err != nil {
		return nil, csvError(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		if f, ok := csvColumns[strings.ToLower(strings.TrimSpace(h))]; ok {
			if _, dup := col[f]; dup {
				return nil, errorAt(Pos{File: name, Line: 1}, "two columns for %s in the header", f)
			}
			col[f] = i
		}
	}
	if _, ok := col["text"]; !ok {
		return nil, errorAt(Pos{File: name, Line: 1}, "the header has no text column: want a first row such as text,author,source,year,tags,lang")
	}
	get := func(row []string, f string) string {
		if i, ok := col[f]; ok {
			return row[i]
		}
		return ""
	}
	var out []Record
	for {
		row, err := r.Read()
		if err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := r.FieldPos(0)
		pos := Pos{File: name, Line: line}
		q := quoter.Quote{
			Text:   get(row, "text"),
			Author: get(row, "author"),
			Source: get(row, "source"),
			Lang:   get(row, "lang"),
			Tags:   splitTags(get(row, "tags")),
		}
		q.Collection = get(row, "collection")
		for _, p := range [...]struct {
			col string
			dst *quoter.Provenance
		}{{"added_by", &q.AddedBy}, {"edited_by", &q.EditedBy}} {
			if v := strings.TrimSpace(get(row, p.col)); v != "" {
				if err := parseProvenance(v, p.dst); err != nil {
					return nil, errorAt(pos, "%s: %v", p.col, err)
				}
			}
		}
		if y := strings.TrimSpace(get(row, "year")); y != "" {
			if q.Year, err = strconv.Atoi(y); err != nil {
				return nil, errorAt(pos, "year %q is not a number (write -500 for 500 BC)", y)
			}
		}
		if err := finish(&q, pos); err != nil {
			return nil, err
		}
		_, carried := col["added_by"]
		out = append(out, Record{Quote: q, Pos: pos, Provenance: carried,
			AuthorBio: get(row, "author_bio"), AuthorLink: get(row, "author_link")})
	}
}

// splitTags splits a CSV tags field at any of TagSeparators.
func splitTags(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(TagSeparators, r) })
}

// csvError turns an encoding/csv error into one naming the file and line.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errorAt(Pos{File: name, Line: pe.Line}, "%v", pe.Err)
	}
	return errorAt(Pos{File: name}, "%v", err)
}

// isCSVHeader reports whether line reads as a CSV header that ParseCSV
// would accept: at least two columns, one of them the text.
func isCSVHeader(line string) bool {
	fields, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || len(fields) < 2 {
		return false
	}
	for _, f := range fields {
		if csvColumns[strings.ToLower(strings.TrimSpace(f))] == "text" {
			return true
		}
	}
	return false
}
