package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/munnerz/goautoneg"
)

// format is a representation of a quote resource.
type format int

const (
	formatText format = iota // the quote as fortune(6) and telnet print it
	formatHTML
	formatJSON
)

// mediaTypes maps the media types we serve to our formats, in order of
// preference among equally acceptable ones: "*/*" alone (curl, wget) means
// text, as on the QOTD port, so `curl host:8080` prints a quote. Only types
// we label responses with are listed: a client accepting just
// application/xhtml+xml or application/* must not get text/html.
var mediaTypes = []struct {
	typ, sub string
	f        format
}{
	{"text", "plain", formatText},
	{"text", "html", formatHTML},
	{"application", "json", formatJSON},
}

// negotiate picks the representation for r: ?format= wins, then the Accept
// header. Accept is parsed by goautoneg (q-values, wildcards) rather than
// matched as a string, so "text/html;q=0.1, application/json" gets JSON.
// A missing Accept header means "anything", which is text. Errors: a bad
// ?format= value.
//
// goautoneg has had no release since 2019 and is kept on purpose: the
// Prometheus client's expfmt negotiates /metrics with it, so it stays in
// the build whatever this file uses, and we take only its parser (the
// choice below is ours). The alternatives looked at in December 2026 were
// no better kept (elnormous/contenttype: last release February 2023) or
// not to be had through the module proxy (timewasted/go-accept-headers).
func negotiate(r *http.Request) (format, error) {
	if v, ok := r.URL.Query()["format"]; ok {
		switch v[0] {
		case "text", "txt", "plain":
			return formatText, nil
		case "json":
			return formatJSON, nil
		case "html":
			return formatHTML, nil
		}
		return formatHTML, badParam("format", "invalid format %q: want text, json or html", v[0])
	}
	return negotiateAccept(r), nil
}

// negotiateAccept picks the representation from the Accept header alone:
// the one of highest quality, each type's quality being that of the most
// specific range matching it (RFC 9110 §12.5.1), so "text/plain;q=0.5,
// */*;q=0.9" prefers HTML to text and "text/plain;q=0, */*" never gives
// text. Media types are case-insensitive, so the header is lowercased
// before goautoneg, which compares them as given, parses it.
func negotiateAccept(r *http.Request) format {
	if unfurled(r) {
		return formatHTML // a link unfurler: it reads the page's meta (meta.go)
	}
	accept := accepted(r)
	if accept == "" { // absent, or blank: "anything"
		return formatText
	}
	clauses := goautoneg.ParseAccept(strings.ToLower(accept))
	// Nothing we have acceptable falls back to HTML: friendlier than a
	// 406 (RFC 9110 allows either), and browsers are the clients most
	// likely to send odd Accept headers.
	best, bestQ := formatHTML, 0.0
	for _, m := range mediaTypes {
		if q := quality(clauses, m.typ, m.sub); q > bestQ {
			best, bestQ = m.f, q
		}
	}
	return best
}

// accepted is r's Accept: its field lines joined with commas, as RFC 9110
// (section 5.3) reads a field sent on several lines, and trimmed; "" when
// there is none.
func accepted(r *http.Request) string {
	switch a := r.Header["Accept"]; len(a) {
	case 0:
		return ""
	case 1:
		return strings.TrimSpace(a[0])
	default:
		return strings.TrimSpace(strings.Join(a, ", "))
	}
}

// quality is the q-value clauses give the media type typ/sub: that of the
// most specific range matching it (type/sub, then type/*, then */*), the
// highest one if a client repeats a range; 0 when none matches.
func quality(clauses []goautoneg.Accept, typ, sub string) float64 {
	q, specific := 0.0, -1
	for _, c := range clauses {
		s := -1
		switch {
		case c.Type == typ && c.SubType == sub:
			s = 2
		case c.Type == typ && c.SubType == "*":
			s = 1
		case c.Type == "*" && c.SubType == "*":
			s = 0
		}
		if s > specific || (s == specific && s >= 0 && c.Q > q) {
			q, specific = c.Q, s
		}
	}
	return q
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here (an unmarshalable type).
		http.Error(w, `{"statusCode":500,"statusMessage":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
