package importer_test

import (
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
)

// fuzzParser checks what must hold for any input: no panic, and either an
// EINVALID error that names the file, or records that are valid quotes.
func fuzzParser(f *testing.F, format importer.Format, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := importer.Parse("in", data, format)
		if err != nil {
			if code := quoter.ErrorCode(err); code != quoter.EINVALID {
				t.Fatalf("error code = %q, want %q: %v", code, quoter.EINVALID, err)
			}
			if msg := quoter.ErrorMessage(err); len(msg) < 3 || msg[:3] != "in:" {
				t.Fatalf("error %q does not start with the file name", msg)
			}
			return
		}
		for i, r := range rs {
			q := r.Quote
			if err := q.Validate(); err != nil {
				t.Fatalf("record %d is invalid: %v", i+1, err)
			}
			if r.Pos.File != "in" || r.Pos.Line < 0 {
				t.Fatalf("record %d has position %+v", i+1, r.Pos)
			}
		}
	})
}

func FuzzFortune(f *testing.F) {
	fuzzParser(f, importer.Fortune,
		"Simplify.\n\t-- Thoreau, \"Walden\", 1854\n%\nNext\r\n%\r\n",
		"x\n\t-- A, B\n\t   C\n%\n%\n",
		"*__\b\bUN*lucky\n~ Someone (1999)\n",
	)
}

func FuzzCSV(f *testing.F) {
	fuzzParser(f, importer.CSV,
		"text,author,tags,year\n\"a, b\",A,x;y|z,12\n",
		"\ufeffquote,author\r\nx,y\r\n",
	)
}

func FuzzJSON(f *testing.F) {
	fuzzParser(f, importer.JSON,
		`[{"text":"a","author":"A","tags":["t"],"year":1}]`,
		`[{"content":"a","author":"A","tags":"x;y","year":"-3"},null]`,
	)
}
