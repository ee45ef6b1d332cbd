package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter/quotertest"
)

// The client below is written against quotable's documentation
// (lukePeavey/quotable, README: "API Reference"): its types are the
// response shapes it documents, field for field, and every response is
// decoded with DisallowUnknownFields and checked for missing fields, so a
// field too many or too few on either side fails.

type qQuote struct {
	ID           string   `json:"_id"`
	Content      string   `json:"content"`
	Author       string   `json:"author"`
	AuthorSlug   string   `json:"authorSlug"`
	Tags         []string `json:"tags"`
	Length       int      `json:"length"`
	DateAdded    string   `json:"dateAdded"`
	DateModified string   `json:"dateModified"`
}

type qAuthor struct {
	ID          string `json:"_id"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Bio         string `json:"bio"`
	Description string `json:"description"`
	Link        string `json:"link"`
	QuoteCount  int    `json:"quoteCount"`
}

type qTag struct {
	ID         string `json:"_id"`
	Name       string `json:"name"`
	Slug       string `json:"slug"`
	QuoteCount int    `json:"quoteCount"`
}

type qList[T any] struct {
	Count         int  `json:"count"`
	TotalCount    int  `json:"totalCount"`
	Page          int  `json:"page"`
	TotalPages    int  `json:"totalPages"`
	LastItemIndex *int `json:"lastItemIndex"`
	Results       []T  `json:"results"`
}

type qError struct {
	StatusCode    int    `json:"statusCode"`
	StatusMessage string `json:"statusMessage"`
}

// quotable is a client of a quotable API at base.
type quotable struct {
	t    *testing.T
	e    *testEnv
	base string
}

// get requests path at the client's base URL and decodes the answer
// strictly into out, after checking the status and that every field of
// out's type was in the answer.
func (c quotable) get(path string, status int, out any) {
	c.t.Helper()
	w := c.e.get(c.base + path)
	if w.Code != status {
		c.t.Fatalf("GET %s: status %d, want %d: %s", path, w.Code, status, truncate(w.Body.String()))
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Fatalf("GET %s: Content-Type %q, want JSON", path, ct)
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		c.t.Fatalf("GET %s: %v in %s", path, err, truncate(w.Body.String()))
	}
	wantKeys(c.t, path, w, out)
}

// wantKeys checks that each JSON object of w has every field its Go type
// declares: DisallowUnknownFields checks the other way.
func wantKeys(t *testing.T, path string, w *httptest.ResponseRecorder, out any) {
	t.Helper()
	var generic any
	_ = json.Unmarshal(w.Body.Bytes(), &generic)
	re, _ := json.Marshal(out)
	var typed any
	_ = json.Unmarshal(re, &typed)
	var walk func(g, ty any, where string)
	walk = func(g, ty any, where string) {
		switch ty := ty.(type) {
		case map[string]any:
			gm, _ := g.(map[string]any)
			for k := range ty {
				if _, ok := gm[k]; !ok {
					t.Errorf("GET %s: %s lacks %q", path, where, k)
				}
			}
			for k, v := range ty {
				walk(gm[k], v, where+"."+k)
			}
		case []any:
			ga, _ := g.([]any)
			for i := range min(len(ga), len(ty)) {
				walk(ga[i], ty[i], where+"[]")
			}
		}
	}
	walk(generic, typed, "response")
}

func newQuotable(t *testing.T) quotable {
	return quotable{t: t, e: newEnv(t), base: "/compat/quotable"}
}

func TestQuotable_RandomQuote(t *testing.T) {
	c := newQuotable(t)
	var q qQuote
	c.get("/random", http.StatusOK, &q)
	if q.ID == "" || q.Content == "" || q.AuthorSlug == "" || q.Length != utf8.RuneCountInString(q.Content) || len(q.DateAdded) != len("2006-01-02") {
		t.Errorf("/random = %+v", q)
	}
	// README: "Get random quote where tags are 'technology' AND 'famous-quotes'" and the OR form.
	c.get("/random?tags=wit,writing", http.StatusOK, &q)
	if !slices.Contains(q.Tags, "wit") || !slices.Contains(q.Tags, "writing") {
		t.Errorf("tags=wit,writing gave %v", q.Tags)
	}
	c.get("/random?tags=hunger|freedom", http.StatusOK, &q)
	if !slices.Contains(q.Tags, "hunger") && !slices.Contains(q.Tags, "freedom") {
		t.Errorf("tags=hunger|freedom gave %v", q.Tags)
	}
	// "Get a random quote with a maximum length of 50 characters."
	c.get("/random?maxLength=50", http.StatusOK, &q)
	if q.Length > 50 {
		t.Errorf("maxLength=50 gave length %d", q.Length)
	}
	c.get("/random?minLength=100&maxLength=140", http.StatusOK, &q)
	if q.Length < 100 || q.Length > 140 {
		t.Errorf("minLength=100&maxLength=140 gave length %d", q.Length)
	}
	// "Get a random quote by one of the given authors" (slugs, OR).
	c.get("/random?author=charles-dickens|oscar-wilde", http.StatusOK, &q)
	if q.AuthorSlug != "charles-dickens" && q.AuthorSlug != "oscar-wilde" {
		t.Errorf("author=charles-dickens|oscar-wilde gave %s", q.AuthorSlug)
	}
	var e qError
	c.get("/random?tags=no-such-tag", http.StatusNotFound, &e)
	if e.StatusCode != 404 || e.StatusMessage == "" {
		t.Errorf("no match: %+v", e)
	}
}

func TestQuotable_RandomQuotes(t *testing.T) {
	c := newQuotable(t)
	var qs []qQuote
	c.get("/quotes/random", http.StatusOK, &qs)
	if len(qs) != 1 {
		t.Errorf("/quotes/random gave %d quotes, want 1 by default", len(qs))
	}
	c.get("/quotes/random?limit=3&tags=wit", http.StatusOK, &qs)
	if len(qs) != 3 || qs[0].ID == qs[1].ID || qs[1].ID == qs[2].ID || qs[0].ID == qs[2].ID {
		t.Errorf("limit=3&tags=wit gave %+v, want 3 distinct", qs)
	}
	for _, q := range qs {
		if !slices.Contains(q.Tags, "wit") {
			t.Errorf("tags=wit gave %v", q.Tags)
		}
	}
	var e qError
	c.get("/quotes/random?limit=51", http.StatusBadRequest, &e)
	c.get("/quotes/random?tags=no-such-tag", http.StatusOK, &qs)
	if len(qs) != 0 {
		t.Errorf("no match gave %d quotes, want []", len(qs))
	}
}

func TestQuotable_ListQuotes(t *testing.T) {
	c := newQuotable(t)
	var l qList[qQuote]
	c.get("/quotes?limit=5&page=2&sortBy=author&order=asc", http.StatusOK, &l)
	if l.Count != 5 || l.Page != 2 || l.TotalPages != (l.TotalCount+4)/5 || l.LastItemIndex == nil || *l.LastItemIndex != 10 {
		t.Errorf("page 2 of 5: %+v", l)
	}
	for i := 1; i < len(l.Results); i++ {
		if strings.ToLower(l.Results[i-1].Author) > strings.ToLower(l.Results[i].Author) {
			t.Errorf("sortBy=author: %q before %q", l.Results[i-1].Author, l.Results[i].Author)
		}
	}
	// README: "Get all quotes by author" by slug, and several with "|".
	c.get("/quotes?author=william-shakespeare", http.StatusOK, &l)
	if l.TotalCount != 3 || l.LastItemIndex != nil {
		t.Errorf("author=william-shakespeare: %+v, want 3 on one page", l)
	}
	c.get("/quotes?author=william-shakespeare|charles-dickens", http.StatusOK, &l)
	if l.TotalCount != 5 {
		t.Errorf("two authors: %d quotes, want 5", l.TotalCount)
	}
	both, either := 0, 0
	for _, q := range quotertest.Sample() {
		if slices.Contains(q.Tags, "life") && slices.Contains(q.Tags, "poetry") {
			both++
		}
		if slices.Contains(q.Tags, "hunger") || slices.Contains(q.Tags, "freedom") {
			either++
		}
	}
	c.get("/quotes?tags=life,poetry", http.StatusOK, &l)
	if l.TotalCount != both {
		t.Errorf("tags=life,poetry: %d quotes, want %d", l.TotalCount, both)
	}
	c.get("/quotes?tags=hunger|freedom", http.StatusOK, &l)
	if l.TotalCount != either {
		t.Errorf("tags=hunger|freedom: %d quotes, want %d", l.TotalCount, either)
	}
	c.get("/quotes?maxLength=30&sortBy=content", http.StatusOK, &l)
	for _, q := range l.Results {
		if q.Length > 30 {
			t.Errorf("maxLength=30 listed %q", q.Content)
		}
	}
	c.get("/quotes?page=1000", http.StatusOK, &l)
	if l.Count != 0 || l.Results == nil {
		t.Errorf("past the end: %+v, want no results, an empty array", l)
	}
	var e qError
	c.get("/quotes?limit=151", http.StatusBadRequest, &e)
	c.get("/quotes?sortBy=colour", http.StatusBadRequest, &e)
	c.get("/quotes?order=sideways", http.StatusBadRequest, &e)
	if e.StatusCode != 400 {
		t.Errorf("error = %+v", e)
	}
}

func TestQuotable_QuoteByID(t *testing.T) {
	c := newQuotable(t)
	var l qList[qQuote]
	c.get("/quotes?limit=1", http.StatusOK, &l)
	var q qQuote
	c.get("/quotes/"+url.PathEscape(l.Results[0].ID), http.StatusOK, &q)
	if q.ID != l.Results[0].ID || q.Content != l.Results[0].Content {
		t.Errorf("quote %s = %+v", l.Results[0].ID, q)
	}
	var e qError
	c.get("/quotes/999999", http.StatusNotFound, &e)
	if e != (qError{404, "The requested resource could not be found"}) {
		t.Errorf("404 = %+v, want quotable's", e)
	}
	c.get("/quotes/not-an-id", http.StatusNotFound, &e)
}

func TestQuotable_SearchQuotes(t *testing.T) {
	c := newQuotable(t)
	var l qList[qQuote]
	c.get("/search/quotes?query=life&limit=2", http.StatusOK, &l)
	if l.Count == 0 || l.TotalCount < l.Count {
		t.Errorf("query=life: %+v", l)
	}
	c.get("/search/quotes?query=stage&fields=content", http.StatusOK, &l)
	if l.TotalCount != 1 || !strings.Contains(l.Results[0].Content, "stage") {
		t.Errorf("query=stage: %+v", l)
	}
	var e qError
	c.get("/search/quotes", http.StatusBadRequest, &e)
	c.get("/search/quotes?query=x&fuzzyMaxEdits=3", http.StatusBadRequest, &e)
}

func TestQuotable_Authors(t *testing.T) {
	c := newQuotable(t)
	if err := c.e.lib.SetAuthor(t.Context(), authorNotes("oscar-wilde", "Irish poet and playwright.", "https://en.wikipedia.org/wiki/Oscar_Wilde")); err != nil {
		t.Fatal(err)
	}
	var l qList[qAuthor]
	c.get("/authors", http.StatusOK, &l)
	for i := 1; i < len(l.Results); i++ {
		if strings.ToLower(l.Results[i-1].Name) > strings.ToLower(l.Results[i].Name) {
			t.Errorf("default sort by name: %q before %q", l.Results[i-1].Name, l.Results[i].Name)
		}
	}
	c.get("/authors?sortBy=quoteCount&order=desc&limit=1", http.StatusOK, &l)
	if l.Count != 1 || l.Results[0].Slug != "william-shakespeare" || l.Results[0].QuoteCount != 3 {
		t.Errorf("most quoted: %+v", l.Results)
	}
	c.get("/authors?slug=oscar-wilde|charles-dickens", http.StatusOK, &l)
	if l.TotalCount != 2 {
		t.Errorf("two slugs: %+v", l)
	}
	var a qAuthor
	c.get("/authors/slug/oscar-wilde", http.StatusOK, &a)
	if a.ID != "oscar-wilde" || a.Name != "Oscar Wilde" || a.Bio != "Irish poet and playwright." || a.Link != "https://en.wikipedia.org/wiki/Oscar_Wilde" || a.QuoteCount != 2 {
		t.Errorf("oscar-wilde = %+v", a)
	}
	var e qError
	c.get("/authors/slug/nobody", http.StatusNotFound, &e)
	c.get("/authors?sortBy=height", http.StatusBadRequest, &e)
}

func TestQuotable_Tags(t *testing.T) {
	c := newQuotable(t)
	var ts []qTag
	c.get("/tags", http.StatusOK, &ts)
	if len(ts) == 0 || !slices.IsSortedFunc(ts, func(a, b qTag) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("/tags = %+v, want sorted by name", ts)
	}
	c.get("/tags?sortBy=quoteCount&order=desc", http.StatusOK, &ts)
	for i := 1; i < len(ts); i++ {
		if ts[i-1].QuoteCount < ts[i].QuoteCount {
			t.Errorf("quoteCount desc: %+v before %+v", ts[i-1], ts[i])
		}
	}
}

// A quotable application only changes its base URL: the API answers
// browsers on other sites as quotable did.
func TestQuotable_OpenToOtherOrigins(t *testing.T) {
	c := newQuotable(t)
	w := c.e.get("/compat/quotable/random", "Origin", "https://app.example")
	wantHeader(t, w, "Access-Control-Allow-Origin", "*")
}
