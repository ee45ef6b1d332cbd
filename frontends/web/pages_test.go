package web_test

import (
	"html"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

func TestToday_NegotiatesFormat(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	for _, tc := range []struct {
		name, target, accept, wantType string
	}{
		{"CurlGetsText", "/", "*/*", "text/plain"},
		{"NoAcceptGetsText", "/", "", "text/plain"},
		{"BrowserGetsHTML", "/", browserAccept, "text/html"},
		{"JSONClientGetsJSON", "/", "application/json", "application/json"},
		{"QValuesAreHonoured", "/", "text/html;q=0.1, application/json", "application/json"},
		{"ZeroQMeansNo", "/", "text/plain;q=0, */*", "text/html"},
		{"MediaTypesAreCaseInsensitive", "/", "Application/JSON", "application/json"},
		{"MostSpecificRangeSetsTheQuality", "/", "text/plain;q=0.5, */*;q=0.9", "text/html"},
		{"HigherQBeatsAMoreSpecificRange", "/", "text/html;q=0.5, */*", "text/plain"},
		{"ApplicationWildcardGetsJSON", "/", "application/*", "application/json"},
		{"FormatTextOverridesAccept", "/?format=text", browserAccept, "text/plain"},
		{"FormatJSONOverridesAccept", "/?format=json", "*/*", "application/json"},
		{"FormatHTMLOverridesAccept", "/?format=html", "*/*", "text/html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get(tc.target, "Accept", tc.accept)
			want(t, w, http.StatusOK)
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Fatalf("Content-Type = %q, want %s", ct, tc.wantType)
			}
			// The page is long enough to be compressed; the text and JSON
			// of the day are not.
			wantVary := "Accept"
			if tc.wantType == "text/html" {
				wantVary = "Accept, Accept-Encoding"
			}
			wantHeader(t, w, "Vary", wantVary)
			body := w.Body.String()
			switch tc.wantType {
			case "text/plain":
				if want := q.Render() + "\n"; body != want {
					t.Errorf("text body = %q, want %q", body, want)
				}
			case "application/json":
				got := decode[apiQuote](t, w)
				if got.ID != q.ID || got.Text != q.Text || got.Date != today.String() {
					t.Errorf("JSON = %+v, want quote %d of %s", got, q.ID, today)
				}
			case "text/html":
				if !strings.Contains(body, html.EscapeString(q.Author)) {
					t.Errorf("page does not name the author %q", q.Author)
				}
			}
		})
	}
}

func TestToday_BadFormatIs400(t *testing.T) {
	e := newEnv(t)
	w := e.get("/?format=xml", "Accept", "application/json")
	wantAPIError(t, w, http.StatusBadRequest, "format")
}

func TestToday_PageHasEverything(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	w := e.get("/", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	body := w.Body.String()
	for _, s := range []string{
		`<html lang="en">`,
		`<main id="main">`, `<header class="site">`, `<footer class="site">`, `<nav aria-label="Main">`,
		`lang="` + q.Lang + `"`,
		`<time datetime="2026-03-14">Saturday, 14 March 2026</time>`,
		`href="/day/2026-03-13"`, // yesterday
		`href="/random"`,
		`href="/quotes/` + strconv.FormatInt(q.ID, 10) + `"`, // permalink
		`<link rel="stylesheet" href="/static/style.css?v=`,
		html.EscapeString(q.Text),
	} {
		if !strings.Contains(body, s) {
			t.Errorf("today's page lacks %q", s)
		}
	}
	// The one <script> a page may hold is its JSON-LD: a data block,
	// which browsers never run, so the CSP has nothing to forbid.
	scripts := strings.ReplaceAll(body, `<script type="application/ld+json">`, "")
	if strings.Contains(scripts, "<script") || strings.Contains(body, "style=") {
		t.Error("page carries a script or an inline style, which the CSP forbids")
	}
}

func TestToday_CachesUntilRollover(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/", "/day/2026-03-14", "/api/v1/today", "/feed.atom"} {
		t.Run(target, func(t *testing.T) {
			w := e.get(target, "Accept", browserAccept)
			want(t, w, http.StatusOK)
			// 21:30 in zone: 2.5 hours to midnight there.
			wantHeader(t, w, "Cache-Control", "public, max-age=9000")
			etag := w.Header().Get("ETag")
			if !regexp.MustCompile(`^"[A-Za-z0-9_-]+"$`).MatchString(etag) {
				t.Fatalf("ETag = %q, want a strong tag", etag)
			}
			lm, err := http.ParseTime(w.Header().Get("Last-Modified"))
			if err != nil || !lm.Equal(today.Time(zone)) {
				t.Errorf("Last-Modified = %q, want the start of the day in the zone (%v)", w.Header().Get("Last-Modified"), today.Time(zone).UTC())
			}

			w = e.get(target, "Accept", browserAccept, "If-None-Match", etag)
			want(t, w, http.StatusNotModified)
			if w.Body.Len() != 0 {
				t.Errorf("304 has a body of %d bytes", w.Body.Len())
			}
			wantHeader(t, w, "ETag", etag)

			w = e.get(target, "Accept", browserAccept, "If-None-Match", `"other", W/`+etag)
			want(t, w, http.StatusNotModified)

			w = e.get(target, "Accept", browserAccept, "If-Modified-Since", now.UTC().Format(http.TimeFormat))
			want(t, w, http.StatusNotModified)

			w = e.get(target, "Accept", browserAccept, "If-None-Match", `"stale"`)
			want(t, w, http.StatusOK)
		})
	}
}

func TestToday_RollsOverAtMidnightInTheZone(t *testing.T) {
	e := newEnv(t)
	first := e.get("/?format=json")
	e.clock.Set(time.Date(2026, 3, 15, 0, 0, 1, 0, zone))
	second := e.get("/?format=json")
	want(t, second, http.StatusOK)
	if got := decode[apiQuote](t, second).Date; got != "2026-03-15" {
		t.Errorf("after midnight in the zone, date = %s, want 2026-03-15", got)
	}
	if first.Header().Get("ETag") == second.Header().Get("ETag") {
		t.Error("ETag did not change with the day")
	}
	wantHeader(t, second, "Cache-Control", "public, max-age=86399")
}

// An empty library has no quote of the day. (Deleting today's quote no
// longer empties today: the day has begun, and keeps its quote.)
func TestToday_EmptyLibraryIs404(t *testing.T) {
	lib, err := sqlite.Open(filepath.Join(t.TempDir(), "empty.db"), sqlite.Create())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	e := newEnvWith(t, lib)
	w := e.get("/", "Accept", "*/*")
	want(t, w, http.StatusNotFound)
	wantHeader(t, w, "Cache-Control", "no-store")
}

func TestHead_AnswersLikeGetWithoutBody(t *testing.T) {
	e := newEnv(t)
	w := e.do(http.MethodHead, "/", nil, "Accept", "*/*")
	want(t, w, http.StatusOK)
	if w.Body.Len() != 0 {
		t.Errorf("HEAD body has %d bytes", w.Body.Len())
	}
	if w.Header().Get("Content-Length") == "" || w.Header().Get("ETag") == "" {
		t.Error("HEAD lacks Content-Length or ETag")
	}
}

// A past day keeps its quote, but its text may still be corrected: long
// cacheable with a validator, never immutable (see
// TestPastDay_ETagChangesExactlyWithTheContent).
func TestDay_PastDayIsCacheableButNotImmutable(t *testing.T) {
	e := newEnv(t)
	day := today.AddDays(-3)
	q := e.todays(day)
	w := e.get("/day/"+day.String(), "Accept", "*/*")
	want(t, w, http.StatusOK)
	if got, want := w.Body.String(), q.Render()+"\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	wantHeader(t, w, "Cache-Control", "public, max-age=86400")
	wantHeader(t, w, "Vary", "Accept")

	w = e.get("/day/"+day.String(), "Accept", browserAccept)
	want(t, w, http.StatusOK)
	for _, s := range []string{`href="/day/2026-03-10"`, `href="/day/2026-03-12"`, "Next day"} {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("archive page lacks %q", s)
		}
	}
	yesterday := e.get("/day/2026-03-13", "Accept", browserAccept)
	if !strings.Contains(yesterday.Body.String(), `rel="next" href="/"`) {
		t.Error("yesterday's page does not link to today as /")
	}
	// That link is only right until the rollover: tomorrow the page links
	// to the next day's page instead, so it is cached until then only.
	wantHeader(t, yesterday, "Cache-Control", "public, max-age=9000")
	wantHeader(t, e.get("/day/2026-03-13", "Accept", "*/*"), "Cache-Control", "public, max-age=86400")
}

func TestDay_TodayIsServedAsRoot(t *testing.T) {
	e := newEnv(t)
	root := e.get("/", "Accept", "application/json")
	day := e.get("/day/2026-03-14", "Accept", "application/json")
	want(t, day, http.StatusOK)
	if root.Body.String() != day.Body.String() || root.Header().Get("ETag") != day.Header().Get("ETag") {
		t.Error("/day/<today> differs from /")
	}
}

func TestDay_FutureAndImpossibleDatesAreFriendly404s(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"2026-03-15", "2999-01-01", "2026-02-30", "2026-13-01", "yesterday", "2026-3-1"} {
		t.Run(d, func(t *testing.T) {
			w := e.get("/day/"+d, "Accept", browserAccept)
			want(t, w, http.StatusNotFound)
			body := w.Body.String()
			if !strings.Contains(body, "Nothing here") || !strings.Contains(body, `href="/"`) {
				t.Errorf("404 page is not the friendly one:\n%s", truncate(body))
			}
			if strings.Contains(body, d) && !strings.Contains(body, html.EscapeString(d)) {
				t.Error("the date is echoed unescaped")
			}
			w = e.get("/day/"+d, "Accept", "*/*")
			want(t, w, http.StatusNotFound)
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("curl's 404 Content-Type = %q, want text/plain", ct)
			}
		})
	}
}

func TestQuotePage_EscapesMarkupInQuotes(t *testing.T) {
	e := newEnv(t)
	q := e.quoteWithText(quotertest.Script)
	w := e.get("/quotes/"+strconv.FormatInt(q.ID, 10), "Accept", browserAccept)
	want(t, w, http.StatusOK)
	body := w.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>quotes</b>") {
		t.Fatalf("quote markup reached the page unescaped:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("escaped quote text not found in page")
	}
	wantHeader(t, w, "Cache-Control", "public, max-age=300")
	if w.Header().Get("ETag") == "" {
		t.Error("quote page has no ETag")
	}
}

func TestQuotePage_ShowsMultiLineAndNonASCIIText(t *testing.T) {
	e := newEnv(t)
	for _, q := range quotertest.Sample() {
		if !strings.Contains(q.Text, "\n") || q.Lang == "en" {
			continue
		}
		stored := e.quoteWithText(q.Text)
		w := e.get("/quotes/"+strconv.FormatInt(stored.ID, 10)+"?format=html", "Accept", "*/*")
		want(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), html.EscapeString(q.Text)) {
			t.Errorf("quote %d: text with its line breaks not found", stored.ID)
		}
		if !strings.Contains(w.Body.String(), `lang="`+q.Lang+`"`) {
			t.Errorf("quote %d: lang=%q not set", stored.ID, q.Lang)
		}
		return
	}
	t.Fatal("sample has no multi-line quote in another language than English")
}

func TestQuotePage_UnknownIDsAre404(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"999999", "0", "-1", "abc", "1e3"} {
		w := e.get("/quotes/"+id, "Accept", browserAccept)
		want(t, w, http.StatusNotFound)
		if !strings.Contains(w.Body.String(), "Nothing here") {
			t.Errorf("/quotes/%s: not the friendly 404 page", id)
		}
	}
}

func TestRandomPage_IsNeverCached(t *testing.T) {
	e := newEnv(t)
	w := e.get("/random", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Cache-Control", "no-store")
	wantHeader(t, w, "Vary", "Accept, Accept-Encoding")
	if !strings.Contains(w.Body.String(), "Another random quote") {
		t.Error("random page has no link to another")
	}
}

func TestRandomPage_FiltersByTag(t *testing.T) {
	e := newEnv(t)
	for range 10 {
		w := e.get("/random?tag=poetry", "Accept", "application/json")
		want(t, w, http.StatusOK)
		q := decode[apiQuote](t, w)
		if !contains(q.Tags, "poetry") {
			t.Fatalf("random?tag=poetry gave tags %v", q.Tags)
		}
	}
	w := e.get("/random?tag=poetry", "Accept", browserAccept)
	if !strings.Contains(w.Body.String(), `href="/random?tag=poetry"`) {
		t.Error("'another' link drops the filter")
	}
	w = e.get("/random?tag=no-such-tag", "Accept", browserAccept)
	want(t, w, http.StatusNotFound)
	w = e.get("/random?minLength=x", "Accept", "*/*")
	want(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "minLength") {
		t.Errorf("400 does not name minLength: %q", w.Body.String())
	}
}

func TestSearchPage_PagesResults(t *testing.T) {
	qs := quotertest.Sample()
	for i := range 25 {
		qs = append(qs, quoter.Quote{Text: "The river number " + strconv.Itoa(i) + " runs to the sea.", Author: "Anonymous"})
	}
	e := newEnvWith(t, quotertest.NewLibrary(t, qs...))
	_, total, err := e.lib.Search(t.Context(), "the", quoter.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total <= 20 {
		t.Fatalf("library has %d matches for 'the'; the test needs more than one page", total)
	}
	w := e.get("/search?q=the", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	body := w.Body.String()
	for _, s := range []string{strconv.Itoa(total) + " quotes match", `href="/search?page=2&amp;q=the"`, "Page 1 of", `role="search"`} {
		if !strings.Contains(body, s) {
			t.Errorf("search page lacks %q", s)
		}
	}
	if n := strings.Count(body, `class="card"`); n != 20 {
		t.Errorf("first page shows %d results, want 20", n)
	}
	w = e.get("/search?q=the&page=2", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `href="/search?page=1&amp;q=the"`) {
		t.Error("page 2 has no link back to page 1")
	}
}

func TestSearchPage_EmptyQueryShowsTheForm(t *testing.T) {
	e := newEnv(t)
	w := e.get("/search", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `<input id="q" name="q" type="search"`) || strings.Contains(w.Body.String(), "match") {
		t.Error("empty search is not just the form")
	}
}

func TestSearchPage_EscapesTheQuery(t *testing.T) {
	e := newEnv(t)
	w := e.get(`/search?q=%3Cscript%3Ealert(1)%3C/script%3E`, "Accept", browserAccept)
	if strings.Contains(w.Body.String(), "<script>alert") {
		t.Fatal("query echoed unescaped")
	}
}

func TestSearchPage_BadPageIs400(t *testing.T) {
	e := newEnv(t)
	w := e.get("/search?q=the&page=0", "Accept", browserAccept)
	want(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "page") {
		t.Error("400 page does not name the parameter")
	}
}

func TestAuthorsAndTagsPages_ListCounts(t *testing.T) {
	e := newEnv(t)
	w := e.get("/authors", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `<a href="/authors/william-shakespeare"><bdi>William Shakespeare</bdi></a>`) {
		t.Errorf("authors page lacks Shakespeare:\n%s", truncate(w.Body.String()))
	}
	w = e.get("/tags", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `<a href="/random?tag=poetry">#<bdi>poetry</bdi></a>`) {
		t.Errorf("tags page lacks poetry:\n%s", truncate(w.Body.String()))
	}
	w = e.get("/authors?page=x", "Accept", browserAccept)
	want(t, w, http.StatusBadRequest)
}

func TestStatic_ServesEmbeddedAssets(t *testing.T) {
	e := newEnv(t)
	page := e.get("/", "Accept", browserAccept).Body.String()
	href := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if href == nil {
		t.Fatal("no versioned stylesheet link")
	}
	w := e.get(html.UnescapeString(href[1]))
	want(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	wantHeader(t, w, "Cache-Control", "public, max-age=31536000, immutable")
	want(t, e.get("/favicon.ico"), http.StatusOK)
	want(t, e.get("/static/nope.css"), http.StatusNotFound)
	want(t, e.get("/static/"), http.StatusNotFound)
}

func TestUnknownPath_IsFriendly404(t *testing.T) {
	e := newEnv(t)
	w := e.get("/nope", "Accept", browserAccept)
	want(t, w, http.StatusNotFound)
	if !strings.Contains(w.Body.String(), "Nothing here") {
		t.Error("not the friendly page")
	}
	w = e.do(http.MethodPost, "/", nil, "Accept", "*/*")
	want(t, w, http.StatusMethodNotAllowed)
}

// A 405 must say which methods the resource has (RFC 9110 §15.5.6); the
// admin methods only when the admin API exists.
func TestMethodNotAllowed_SaysWhichMethodsAreAllowed(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, want string
		admin                      bool
	}{
		{"Page", http.MethodPost, "/", "GET, HEAD", false},
		{"API", http.MethodDelete, "/api/v1/today", "GET, HEAD, OPTIONS", false},
		{"QuoteWithoutAdmin", http.MethodPost, "/api/v1/quotes/1", "GET, HEAD, OPTIONS", false},
		{"QuoteWithAdmin", http.MethodPost, "/api/v1/quotes/1", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS", true},
		{"QuotesWithAdmin", http.MethodPut, "/api/v1/quotes", "GET, HEAD, POST, OPTIONS", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.admin {
				e = newEnv(t, withToken)
			}
			w := e.do(tc.method, tc.target, nil)
			want(t, w, http.StatusMethodNotAllowed)
			wantHeader(t, w, "Allow", tc.want)
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
