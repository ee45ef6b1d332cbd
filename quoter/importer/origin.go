package importer

import (
	"path/filepath"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// Origin says where imported quotes go and who imports them: what
// `quotesd import` and an admin's upload both give the records of a file
// before quoter.Quoter.Import stores them, so that both put the same quotes
// in the same collections with the same provenance.
type Origin struct {
	// By is who imports and how (Via: quoter.ViaImport); each quote's
	// AddedBy is By with the file and line of its record, unless the
	// record carries its own (Record.Provenance: an export's).
	By quoter.Provenance
	// Collection, when set, is every quote's collection. Otherwise a
	// record's own collection is kept, and a fortune file's records go to
	// the collection named after the file (CollectionOf); the others are
	// left to the store (quoter.DefaultCollection).
	Collection string
}

// Quotes returns the quotes of rs, parsed from the file name in format f
// (the format Parse used: Guess's answer when it was asked for none),
// ready for Import. name "-" is stdin.
func (o Origin) Quotes(name string, f Format, rs []Record) []quoter.Quote {
	file := filepath.Base(name)
	if name == "-" {
		file = "stdin"
	}
	qs := make([]quoter.Quote, 0, len(rs))
	for _, r := range rs {
		q := r.Quote
		switch {
		case o.Collection != "":
			q.Collection = o.Collection
		case q.Collection == "" && f == Fortune:
			q.Collection = CollectionOf(name)
		}
		if !r.Provenance {
			q.AddedBy = o.By
			q.AddedBy.File, q.AddedBy.Line = file, r.Pos.Line
		}
		qs = append(qs, q)
	}
	return qs
}

// CollectionOf is the collection a fortune file's quotes go to: the file's
// base name without its extension, in the syntax of collection names
// ("Literature.u8" is literature, "Famous Quotes" famous-quotes), or
// quoter.DefaultCollection when nothing is left of it (stdin, "-").
func CollectionOf(name string) string {
	if name == "-" {
		return quoter.DefaultCollection
	}
	base := filepath.Base(name)
	base = strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
	var b strings.Builder
	dash := false
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	s := b.String()
	if len(s) > quoter.MaxCollectionLen {
		s = strings.TrimRight(s[:quoter.MaxCollectionLen], "-")
	}
	if s == "" {
		return quoter.DefaultCollection
	}
	return s
}
