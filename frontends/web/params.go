package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// routeParams declares, for every route, the query parameters its handler
// reads, keyed by method and chi pattern. It is the one place that says
// what a route takes: checkQuery enforces it before any handler runs, the
// OpenAPI description must list the same names (a test compares them), and
// giving a route a new parameter is one line here plus its reading in the
// handler. Registering a route missing from the table panics at New.
//
// HEAD requests take GET's entry (chi's GetHead routes them to GET).
var routeParams = map[string][]string{
	// Pages and the feed: forgiving, see checkQuery.
	"GET /":                 {"format", "tag", "lang", "collection"},
	"GET /random":           {"format", "tag", "author", "lang", "minLength", "maxLength", "collection"},
	"GET /quotes/{id}":      {"format"},
	"GET /day/{date}":       {"format", "tag", "lang", "collection"},
	"GET /search":           {"q", "page", "collection"},
	"GET /authors":          {"page"},
	"GET /tags":             nil,
	"GET /feed.atom":        {"tag", "lang", "collection"},
	"GET /static/*":         {"v"},
	"GET /favicon.ico":      nil,
	"GET /robots.txt":       nil,
	"GET /api/openapi.json": nil,

	// Quote cards and oEmbed (card.go, oembed.go): forgiving, as pages.
	"GET /today.png":       {"theme", "width", "tag", "lang", "collection"},
	"GET /today.svg":       {"theme", "width", "tag", "lang", "collection"},
	"GET /day/{date}.png":  {"theme", "width", "tag", "lang", "collection"},
	"GET /day/{date}.svg":  {"theme", "width", "tag", "lang", "collection"},
	"GET /quotes/{id}.png": {"theme", "width"},
	"GET /quotes/{id}.svg": {"theme", "width"},
	"GET /oembed":          {"url", "format", "maxwidth", "maxheight"},

	// The API: strict.
	"GET /api/v1/today":          {"date", "tag", "lang", "collection"},
	"GET /api/v1/random":         {"tag", "author", "lang", "minLength", "maxLength", "limit", "collection"},
	"GET /api/v1/quotes":         {"tag", "author", "lang", "minLength", "maxLength", "page", "limit", "sort", "order", "collection"},
	"GET /api/v1/quotes/{id}":    nil,
	"GET /api/v1/search":         {"q", "page", "limit", "collection"},
	"GET /api/v1/authors":        {"page", "limit"},
	"GET /api/v1/tags":           nil,
	"POST /api/v1/quotes":        nil,
	"PUT /api/v1/quotes/{id}":    nil,
	"PATCH /api/v1/quotes/{id}":  nil,
	"DELETE /api/v1/quotes/{id}": {"purge"},
	"GET /api/v1/days":           {"from"},
	"PUT /api/v1/days/{date}":    nil,
	"DELETE /api/v1/days/{date}": nil,

	"GET /api/v1/collections":               nil,
	"PUT /api/v1/collections/{name}":        nil,
	"GET /api/v1/submissions":               {"status", "page", "limit"},
	"GET /api/v1/submissions/{id}":          nil,
	"POST /api/v1/submissions/{id}/approve": nil,
	"POST /api/v1/submissions/{id}/reject":  nil,

	// Public submissions (--web-submissions) and /admin (--web-admin):
	// pages, forgiving.
	"GET /submit":                          nil,
	"POST /submit":                         nil,
	"GET /quotes/{id}/correct":             nil,
	"POST /quotes/{id}/correct":            nil,
	"GET /admin/signin":                    {"done"},
	"POST /admin/signin":                   nil,
	"POST /admin/signout":                  nil,
	"GET /admin":                           {"page", "done"},
	"GET /admin/submissions/{id}":          nil,
	"POST /admin/submissions/{id}/approve": nil,
	"POST /admin/submissions/{id}/reject":  nil,
	"GET /admin/quotes":                    {"q", "collection", "page", "done"},
	"GET /admin/quotes/{id}":               {"done"},
	"POST /admin/quotes/{id}":              nil,
	"POST /admin/quotes/{id}/delete":       nil,
	"POST /admin/quotes/{id}/pin":          nil,
	"POST /admin/quotes/{id}/unpin":        nil,
	"GET /admin/import":                    nil,
	"POST /admin/import":                   nil,
	"GET /admin/collections":               {"done"},
	"POST /admin/collections":              nil,

	// Mail subscriptions (when the mail frontend has them): pages,
	// forgiving.
	"GET /subscriptions/confirm":      {"token"},
	"GET /subscriptions/unsubscribe":  {"token"},
	"POST /subscriptions/unsubscribe": {"token"},
	"GET /subscribe":                  nil,
	"POST /subscribe":                 nil,
}

// strictPrefix marks the routes whose queries are checked strictly.
const strictPrefix = "/api/v1/"

// checkQuery wraps the handler of method and pattern with the check of its
// query against routeParams, the one place where query parameters are
// validated before the handlers read them:
//
//   - every parameter the route declares must be valid UTF-8 once decoded
//     (SECURITY.md: such input gets a 4xx), else 400 naming it; handlers
//     can then pass text parameters to the library as they are;
//   - under /api/v1/ (strict), a parameter the route does not declare, one
//     given twice, or a malformed pair (a bad %-escape, or a ';', which Go
//     drops rather than take as a separator) is a 400 that names it: a
//     client's typo (?tags=, ?Limit=) must not silently get an answer to
//     another question than the one asked;
//   - pages, the feed and the static files (browsers, links shared with
//     utm_ parameters, caches adding ?v=) ignore what they do not declare,
//     as they always did; what they ignore is never read.
//
// A request without a query, the hot path, costs one comparison.
func (h *Handler) checkQuery(method, pattern string, next http.HandlerFunc) http.HandlerFunc {
	names, ok := routeParams[method+" "+pattern]
	if !ok {
		panic("web: route " + method + " " + pattern + " has no entry in routeParams")
	}
	allowed := make(map[string]bool, len(names))
	for _, n := range names {
		allowed[n] = true
	}
	strict := strings.HasPrefix(pattern, strictPrefix)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if err := queryError(r.URL.RawQuery, pattern, names, allowed, strict); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		next(w, r)
	}
}

// queryError checks a raw query as checkQuery says and returns the first
// problem as a parameter error. It splits the query itself, as
// url.ParseQuery does, to see the pairs that ParseQuery drops in silence.
func queryError(raw, pattern string, names []string, allowed map[string]bool, strict bool) error {
	var seen map[string]bool
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(rawKey)
		value, verr := url.QueryUnescape(rawValue)
		switch {
		case strings.Contains(pair, ";") || kerr != nil || verr != nil:
			if strict {
				return badParam(printable(rawKey), "malformed query parameter %s: escape %% as %%25 and ; as %%3B, and separate parameters with &", quoted(pair))
			}
			continue
		case !allowed[key]:
			if strict {
				return unknownParam(key, pattern, names)
			}
			continue
		case !utf8.ValidString(value):
			return badParam(key, "invalid %s: not valid UTF-8 (percent-encode the UTF-8 bytes of the text)", key)
		}
		if strict {
			if seen[key] {
				return badParam(key, "%s is given more than once: give it once", key)
			}
			if seen == nil {
				seen = make(map[string]bool, 4)
			}
			seen[key] = true
		}
	}
	return nil
}

// unknownParam is the error for a parameter that pattern does not take.
func unknownParam(key, pattern string, names []string) error {
	takes := "takes no query parameters"
	if len(names) > 0 {
		takes = "takes " + strings.Join(names, ", ")
	}
	return badParam(printable(key), "unknown parameter %s: %s %s", quoted(key), pattern, takes)
}

// quoted is s in double quotes, cut to 64 bytes, with invalid UTF-8 and
// control characters escaped, so that a message can show what a client
// sent.
func quoted(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}

// printable is s as the "parameter" field of an error: as sent when it is
// short, valid UTF-8 with nothing to escape, else its quoted form (which
// the message then contains).
func printable(s string) string {
	if q := quoted(s); q == `"`+s+`"` {
		return s
	}
	return quoted(s)
}
