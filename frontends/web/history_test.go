package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// newHistoryEnv is newEnv over a library that reads the handler's clock,
// so that the core's past (every day up to quoter.Frontier(now), the date
// in UTC+14) and the web's today agree. The sample is imported 60 days
// before now, so the quotes of the days the tests look at were added
// before those days.
func newHistoryEnv(t *testing.T, edit ...func(*web.Config)) *testEnv {
	t.Helper()
	var e *testEnv
	start := now.AddDate(0, 0, -60)
	libNow := func() time.Time {
		if e == nil {
			return start
		}
		return e.clock.Now()
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "quotes.db"),
		sqlite.Create(), sqlite.WithSeed(quotertest.Seed), sqlite.WithClock(libNow))
	if err != nil {
		t.Fatalf("open library: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close library: %v", err)
		}
	})
	if _, err := db.Import(context.Background(), quotertest.Sample(), nil); err != nil {
		t.Fatalf("seed library: %v", err)
	}
	e = newEnvWith(t, db, edit...)
	return e
}

// todaysOf returns the library's quote of day d for the daily quote f.
func (e *testEnv) todaysOf(d quoter.Date, f quoter.Filter) *quoter.Quote {
	e.t.Helper()
	q, err := e.lib.Today(context.Background(), d, f)
	if err != nil {
		e.t.Fatalf("Today(%s, %+v): %v", d, f, err)
	}
	return q
}

// wantBodyContains checks that a response's body contains every string.
func wantBodyContains(t *testing.T, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("body lacks %q:\n%s", s, truncate(w.Body.String()))
		}
	}
}

func TestDailyQuote_APIPerTagAndLanguage(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		query string
		f     quoter.Filter
		check func(apiQuote) bool
	}{
		{"tag=poetry", quoter.Filter{Tag: "poetry"}, func(q apiQuote) bool { return contains(q.Tags, "poetry") }},
		{"tag=Poetry", quoter.Filter{Tag: "poetry"}, func(q apiQuote) bool { return contains(q.Tags, "poetry") }},
		{"lang=fr", quoter.Filter{Lang: "fr"}, func(q apiQuote) bool { return q.Lang == "fr" }},
		{"tag=poetry&date=2026-03-01", quoter.Filter{Tag: "poetry"}, func(q apiQuote) bool { return contains(q.Tags, "poetry") }},
		{"lang=de&date=2026-02-01", quoter.Filter{Lang: "de"}, func(q apiQuote) bool { return q.Lang == "de" }},
	} {
		t.Run(tc.query, func(t *testing.T) {
			first := e.get("/api/v1/today?" + tc.query)
			want(t, first, http.StatusOK)
			got := decode[apiQuote](t, first)
			day := today
			if i := strings.Index(tc.query, "date="); i >= 0 {
				day, _ = quoter.ParseDate(tc.query[i+len("date="):])
			}
			if wantQ := e.todaysOf(day, tc.f); got.ID != wantQ.ID || got.Date != day.String() || !tc.check(got) {
				t.Errorf("today?%s = quote %d dated %s (tags %v, lang %s), want quote %d dated %s",
					tc.query, got.ID, got.Date, got.Tags, got.Lang, wantQ.ID, day)
			}
			again := e.get("/api/v1/today?" + tc.query)
			if again.Body.String() != first.Body.String() || again.Header().Get("ETag") != first.Header().Get("ETag") {
				t.Errorf("a second request got another answer:\n%s\nthen\n%s", first.Body, again.Body)
			}
		})
	}
}

func TestDailyQuote_PagesOfATag(t *testing.T) {
	e := newEnv(t)
	poetry := quoter.Filter{Tag: "poetry"}
	q := e.todaysOf(today, poetry)

	w := e.get("/?tag=poetry", "Accept", "*/*")
	want(t, w, http.StatusOK)
	if got, want := w.Body.String(), q.Render()+"\n"; got != want {
		t.Errorf("/?tag=poetry as text = %q, want %q", got, want)
	}
	wantHeader(t, w, "Cache-Control", "public, max-age=9000")

	j := decode[apiQuote](t, e.get("/?tag=poetry", "Accept", "application/json"))
	if j.ID != q.ID || j.Date != today.String() {
		t.Errorf("/?tag=poetry as JSON = quote %d dated %s, want %d dated %s", j.ID, j.Date, q.ID, today)
	}

	w = e.get("/?tag=poetry", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBodyContains(t, w, "#<bdi>poetry</bdi>", `href="/day/2026-03-13?tag=poetry"`, `href="/day/2026-03-14?tag=poetry"`)

	// A past day of the tag, and the link from yesterday back to today.
	day := today.AddDays(-1)
	w = e.get("/day/"+day.String()+"?tag=poetry", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBodyContains(t, w, `rel="next" href="/?tag=poetry"`, `href="/day/2026-03-12?tag=poetry"`)
	w = e.get("/day/"+day.String()+"?tag=poetry", "Accept", "*/*")
	if got, want := w.Body.String(), e.todaysOf(day, poetry).Render()+"\n"; got != want {
		t.Errorf("/day/%s?tag=poetry = %q, want %q", day, got, want)
	}
	// /day/<today>?tag= is /?tag=.
	if a, b := e.get("/day/2026-03-14?tag=poetry", "Accept", "*/*"), e.get("/?tag=poetry", "Accept", "*/*"); a.Body.String() != b.Body.String() {
		t.Errorf("/day/<today>?tag=poetry = %q, want /?tag=poetry's %q", a.Body, b.Body)
	}

	fr := e.get("/?lang=fr", "Accept", "application/json")
	want(t, fr, http.StatusOK)
	if got := decode[apiQuote](t, fr); got.ID != e.todaysOf(today, quoter.Filter{Lang: "fr"}).ID || got.Lang != "fr" {
		t.Errorf("/?lang=fr = quote %d in %q, want the French daily quote", got.ID, got.Lang)
	}
}

func TestDailyQuote_FeedOfATagHasItsOwnIDs(t *testing.T) {
	e := newEnv(t)
	w := e.get("/feed.atom?tag=poetry")
	want(t, w, http.StatusOK)
	feed, err := gofeed.NewParser().ParseString(w.Body.String())
	if err != nil {
		t.Fatalf("gofeed cannot parse the feed: %v", err)
	}
	if len(feed.Items) != 30 {
		t.Fatalf("the poetry feed has %d entries, want 30", len(feed.Items))
	}
	for i, item := range feed.Items {
		day := today.AddDays(-i)
		q := e.todaysOf(day, quoter.Filter{Tag: "poetry"})
		if want := "http://example.com/day/" + day.String() + "?tag=poetry"; item.GUID != want || item.Link != want {
			t.Errorf("entry %d: id %q, link %q; want %q", i, item.GUID, item.Link, want)
		}
		if !contains(item.Categories, "poetry") || !strings.Contains(item.Description, q.Author) {
			t.Errorf("entry %d: categories %v, summary %q; want quote %d, tagged poetry", i, item.Categories, item.Description, q.ID)
		}
	}
	if want := "http://example.com/feed.atom?tag=poetry"; feed.FeedLink != want {
		t.Errorf("self link %q, want %q", feed.FeedLink, want)
	}
	main, _ := gofeed.NewParser().ParseString(e.get("/feed.atom").Body.String())
	if main.Items[0].GUID == feed.Items[0].GUID {
		t.Errorf("the poetry feed reuses the main feed's id %q", main.Items[0].GUID)
	}
}

func TestDailyQuote_UnknownTagOrLanguageIs404NamingIt(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ target, accept, name string }{
		{"/api/v1/today?tag=no-such-tag", "", "no-such-tag"},
		{"/api/v1/today?lang=xx&date=2026-03-01", "", "xx"},
		{"/?tag=no-such-tag", "*/*", "no-such-tag"},
		{"/?lang=xx", browserAccept, "xx"},
		{"/day/2026-03-01?tag=no-such-tag", "*/*", "no-such-tag"},
		{"/feed.atom?tag=no-such-tag", "", "no-such-tag"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			w := e.get(tc.target, "Accept", tc.accept)
			want(t, w, http.StatusNotFound)
			wantBodyContains(t, w, tc.name)
			wantHeader(t, w, "Cache-Control", "no-store")
		})
	}
}

func TestDailyQuote_OfATagShowsAnEditAtOnce(t *testing.T) {
	e := newEnv(t, withToken)
	q := e.todaysOf(today, quoter.Filter{Tag: "poetry"})
	before := e.get("/?tag=poetry", "Accept", "*/*")
	w := e.admin(http.MethodPatch, "/api/v1/quotes/"+strconv.FormatInt(q.ID, 10), `{"source":"Corrected Source"}`)
	want(t, w, http.StatusOK)
	after := e.get("/?tag=poetry", "Accept", "*/*", "If-None-Match", before.Header().Get("ETag"))
	want(t, after, http.StatusOK)
	wantBodyContains(t, after, "Corrected Source")
}

// A past day keeps its quote but not necessarily its text: cacheable for
// long, never immutable, and its ETag changes exactly when what it shows
// does.
func TestPastDay_ETagChangesExactlyWithTheContent(t *testing.T) {
	e := newHistoryEnv(t, withToken)
	day := today.AddDays(-3)
	q := e.todays(day)
	targets := []struct{ name, target, accept string }{
		{"Text", "/day/" + day.String(), "*/*"},
		{"HTML", "/day/" + day.String(), browserAccept},
		{"JSON", "/day/" + day.String(), "application/json"},
		{"API", "/api/v1/today?date=" + day.String(), ""},
	}
	etags := map[string]string{}
	for _, tc := range targets {
		w := e.get(tc.target, "Accept", tc.accept)
		want(t, w, http.StatusOK)
		wantHeader(t, w, "Cache-Control", "public, max-age=86400")
		wantHeader(t, w, "Last-Modified", day.Time(zone).UTC().Format(http.TimeFormat))
		etags[tc.name] = w.Header().Get("ETag")
	}

	// An unrelated change: the day's representations stay as they were.
	want(t, e.admin(http.MethodPost, "/api/v1/quotes", `{"text":"An unrelated new quote.","author":"Someone Else"}`), http.StatusCreated)
	for _, tc := range targets {
		t.Run("AfterAdd/"+tc.name, func(t *testing.T) {
			w := e.get(tc.target, "Accept", tc.accept, "If-None-Match", etags[tc.name])
			want(t, w, http.StatusNotModified)
			wantHeader(t, w, "ETag", etags[tc.name])
		})
	}

	// A correction of the day's quote: every representation changes, and
	// shows it.
	e.clock.Set(now.Add(time.Minute))
	id := strconv.FormatInt(q.ID, 10)
	want(t, e.admin(http.MethodPatch, "/api/v1/quotes/"+id, `{"text":"A corrected text, fixed after its day."}`), http.StatusOK)
	for _, tc := range targets {
		t.Run("AfterEdit/"+tc.name, func(t *testing.T) {
			w := e.get(tc.target, "Accept", tc.accept, "If-None-Match", etags[tc.name])
			want(t, w, http.StatusOK)
			if got := w.Header().Get("ETag"); got == etags[tc.name] || got == "" {
				t.Errorf("ETag = %q after the edit, want a new one (was %q)", got, etags[tc.name])
			}
			wantBodyContains(t, w, "A corrected text, fixed after its day.")
			lm, err := http.ParseTime(w.Header().Get("Last-Modified"))
			if err != nil || lm.Before(now) {
				t.Errorf("Last-Modified = %q, want the time of the edit (%v)", w.Header().Get("Last-Modified"), now.Add(time.Minute).UTC())
			}
		})
	}
}

func TestFeed_EntryKeepsItsIDAndItsUpdatedMovesOnEdit(t *testing.T) {
	e := newHistoryEnv(t, withToken)
	day := today.AddDays(-3)
	q := e.todays(day)
	entry := func() *gofeed.Item {
		t.Helper()
		feed, err := gofeed.NewParser().ParseString(e.get("/feed.atom").Body.String())
		if err != nil {
			t.Fatalf("gofeed cannot parse the feed: %v", err)
		}
		return feed.Items[3]
	}
	before := entry()
	if want := "http://example.com/day/" + day.String(); before.GUID != want {
		t.Fatalf("entry 3 has id %q, want %q", before.GUID, want)
	}
	if !before.UpdatedParsed.Equal(day.Time(zone)) {
		t.Errorf("entry updated %v, want the start of its day %v (its quote is older)", before.UpdatedParsed, day.Time(zone))
	}

	want(t, e.admin(http.MethodPost, "/api/v1/quotes", `{"text":"An unrelated new quote.","author":"Someone Else"}`), http.StatusCreated)
	afterAdd := entry()
	if afterAdd.GUID != before.GUID || !afterAdd.UpdatedParsed.Equal(*before.UpdatedParsed) || afterAdd.Content != before.Content {
		t.Errorf("an addition changed the day's entry: id %q, updated %v; want %q, %v, same content",
			afterAdd.GUID, afterAdd.UpdatedParsed, before.GUID, before.UpdatedParsed)
	}

	edited := now.Add(time.Minute)
	e.clock.Set(edited)
	want(t, e.admin(http.MethodPatch, "/api/v1/quotes/"+strconv.FormatInt(q.ID, 10), `{"author":"Corrected Author"}`), http.StatusOK)
	afterEdit := entry()
	if afterEdit.GUID != before.GUID {
		t.Errorf("an edit changed the entry id: %q, want %q", afterEdit.GUID, before.GUID)
	}
	if !afterEdit.UpdatedParsed.Equal(edited.Truncate(time.Second)) {
		t.Errorf("entry updated %v after the edit, want the edit's time %v", afterEdit.UpdatedParsed, edited)
	}
	if !afterEdit.PublishedParsed.Equal(day.Time(zone)) {
		t.Errorf("entry published %v, want the start of its day %v", afterEdit.PublishedParsed, day.Time(zone))
	}
	if !strings.Contains(afterEdit.Description, "Corrected Author") {
		t.Errorf("entry summary %q lacks the correction", afterEdit.Description)
	}
}

func TestPastDay_DeletedQuoteStaysMarkedRemovedAndPurgedIsGone(t *testing.T) {
	e := newHistoryEnv(t, withToken)
	day := today.AddDays(-2)
	q := e.todays(day)
	id := strconv.FormatInt(q.ID, 10)
	page := "/day/" + day.String()
	want(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id, ""), http.StatusNoContent)

	w := e.get(page, "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBodyContains(t, w, "This quote has since been removed from the library.", q.Author)
	if strings.Contains(w.Body.String(), `href="/quotes/`+id+`"`) {
		t.Error("the page links to the removed quote's own page")
	}
	w = e.get(page, "Accept", "*/*")
	if got, want := w.Body.String(), q.Render()+"\n\nThis quote has since been removed from the library.\n"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	for _, target := range []string{page + "?format=json", "/api/v1/today?date=" + day.String()} {
		w = e.get(target)
		want(t, w, http.StatusOK)
		if got := decode[map[string]any](t, w); got["removed"] != true || got["id"] != float64(q.ID) {
			t.Errorf("%s = %v, want quote %d with removed: true", target, got, q.ID)
		}
	}
	feed, _ := gofeed.NewParser().ParseString(e.get("/feed.atom").Body.String())
	if item := feed.Items[2]; !strings.Contains(item.Description, "removed from the library") {
		t.Errorf("the feed entry of %s does not say its quote was removed: %q", day, item.Description)
	}

	want(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id+"?purge=true", ""), http.StatusNoContent)
	w = e.get(page, "Accept", "*/*")
	want(t, w, http.StatusGone)
	wantBodyContains(t, w, "#"+id)
	wantAPIError(t, e.get("/api/v1/today?date="+day.String()), http.StatusGone, "")
	feed, _ = gofeed.NewParser().ParseString(e.get("/feed.atom").Body.String())
	for _, item := range feed.Items {
		if strings.HasSuffix(item.GUID, "/day/"+day.String()) {
			t.Errorf("the feed still has the purged day %s", day)
		}
	}
	if len(feed.Items) != 29 {
		t.Errorf("the feed has %d entries, want 29 (30 days less the purged one)", len(feed.Items))
	}
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id+"?purge=true", ""), http.StatusNotFound, "")
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id+"?purge=maybe", ""), http.StatusBadRequest, "purge")
}

func TestQuote_DeletedIsGone(t *testing.T) {
	e := newHistoryEnv(t, withToken)
	q := e.todays(today.AddDays(-1))
	id := strconv.FormatInt(q.ID, 10)
	want(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id, ""), http.StatusNoContent)
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id, ""), http.StatusGone, "")
	wantAPIError(t, e.admin(http.MethodPatch, "/api/v1/quotes/"+id, `{"author":"x"}`), http.StatusGone, "")
	if _, err := e.lib.Quote(t.Context(), q.ID); quoter.ErrorCode(err) != quoter.EGONE {
		t.Skipf("the library answers Quote(%d) of a deleted quote with %q, not %q: the web answers what the library says", q.ID, quoter.ErrorCode(err), quoter.EGONE)
	}
	want(t, e.get("/quotes/"+id, "Accept", "*/*"), http.StatusGone)
	wantAPIError(t, e.get("/api/v1/quotes/"+id), http.StatusGone, "")
}
