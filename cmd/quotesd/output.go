package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/quotesd/quotesd/quoter"
)

// jsonQuote is a quote as --json prints it: the fields scripts need, with
// source always present (empty when unknown) and year only when known.
type jsonQuote struct {
	ID     int64    `json:"id"`
	Text   string   `json:"text"`
	Author string   `json:"author"`
	Source string   `json:"source"`
	Year   int      `json:"year,omitempty"`
	Tags   []string `json:"tags"`
	Lang   string   `json:"lang"`
	// Collection is the quote's collection, and AddedBy and EditedBy its
	// provenance: the shell is the library's owner, who may see it all.
	Collection string            `json:"collection,omitempty"`
	AddedBy    quoter.Provenance `json:"added_by,omitzero"`
	EditedBy   quoter.Provenance `json:"edited_by,omitzero"`
	// Removed is set on a past day's quote of the day that has since
	// been deleted from the library (only `today` prints such quotes).
	Removed bool `json:"removed,omitempty"`
}

func toJSON(q *quoter.Quote) jsonQuote {
	tags := q.Tags
	if tags == nil {
		tags = []string{}
	}
	return jsonQuote{q.ID, q.Text, q.Author, q.Source, q.Year, tags, q.Lang, q.Collection, q.AddedBy, q.EditedBy, q.Removed}
}

// marshal encodes v as JSON without escaping <, > and &: quotes are text
// for people and scripts, not HTML, and "\u003cscript\u003e" helps no one.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// removedNote is the line under a quote of the day deleted since its day:
// the day keeps its quote, but the reader should know it is no longer in
// the library (not listed, searched, drawn or scheduled).
const removedNote = "    (removed from the library)"

// printQuote writes q as fortune(6) would (the text, then "    -- Author,
// Source (Year)", then removedNote for a removed quote), or as one JSON
// object on one line.
func printQuote(w io.Writer, q *quoter.Quote, asJSON bool) error {
	if asJSON {
		b, err := marshal(toJSON(q))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	text := q.Render()
	if q.Removed {
		text += "\n" + removedNote
	}
	_, err := fmt.Fprintln(w, text)
	return err
}

// printQuotes writes qs, separated in text by fortune's "%" lines, or as a
// JSON array.
func printQuotes(w io.Writer, qs []*quoter.Quote, asJSON bool) error {
	if asJSON {
		out := make([]jsonQuote, len(qs))
		for i, q := range qs {
			out[i] = toJSON(q)
		}
		b, err := marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for i, q := range qs {
		if i > 0 {
			if _, err := fmt.Fprintln(w, "%"); err != nil {
				return err
			}
		}
		if err := printQuote(w, q, false); err != nil {
			return err
		}
	}
	return nil
}
