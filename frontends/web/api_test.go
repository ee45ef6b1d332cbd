package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

func TestAPIToday_ReturnsTheQuoteOfTheDay(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	w := e.get("/api/v1/today")
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Content-Type", "application/json; charset=utf-8")
	wantHeader(t, w, "Access-Control-Allow-Origin", "*")
	got := decode[apiQuote](t, w)
	if got.ID != q.ID || got.Text != q.Text || got.Author != q.Author || got.Date != "2026-03-14" ||
		got.Length != q.Len() || got.Permalink != "/quotes/"+strconv.FormatInt(q.ID, 10) {
		t.Errorf("today = %+v, want quote %d (%q) dated 2026-03-14", got, q.ID, q.Text)
	}
	if w.Header().Get("Vary") != "" {
		t.Errorf("the API does not negotiate, yet Vary = %q", w.Header().Get("Vary"))
	}
}

func TestAPIToday_PastDate(t *testing.T) {
	e := newEnv(t)
	day := today.AddDays(-100)
	q := e.todays(day)
	w := e.get("/api/v1/today?date=" + day.String())
	want(t, w, http.StatusOK)
	got := decode[apiQuote](t, w)
	if got.ID != q.ID || got.Date != day.String() {
		t.Errorf("today?date=%s = quote %d dated %s, want %d", day, got.ID, got.Date, q.ID)
	}
	// Not immutable: the day keeps its quote, but the quote may be edited.
	wantHeader(t, w, "Cache-Control", "public, max-age=86400")
	same := e.get("/api/v1/today?date=2026-03-14")
	if same.Body.String() != e.get("/api/v1/today").Body.String() {
		t.Error("today?date=<today> differs from today")
	}
}

func TestAPIToday_BadAndFutureDates(t *testing.T) {
	e := newEnv(t)
	wantAPIError(t, e.get("/api/v1/today?date=2026-02-30"), http.StatusBadRequest, "date")
	wantAPIError(t, e.get("/api/v1/today?date=tomorrow"), http.StatusBadRequest, "date")
	wantAPIError(t, e.get("/api/v1/today?date=2026-03-15"), http.StatusNotFound, "")
}

func TestAPIRandom_OneQuote(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/random?author=william%20shakespeare")
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Cache-Control", "no-store")
	if q := decode[apiQuote](t, w); q.Author != "William Shakespeare" {
		t.Errorf("author filter ignored: got %q", q.Author)
	}
}

func TestAPIRandom_LimitGivesDistinctQuotes(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/random?limit=10")
	want(t, w, http.StatusOK)
	qs := decode[[]apiQuote](t, w)
	if len(qs) != 10 {
		t.Fatalf("got %d quotes, want 10", len(qs))
	}
	seen := map[int64]bool{}
	for _, q := range qs {
		if seen[q.ID] {
			t.Errorf("quote %d twice", q.ID)
		}
		seen[q.ID] = true
	}
	// Fewer matches than the limit: all of them, once each.
	w = e.get("/api/v1/random?limit=50&author=Henry%20David%20Thoreau")
	want(t, w, http.StatusOK)
	qs = decode[[]apiQuote](t, w)
	_, total, _ := e.lib.List(t.Context(), quoter.Filter{Author: "Henry David Thoreau"}, quoter.Page{})
	if len(qs) != total {
		t.Errorf("got %d of Thoreau's %d quotes", len(qs), total)
	}
}

func TestAPIRandom_LengthFilters(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/random?limit=50&maxLength=80")
	want(t, w, http.StatusOK)
	for _, q := range decode[[]apiQuote](t, w) {
		if q.Length > 80 {
			t.Errorf("quote %d is %d bytes, over maxLength=80", q.ID, q.Length)
		}
	}
	w = e.get("/api/v1/random?minLength=1000")
	want(t, w, http.StatusOK)
	if q := decode[apiQuote](t, w); q.Length < 1000 {
		t.Errorf("quote %d is %d bytes, under minLength=1000", q.ID, q.Length)
	}
}

func TestAPIRandom_BadParameters(t *testing.T) {
	e := newEnv(t)
	for target, param := range map[string]string{
		"/api/v1/random?limit=51":                   "limit",
		"/api/v1/random?limit=0":                    "limit",
		"/api/v1/random?limit=x":                    "limit",
		"/api/v1/random?minLength=-1":               "minLength",
		"/api/v1/random?maxLength=ten":              "maxLength",
		"/api/v1/random?minLength=100&maxLength=10": "maxLength",
		"/api/v1/quotes?limit=101":                  "limit",
		"/api/v1/quotes?page=0":                     "page",
		"/api/v1/quotes?sort=text":                  "sort",
		"/api/v1/quotes?order=up":                   "order",
		"/api/v1/search":                            "q",
		"/api/v1/search?q=%20":                      "q",
		"/api/v1/authors?limit=1000":                "limit",
		"/api/v1/quotes/abc":                        "id",
		"/api/v1/quotes/0":                          "id",
	} {
		t.Run(target, func(t *testing.T) {
			wantAPIError(t, e.get(target), http.StatusBadRequest, param)
		})
	}
}

func TestAPIRandom_NothingMatchesIs404(t *testing.T) {
	e := newEnv(t)
	wantAPIError(t, e.get("/api/v1/random?tag=no-such-tag"), http.StatusNotFound, "")
}

func TestAPIQuotes_PagesLikeQuotable(t *testing.T) {
	e := newEnv(t)
	_, total, err := e.lib.List(t.Context(), quoter.Filter{}, quoter.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := e.get("/api/v1/quotes?limit=7&page=2")
	want(t, w, http.StatusOK)
	l := decode[apiList[apiQuote]](t, w)
	pages := (total + 6) / 7
	if l.Count != 7 || l.TotalCount != total || l.Page != 2 || l.TotalPages != pages || l.LastItemIndex == nil || *l.LastItemIndex != 14 {
		t.Errorf("envelope = count %d total %d page %d pages %d last %v; want 7 %d 2 %d 14",
			l.Count, l.TotalCount, l.Page, l.TotalPages, l.LastItemIndex, total, pages)
	}
	for i := 1; i < len(l.Results); i++ {
		if l.Results[i-1].ID >= l.Results[i].ID {
			t.Errorf("default order is not by id: %d before %d", l.Results[i-1].ID, l.Results[i].ID)
		}
	}
	last := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes?limit=7&page="+strconv.Itoa(pages)))
	if last.LastItemIndex != nil || last.Count != total-(pages-1)*7 {
		t.Errorf("last page: count %d, lastItemIndex %v; want %d and null", last.Count, last.LastItemIndex, total-(pages-1)*7)
	}
	beyond := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes?page=999"))
	if beyond.Count != 0 || beyond.Results == nil {
		t.Errorf("beyond the last page: %+v, want an empty results array", beyond)
	}
}

func TestAPIQuotes_SortsAndFilters(t *testing.T) {
	e := newEnv(t)
	l := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes?sort=length&order=desc&limit=100"))
	for i := 1; i < len(l.Results); i++ {
		if l.Results[i-1].Length < l.Results[i].Length {
			t.Fatalf("sort=length&order=desc: %d bytes before %d", l.Results[i-1].Length, l.Results[i].Length)
		}
	}
	l = decode[apiList[apiQuote]](t, e.get("/api/v1/quotes?tag=poetry"))
	if l.TotalCount == 0 {
		t.Fatal("no poetry")
	}
	for _, q := range l.Results {
		if !contains(q.Tags, "poetry") {
			t.Errorf("quote %d in tag=poetry has tags %v", q.ID, q.Tags)
		}
	}
}

func TestAPIQuote_ByID(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	w := e.get("/api/v1/quotes/" + strconv.FormatInt(q.ID, 10))
	want(t, w, http.StatusOK)
	if got := decode[apiQuote](t, w); got.ID != q.ID || got.Text != q.Text || got.Date != "" {
		t.Errorf("got %+v, want quote %d without a date", got, q.ID)
	}
	etag := w.Header().Get("ETag")
	want(t, e.get("/api/v1/quotes/"+strconv.FormatInt(q.ID, 10), "If-None-Match", etag), http.StatusNotModified)
	wantAPIError(t, e.get("/api/v1/quotes/999999"), http.StatusNotFound, "")
}

func TestAPISearch_FindsAndPages(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/search?q=simplify")
	want(t, w, http.StatusOK)
	l := decode[apiList[apiQuote]](t, w)
	if l.TotalCount < 1 || !strings.Contains(l.Results[0].Text, "Simplify") {
		t.Errorf("search simplify = %+v", l)
	}
	l = decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=the&limit=2&page=2"))
	if l.Page != 2 || l.Count != 2 || l.TotalCount < 5 {
		t.Errorf("paged search = page %d count %d total %d", l.Page, l.Count, l.TotalCount)
	}
}

func TestAPIAuthorsAndTags_CountQuotes(t *testing.T) {
	e := newEnv(t)
	type count struct {
		Name       string `json:"name"`
		QuoteCount int    `json:"quoteCount"`
	}
	authors := decode[apiList[count]](t, e.get("/api/v1/authors?limit=100"))
	if authors.TotalCount == 0 || authors.Results[0].QuoteCount < authors.Results[len(authors.Results)-1].QuoteCount {
		t.Errorf("authors not most quoted first: %+v", authors)
	}
	tags := decode[[]count](t, e.get("/api/v1/tags"))
	found := false
	for _, c := range tags {
		found = found || c.Name == "poetry" && c.QuoteCount > 1
	}
	if !found {
		t.Errorf("tags lack poetry with its count: %+v", tags)
	}
}

func TestAPI_UnknownRouteIsJSON404(t *testing.T) {
	e := newEnv(t)
	wantAPIError(t, e.get("/api/v1/nope", "Accept", browserAccept), http.StatusNotFound, "")
	wantAPIError(t, e.get("/api/v2/today"), http.StatusNotFound, "")
}

func TestAPI_CORSIsOpenForReading(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/random", "Origin", "https://elsewhere.example")
	wantHeader(t, w, "Access-Control-Allow-Origin", "*")
	// Browsers read Expose-Headers on the response itself, never on the
	// preflight: without it a page elsewhere cannot see the ETag to
	// revalidate with, nor Retry-After on a 429.
	w = e.get("/api/v1/today", "Origin", "https://elsewhere.example")
	wantHeader(t, w, "Access-Control-Expose-Headers", "ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy")
	w = e.do(http.MethodOptions, "/api/v1/quotes", nil,
		"Origin", "https://elsewhere.example", "Access-Control-Request-Method", "GET")
	want(t, w, http.StatusNoContent)
	wantHeader(t, w, "Access-Control-Allow-Origin", "*")
	wantHeader(t, w, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	if w.Header().Get("Access-Control-Max-Age") == "" {
		t.Error("preflight has no Max-Age")
	}
	if strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Error("preflight allows Authorization: the admin API must not be usable cross-origin")
	}
}

func TestOpenAPI_IsServed(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/openapi.json")
	want(t, w, http.StatusOK)
	doc := decode[map[string]any](t, w)
	if !strings.HasPrefix(doc["openapi"].(string), "3.") {
		t.Errorf("openapi = %v", doc["openapi"])
	}
}
