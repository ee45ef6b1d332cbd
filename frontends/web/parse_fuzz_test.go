package web

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

// FuzzNegotiate feeds arbitrary Accept headers and ?format= values to
// content negotiation: it must never panic, must pick one of the three
// representations, must agree with itself, and must turn a bad ?format=
// into a 400 that names the parameter.
func FuzzNegotiate(f *testing.F) {
	for _, seed := range []struct{ accept, format string }{
		{"", ""},
		{"*/*", ""},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ""},
		{"application/json", ""},
		{"text/html;q=0.1, application/json", ""},
		{"text/plain;q=0, */*", ""},
		{"*/*;q=0", ""},
		{";;;,,,q=,/", ""},
		{"text/*;q=nan", ""},
		{"application/json", "html"},
		{"", "xml"},
		{"\xff\xfe", "\x00"},
	} {
		f.Add(seed.accept, seed.format)
	}
	f.Fuzz(func(t *testing.T, accept, format string) {
		r := httptest.NewRequest("GET", "/", nil)
		if format != "" {
			r.URL.RawQuery = "format=" + url.QueryEscape(format)
		}
		r.Header.Set("Accept", accept)
		got, err := negotiate(r)
		if got != formatText && got != formatHTML && got != formatJSON {
			t.Fatalf("negotiate(Accept %q, format %q) = %d: not a representation", accept, format, got)
		}
		if err != nil {
			var pe *paramError
			if !errors.As(err, &pe) || pe.name != "format" {
				t.Fatalf("negotiate(format %q) error %v, want a parameter error naming format", format, err)
			}
		}
		again, err2 := negotiate(r)
		if again != got || (err == nil) != (err2 == nil) {
			t.Fatalf("negotiate is not deterministic: %d/%v then %d/%v", got, err, again, err2)
		}
		if format == "" && strings.TrimSpace(accept) == "" && got != formatText {
			t.Fatalf("no Accept header gave %d, want text", got)
		}
	})
}

// FuzzParseListQuery feeds arbitrary query strings to the parsers of the
// list and filter parameters (?page, ?limit, ?minLength, ?maxLength,
// ?tag...): either a parameter error that names one of them, or values
// within the documented bounds.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"",
		"page=2&limit=10&sort=author",
		"page=0",
		"page=-1&limit=99999999999999999999",
		"limit=abc",
		"minLength=10&maxLength=5",
		"maxLength=1048577",
		"tag=%E2%80%9C&author=%00&lang=%ff",
		"page=1e3",
		"page=+5&limit=%2010",
		"page&limit&minLength",
		"page=1;limit=2",
		"%zz=1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/v1/quotes", nil)
		r.URL.RawQuery = raw
		names := map[string]bool{"page": true, "limit": true, "minLength": true, "maxLength": true}
		check := func(err error) bool {
			t.Helper()
			if err == nil {
				return true
			}
			var pe *paramError
			if !errors.As(err, &pe) || !names[pe.name] {
				t.Fatalf("query %q: error %v, want a parameter error naming the parameter", raw, err)
			}
			return false
		}
		page, limit, err := paging(r)
		if check(err) {
			if page < 1 || page > maxPage || limit < 1 || limit > quoter.MaxLimit {
				t.Fatalf("query %q: page %d limit %d out of bounds", raw, page, limit)
			}
			if off := (page - 1) * limit; off < 0 {
				t.Fatalf("query %q: offset %d overflows", raw, off)
			}
		}
		flt, err := parseFilter(r)
		if check(err) {
			if flt.MinLen < 0 || flt.MaxLen < 0 || (flt.MaxLen > 0 && flt.MinLen > flt.MaxLen) {
				t.Fatalf("query %q: filter %+v out of bounds", raw, flt)
			}
			qs := r.URL.Query()
			if flt.Tag != qs.Get("tag") || flt.Author != qs.Get("author") || flt.Lang != qs.Get("lang") {
				t.Fatalf("query %q: filter %+v does not carry the parameters as given", raw, flt)
			}
		}
	})
}

// FuzzParseID checks the {id} path parameter parser: a positive integer
// or an error, never zero, negative or a silent truncation.
func FuzzParseID(f *testing.F) {
	for _, seed := range []string{"1", "0", "-1", "42abc", "9223372036854775807", "9223372036854775808", "+7", " 7", "007", "", "١٢"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseID(s)
		if err != nil {
			return
		}
		if id <= 0 {
			t.Fatalf("parseID(%q) = %d, want a positive id or an error", s, id)
		}
	})
}
