package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
)

// addPrivate makes the private collection club-quotes with one quote, and
// returns the quote.
func addPrivate(t *testing.T, e *testEnv) *quoter.Quote {
	t.Helper()
	ctx := context.Background()
	if err := e.lib.SetCollection(ctx, quoter.Collection{Name: "club-quotes", Private: true}); err != nil {
		t.Fatal(err)
	}
	q := &quoter.Quote{Text: "What is said in the club stays in the club.", Author: "The Club", Lang: "en", Collection: "club-quotes",
		AddedBy: quoter.Provenance{By: "nick", Via: quoter.ViaIRC, Channel: "#club", Mask: "nick!user@host.example", Account: "nickserv-acct"}}
	if err := e.lib.Add(ctx, q); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestCollections_APrivateCollectionIsServedOnlyWhenListed(t *testing.T) {
	e := newCurationEnv(t)
	q := addPrivate(t, e)
	id := strconv.FormatInt(q.ID, 10)
	for _, target := range []string{"/api/v1/quotes?collection=club-quotes", "/api/v1/random?collection=club-quotes",
		"/api/v1/today?collection=club-quotes", "/random?collection=club-quotes", "/?collection=club-quotes",
		"/feed.atom?collection=club-quotes", "/api/v1/quotes/" + id, "/quotes/" + id, "/quotes/" + id + "/correct",
		"/api/v1/search?q=club&collection=club-quotes", "/search?q=club&collection=club-quotes"} {
		w := e.get(target)
		want(t, w, http.StatusNotFound)
		if strings.Contains(w.Body.String(), "What is said in the club") {
			t.Errorf("%s shows the private quote", target)
		}
	}
	// An unknown collection says the same as an unserved private one.
	unknown := decode[apiError](t, e.get("/api/v1/quotes?collection=no-such"))
	private := decode[apiError](t, e.get("/api/v1/quotes?collection=club-quotes"))
	if strings.ReplaceAll(unknown.StatusMessage, "no-such", "X") != strings.ReplaceAll(private.StatusMessage, "club-quotes", "X") {
		t.Errorf("an unknown collection (%q) and a private one (%q) are told apart", unknown.StatusMessage, private.StatusMessage)
	}
	// Nor is it listed, searched or drawn without a filter.
	for _, c := range decode[[]apiCollection](t, e.get("/api/v1/collections")) {
		if c.Name == "club-quotes" {
			t.Error("/api/v1/collections lists the private collection")
		}
	}
	if n := decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=club")).TotalCount; n != 0 {
		t.Errorf("search finds %d private quotes", n)
	}
	// With the admin token, it is seen.
	want(t, e.admin(http.MethodGet, "/api/v1/quotes/"+id, ""), http.StatusOK)
	var listed bool
	for _, c := range decode[[]apiCollection](t, e.admin(http.MethodGet, "/api/v1/collections", "")) {
		listed = listed || c.Name == "club-quotes" && c.Private
	}
	if !listed {
		t.Error("/api/v1/collections with the token does not list the private collection")
	}

	// Listed in --web-collections, it is served to requests that name it.
	e2 := newEnvWith(t, e.lib, withCuration, func(c *web.Config) { c.Collections = []string{"club-quotes"} })
	l := decode[apiList[apiQuote]](t, e2.get("/api/v1/quotes?collection=club-quotes"))
	if l.TotalCount != 1 || l.Results[0].ID != q.ID {
		t.Errorf("?collection=club-quotes with it served: %+v", l)
	}
	want(t, e2.get("/quotes/"+id, "Accept", browserAccept), http.StatusOK)
	want(t, e2.get("/api/v1/today?collection=club-quotes"), http.StatusOK)
	w := e2.get("/?collection=club-quotes", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, "club-quotes", "What is said in the club")
	// Searched where named: through the API, and on the search page,
	// whose form keeps the collection for the next search.
	if s := decode[apiList[apiQuote]](t, e2.get("/api/v1/search?q=club&collection=club-quotes")); s.TotalCount != 1 || s.Results[0].ID != q.ID {
		t.Errorf("search in club-quotes with it served: %+v", s)
	}
	if n := decode[apiList[apiQuote]](t, e2.get("/api/v1/search?q=club")).TotalCount; n != 0 {
		t.Errorf("search without ?collection= finds %d private quotes with club-quotes served", n)
	}
	w = e2.get("/search?q=club&collection=club-quotes", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, "What is said in the club", `name="collection" value="club-quotes"`)
}

func TestCollections_FilterErrors(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/api/v1/quotes?collection=Bad!", "/api/v1/quotes?collection=a,,b", "/api/v1/today?collection=-x", "/api/v1/search?q=x&collection=Bad!"} {
		w := e.get(target)
		want(t, w, http.StatusBadRequest)
		if p := decode[apiError](t, w).Parameter; p != "collection" {
			t.Errorf("%s: parameter %q, want collection", target, p)
		}
	}
	want(t, e.get("/random?collection=Bad!"), http.StatusBadRequest)
	l := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes?collection="+quoter.DefaultCollection+"&limit=100"))
	all := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes?limit=100"))
	if l.TotalCount != all.TotalCount {
		t.Errorf("?collection=%s has %d quotes, the library %d", quoter.DefaultCollection, l.TotalCount, all.TotalCount)
	}
	for _, q := range l.Results {
		if q.Collection != quoter.DefaultCollection {
			t.Errorf("quote %d is in %q", q.ID, q.Collection)
		}
	}
	in := decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=simplify&collection="+quoter.DefaultCollection))
	if in.TotalCount == 0 || in.TotalCount != decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=simplify")).TotalCount {
		t.Errorf("search for simplify in %s: %d matches, want those of the whole public library", quoter.DefaultCollection, in.TotalCount)
	}
}

func TestQuotePage_ShowsPublicProvenanceAndPrivatePartsToCuratorsOnly(t *testing.T) {
	e := newCurationEnv(t, func(c *web.Config) { c.Collections = []string{"club-quotes"} })
	q := addPrivate(t, e)
	id := strconv.FormatInt(q.ID, 10)
	w := e.get("/quotes/"+id, "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, "nick", "#club", "via IRC")
	for _, secret := range []string{"host.example", "nickserv-acct"} {
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("the public quote page shows %q", secret)
		}
	}
	wantHeader(t, w, "Cache-Control", "public, max-age=300")
	api := e.get("/api/v1/quotes/" + id)
	if strings.Contains(api.Body.String(), "host.example") || !strings.Contains(api.Body.String(), `"channel":"#club"`) {
		t.Errorf("the API's quote shows the wrong parts of its provenance: %s", api.Body.String())
	}

	c := e.client()
	c.signIn()
	w = c.get("/quotes/" + id)
	want(t, w, http.StatusOK)
	wantBody(t, w, "nick!user@host.example", "nickserv-acct", `href="/admin/quotes/`+id+`"`)
	wantHeader(t, w, "Cache-Control", "private, no-store")
}

// xss is markup and attribute breakers that every field must show as text.
const xss = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`

func noMarkup(t *testing.T, where string, body string) {
	t.Helper()
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, `"'><`) {
		t.Errorf("%s renders the XSS attempt as markup:\n%s", where, truncate(body))
	}
}

func TestXSS_EveryNewFieldRendersAsText(t *testing.T) {
	e := newCurationEnv(t)
	ctx := context.Background()
	c := e.client()

	// Public submission: text, author, source, note; then a correction.
	want(t, c.get("/submit"), http.StatusOK)
	w := c.post("/submit", url.Values{"text": {"Text " + xss}, "author": {"Author " + xss}, "source": {"Source " + xss}, "note": {"Note " + xss}, "by": {"By " + xss}})
	want(t, w, http.StatusOK)
	noMarkup(t, "the submission's answer", w.Body.String())
	// A refused submission echoes the form.
	w = c.post("/submit", url.Values{"text": {"Text " + xss}, "author": {""}, "note": {xss}})
	want(t, w, http.StatusBadRequest)
	noMarkup(t, "a refused submission", w.Body.String())
	target := e.quoteWithText("Simplify, simplify.")
	want(t, c.get("/quotes/"+strconv.FormatInt(target.ID, 10)+"/correct"), http.StatusOK)
	want(t, c.post("/quotes/"+strconv.FormatInt(target.ID, 10)+"/correct", url.Values{"author": {"Corrected " + xss}, "note": {xss}}), http.StatusOK)

	// Sign-in echoes the name.
	a := e.client()
	a.remote = "198.51.100.77:1"
	want(t, a.get("/admin/signin"), http.StatusOK)
	w = a.post("/admin/signin", url.Values{"name": {xss}, "password": {"x"}})
	noMarkup(t, "a failed sign-in", w.Body.String())

	// The curator's pages: the queue, a submission, a rejection's reason.
	c.signIn()
	w = c.get("/admin")
	want(t, w, http.StatusOK)
	wantBody(t, w, "&lt;script&gt;alert(1)&lt;/script&gt;")
	noMarkup(t, "the queue", w.Body.String())
	ss := pending(t, e)
	for _, s := range ss {
		w = c.get("/admin/submissions/" + strconv.FormatInt(s.ID, 10))
		noMarkup(t, "a submission's page", w.Body.String())
	}
	w = c.post("/admin/submissions/"+strconv.FormatInt(ss[0].ID, 10)+"/reject", url.Values{"reason": {xss}})
	want(t, w, http.StatusSeeOther)
	noMarkup(t, "a rejected submission's page", c.get("/admin/submissions/"+strconv.FormatInt(ss[0].ID, 10)).Body.String())

	// Edit a quote with markup everywhere; pin with a bad date.
	id := strconv.FormatInt(target.ID, 10)
	want(t, c.get("/admin/quotes/"+id), http.StatusOK)
	w = c.post("/admin/quotes/"+id, url.Values{"text": {"Edited " + xss}, "author": {"A " + xss}, "source": {"S " + xss}, "tags": {xss}, "lang": {xss}})
	noMarkup(t, "a refused edit", w.Body.String())
	w = c.post("/admin/quotes/"+id, url.Values{"text": {"Edited " + xss}, "author": {"A " + xss}, "source": {"S " + xss}, "lang": {"en"}})
	want(t, w, http.StatusSeeOther)
	noMarkup(t, "the edited quote's admin page", c.get("/admin/quotes/"+id).Body.String())
	noMarkup(t, "the edited quote's page", c.get("/quotes/"+id).Body.String())
	noMarkup(t, "the edited quote's public page", e.get("/quotes/"+id, "Accept", browserAccept).Body.String())
	want(t, c.get("/admin/quotes/"+id), http.StatusOK)
	noMarkup(t, "a refused pin", c.post("/admin/quotes/"+id+"/pin", url.Values{"date": {xss}}).Body.String())
	noMarkup(t, "the admin search", c.get("/admin/quotes?q="+url.QueryEscape(xss)).Body.String())
	noMarkup(t, "the admin listing", c.get("/admin/quotes?collection="+url.QueryEscape(xss)).Body.String())

	// Collections: a title; a refused name.
	want(t, c.get("/admin/collections"), http.StatusOK)
	want(t, c.post("/admin/collections", url.Values{"name": {"xss-test"}, "title": {xss}}), http.StatusSeeOther)
	noMarkup(t, "the collections page", c.get("/admin/collections").Body.String())
	noMarkup(t, "a refused collection", c.post("/admin/collections", url.Values{"name": {xss}, "title": {xss}}).Body.String())

	// Import: a file name and the provenance it leaves.
	want(t, c.get("/admin/import"), http.StatusOK)
	w = c.upload("/admin/import", url.Values{"format": {xss}}, xss+".csv", "text,author\nx,y\n")
	noMarkup(t, "a refused import", w.Body.String())
	want(t, c.get("/admin/import"), http.StatusOK)
	w = c.upload("/admin/import", nil, `a"><img src=x onerror=alert(2)>.csv`, "text,author\nImported with a hostile name.,Someone\n")
	want(t, w, http.StatusOK)
	noMarkup(t, "an import's result", w.Body.String())
	imported := e.quoteWithText("Imported with a hostile name.")
	noMarkup(t, "an imported quote's page", e.get("/quotes/"+strconv.FormatInt(imported.ID, 10), "Accept", browserAccept).Body.String())

	// Provenance from elsewhere (IRC) with markup in every part.
	pq := &quoter.Quote{Text: "Said on IRC, with markup in its provenance.", Author: "nick", Lang: "en",
		AddedBy: quoter.Provenance{By: "n" + xss, Via: quoter.ViaIRC, Channel: "#c" + xss, Mask: "m" + xss, Account: "a" + xss, Grabbed: time.Now()}}
	if err := e.lib.Add(ctx, pq); err != nil {
		t.Fatal(err)
	}
	noMarkup(t, "a quote page's provenance", e.get("/quotes/"+strconv.FormatInt(pq.ID, 10), "Accept", browserAccept).Body.String())
	w = c.get("/quotes/" + strconv.FormatInt(pq.ID, 10))
	wantBody(t, w, "m&lt;script&gt;")
	noMarkup(t, "a curator's quote page", w.Body.String())
}
