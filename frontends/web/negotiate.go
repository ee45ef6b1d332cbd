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

// mediaTypes maps the media types a client may ask for to our formats, in
// order of preference for a wildcard: "*/*" alone (curl, wget) means text,
// as on the QOTD port, so `curl host:8080` prints a quote.
var mediaTypes = []struct {
	typ string
	f   format
}{
	{"text/plain", formatText},
	{"text/html", formatHTML},
	{"application/xhtml+xml", formatHTML},
	{"application/json", formatJSON},
}

// negotiate picks the representation for r: ?format= wins, then the Accept
// header. Accept is parsed by goautoneg (q-values, wildcards, ordering by
// specificity) rather than matched as a string, so "text/html;q=0.1,
// application/json" gets JSON. A missing Accept header means "anything",
// which is text. Errors: a bad ?format= value.
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

// negotiateAccept picks the representation from the Accept header alone.
func negotiateAccept(r *http.Request) format {
	accept := strings.TrimSpace(r.Header.Get("Accept"))
	if accept == "" { // absent, or blank: "anything"
		return formatText
	}
	clauses := goautoneg.ParseAccept(accept)
	// "q=0" means "not this": such types are never chosen, even through a
	// wildcard elsewhere in the header.
	excluded := func(typ string) bool {
		for _, c := range clauses {
			if c.Q <= 0 && c.Type != "*" && c.SubType != "*" && match(c, typ) {
				return true
			}
		}
		return false
	}
	for _, clause := range clauses {
		if clause.Q <= 0 {
			continue
		}
		for _, m := range mediaTypes {
			if match(clause, m.typ) && !excluded(m.typ) {
				return m.f
			}
		}
	}
	// Nothing we have is acceptable. Serving HTML anyway is friendlier than
	// a 406 (RFC 9110 allows either), and browsers are the clients most
	// likely to send odd Accept headers.
	return formatHTML
}

func match(c goautoneg.Accept, typ string) bool {
	if c.Type == "*" {
		return true
	}
	t, sub, _ := strings.Cut(typ, "/")
	return c.Type == t && (c.SubType == "*" || c.SubType == sub)
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
