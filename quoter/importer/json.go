package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// ParseJSON reads a JSON array of quote objects:
//
//	[{"text": "...", "author": "...", "source": "...", "year": 1854,
//	  "tags": ["nature"], "lang": "en"}, ...]
//
// which is also what `quotesd export --format json` writes and what
// library/quotes.json holds, with "collection" (empty or absent: left for the
// caller to choose) and "added_by" and "edited_by" (quoter.Provenance
// objects) when the export carries them. quotable's export works too: "content" is taken
// for "text" and unknown fields (_id, authorSlug, length, ...) are ignored.
// tags may be an array of strings or one string split at TagSeparators;
// year may be a number or a string of digits; null is the same as absent.
//
// Errors: EINVALID naming the file, the record (from 1) and the line where it
// starts: malformed JSON, a field of the wrong type, or a record that fails
// Quote.Validate.
func ParseJSON(name string, data []byte) ([]Record, error) {
	if err := checkText(name, data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, bom)
	lines := lineCounter{data: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, nil // an empty file holds no quotes
	} else if err != nil {
		return nil, jsonError(name, &lines, dec, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errorAt(Pos{File: name, Line: lines.at(dec.InputOffset())}, "want a JSON array of quote objects, [{\"text\": ..., \"author\": ...}, ...]")
	}
	var out []Record
	for n := 1; dec.More(); n++ {
		pos := Pos{File: name, Record: n, Line: lines.at(nextValue(data, dec.InputOffset()))}
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, errorAt(pos, "want an object with text and author")
			}
			return nil, jsonError(name, &lines, dec, n, err)
		}
		if obj == nil {
			return nil, errorAt(pos, "want an object with text and author, not null")
		}
		q, err := jsonQuote(obj)
		if err != nil {
			return nil, errorAt(pos, "%v", err)
		}
		if err := finish(&q, pos); err != nil {
			return nil, err
		}
		raw, carried := obj["added_by"]
		r := Record{Quote: q, Pos: pos, Provenance: carried && string(raw) != "null"}
		for _, f := range [...]struct {
			dst  *string
			keys []string
		}{{&r.AuthorBio, []string{"author_bio", "authorBio"}}, {&r.AuthorLink, []string{"author_link", "authorLink"}}} {
			for _, k := range f.keys {
				if raw, ok := obj[k]; ok && string(raw) != "null" {
					if json.Unmarshal(raw, f.dst) != nil {
						return nil, errorAt(pos, "%s: want a string", k)
					}
					break
				}
			}
		}
		out = append(out, r)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, jsonError(name, &lines, dec, 0, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorAt(Pos{File: name, Line: lines.at(dec.InputOffset())}, "unexpected data after the array")
	}
	return out, nil
}

// jsonQuote picks the known fields out of one record.
func jsonQuote(obj map[string]json.RawMessage) (q quoter.Quote, err error) {
	str := func(keys ...string) (string, error) {
		for _, k := range keys {
			raw, ok := obj[k]
			if !ok || string(raw) == "null" {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", errors.New(k + ": want a string")
			}
			return s, nil
		}
		return "", nil
	}
	if q.Text, err = str("text", "content"); err != nil {
		return q, err
	}
	if q.Author, err = str("author"); err != nil {
		return q, err
	}
	if q.Source, err = str("source"); err != nil {
		return q, err
	}
	if q.Lang, err = str("lang", "language"); err != nil {
		return q, err
	}
	if raw, ok := obj["year"]; ok && string(raw) != "null" {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return q, errors.New("year: want a number")
			}
			n = json.Number(strings.TrimSpace(s))
		}
		y, err := strconv.Atoi(n.String())
		if err != nil && n != "" {
			return q, errors.New("year: want a whole number (-500 for 500 BC)")
		}
		q.Year = y
	}
	if q.Collection, err = str("collection"); err != nil {
		return q, err
	}
	for _, p := range [...]struct {
		key string
		dst *quoter.Provenance
	}{{"added_by", &q.AddedBy}, {"edited_by", &q.EditedBy}} {
		if raw, ok := obj[p.key]; ok && string(raw) != "null" {
			if err := parseProvenance(string(raw), p.dst); err != nil {
				return q, fmt.Errorf("%s: %v", p.key, err)
			}
		}
	}
	if raw, ok := obj["tags"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &q.Tags) != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return q, errors.New("tags: want an array of strings")
			}
			q.Tags = splitTags(s)
		}
	}
	return q, nil
}

// jsonError turns a decoding error into one naming the file, the line and,
// when known, the record.
func jsonError(name string, lines *lineCounter, dec *json.Decoder, record int, err error) error {
	var se *json.SyntaxError
	off := dec.InputOffset()
	if errors.As(err, &se) {
		off = se.Offset
	}
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		msg = "unexpected end of file: the JSON array is not closed"
	}
	return errorAt(Pos{File: name, Line: lines.at(off), Record: record}, "%s", strings.TrimPrefix(msg, "json: "))
}

// nextValue returns the offset of the next value at or after off, past
// white space and a separating comma, so a record's line is where it starts.
func nextValue(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// lineCounter turns byte offsets into line numbers. Offsets mostly grow, so
// it counts on from the last answer instead of from the start each time.
type lineCounter struct {
	data []byte
	off  int64 // counted up to here
	line int   // line number at off, less one
}

func (c *lineCounter) at(off int64) int {
	if off > int64(len(c.data)) {
		off = int64(len(c.data))
	}
	if off < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return c.line + 1
}
