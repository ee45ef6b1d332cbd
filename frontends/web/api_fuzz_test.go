package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// FuzzAPIQuery sends arbitrary query strings and Accept headers through the
// whole handler, over a real library, to the routes that parse them: the
// answer is never a server error, and an API answer is always JSON.
func FuzzAPIQuery(f *testing.F) {
	lib := quotertest.NewLibrary(f)
	h, err := web.New(web.Config{
		Library:     lib,
		Calendar:    &quoter.Calendar{Location: zone, Now: func() time.Time { return now }},
		Log:         slog.New(slog.DiscardHandler),
		NoAccessLog: true,
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		route  uint8
		query  string
		accept string
	}{
		{0, "page=2&limit=10&sort=author&order=desc", ""},
		{0, "page=99999999999999999999", ""},
		{0, "minLength=5&maxLength=1&tag=%00", ""},
		{1, "tag=poetry&limit=3", "application/json"},
		{2, "q=%22unterminated", ""},
		{2, "q=a%27+OR+1%3D1--&page=2", ""},
		{2, "q=NEAR(a+b)+AND+*", ""},
		{3, "date=2026-02-30", ""},
		{3, "date=0000-01-01", ""},
		{4, "format=json", "text/html;q=0"},
		{5, "q=%ff%fe", "*/*"},
		{6, "page=2&sort=length", "text/html"},
	} {
		f.Add(seed.route, seed.query, seed.accept)
	}
	routes := []string{"/api/v1/quotes", "/api/v1/random", "/api/v1/search", "/api/v1/today", "/", "/search", "/random"}
	f.Fuzz(func(t *testing.T, route uint8, query, accept string) {
		path := routes[int(route)%len(routes)]
		u := &url.URL{Path: path, RawQuery: query}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = u
		r.RequestURI = u.RequestURI()
		if accept != "" {
			r.Header["Accept"] = []string{accept}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("GET %s?%s (Accept %q): %d %s", path, query, accept, w.Code, w.Body)
		}
		if strings.HasPrefix(path, "/api/") && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("GET %s?%s: %d with a body that is not JSON: %q", path, query, w.Code, w.Body)
		}
		if w.Code == http.StatusOK && w.Body.Len() == 0 {
			t.Fatalf("GET %s?%s: 200 with an empty body", path, query)
		}
	})
}
