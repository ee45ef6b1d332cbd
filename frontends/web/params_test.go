package web_test

import (
	"net/http"
	"testing"
)

// Invalid UTF-8 in a query parameter is a 400 naming it, on every route
// that takes the parameter (SECURITY.md), not a search for text that no
// quote can contain.
func TestAPI_InvalidUTF8ParameterIs400(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ target, param string }{
		{"/api/v1/quotes?tag=%80", "tag"},
		{"/api/v1/quotes?author=%ff", "author"},
		{"/api/v1/quotes?lang=%c3", "lang"},
		{"/api/v1/quotes?sort=%c3%28", "sort"},
		{"/api/v1/random?tag=%80", "tag"},
		{"/api/v1/random?author=%ed%a0%80", "author"}, // an encoded surrogate
		{"/api/v1/random?lang=%c0%af", "lang"},        // an overlong encoding
		{"/api/v1/search?q=%ff%fe", "q"},
		{"/api/v1/today?date=%ff", "date"},
		{"/api/v1/authors?page=%ff", "page"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			wantAPIError(t, e.get(tc.target), http.StatusBadRequest, tc.param)
		})
	}
}

// Pages validate the parameters they read in the same place: a browser
// gets a 400 page naming the parameter.
func TestPages_InvalidUTF8ParameterIs400(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/random?tag=%80", "/random?author=%ff", "/search?q=%c3", "/authors?page=%ff", "/?format=%ff"} {
		w := e.get(target, "Accept", browserAccept)
		want(t, w, http.StatusBadRequest)
	}
}

// An API route refuses a parameter it does not take, naming it, rather
// than answer another question than the one asked (?tags= for ?tag=, a
// parameter of another route); and a parameter given twice, and a pair
// Go's parser would drop in silence.
func TestAPI_UnknownParameterIs400(t *testing.T) {
	e := newEnv(t, withToken)
	for _, tc := range []struct{ method, target, param string }{
		{"GET", "/api/v1/today?foo=1", "foo"},
		{"GET", "/api/v1/today?tags=poetry", "tags"},
		{"GET", "/api/v1/today?format=json", "format"},
		{"GET", "/api/v1/quotes?tags=poetry", "tags"},
		{"GET", "/api/v1/quotes?Limit=5", "Limit"},
		{"GET", "/api/v1/quotes?q=life", "q"},
		{"GET", "/api/v1/quotes/1?verbose", "verbose"},
		{"GET", "/api/v1/random?page=2", "page"},
		{"GET", "/api/v1/search?q=life&sort=author", "sort"},
		{"GET", "/api/v1/authors?sort=name", "sort"},
		{"GET", "/api/v1/tags?page=2", "page"},
		{"GET", "/api/v1/quotes?%ff=1", `"\xff"`},
		{"GET", "/api/v1/quotes?tag=a&tag=b", "tag"},
		{"GET", "/api/v1/quotes?limit=%zz", "limit"},
		{"GET", "/api/v1/quotes?page=1;limit=2", "page"},
		{"POST", "/api/v1/quotes?dryRun=1", "dryRun"},
		{"DELETE", "/api/v1/quotes/1?force=1", "force"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			wantAPIError(t, e.do(tc.method, tc.target, nil, bearer...), http.StatusBadRequest, tc.param)
		})
	}
	// Without the admin API its routes do not exist, whatever the query.
	if w := newEnv(t).do("POST", "/api/v1/quotes?dryRun=1", nil); w.Code != http.StatusNotFound {
		t.Errorf("POST with a query and no admin API: %d, want 404", w.Code)
	}
}

// Pages stay forgiving: links shared with tracking parameters, or an old
// bookmark with a parameter the page no longer reads, still show the page.
func TestPages_UnknownParametersAreIgnored(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{
		"/?utm_source=newsletter&utm_medium=email", "/random?fbclid=abc", "/tags?sort=name",
		"/authors?utm_campaign=%ff", "/feed.atom?utm_source=reader", "/search?q=life&x=1",
	} {
		w := e.get(target, "Accept", browserAccept)
		want(t, w, http.StatusOK)
	}
}

// Declared parameters still work, through the check.
func TestAPI_DeclaredParametersPassTheCheck(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{
		"/api/v1/today?date=2026-01-01", "/api/v1/random?tag=poetry&limit=2", "/api/v1/quotes?tag=poetry&page=1&limit=5&sort=author&order=desc",
		"/api/v1/search?q=life&page=1&limit=3", "/api/v1/authors?page=1&limit=2", "/api/v1/quotes?author=William+Shakespeare",
		"/api/v1/quotes?tag=",
	} {
		want(t, e.get(target), http.StatusOK)
	}
}
