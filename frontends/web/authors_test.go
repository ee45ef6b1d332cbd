package web_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

func TestAuthors_ListLinksToEachAuthorsPage(t *testing.T) {
	e := newEnv(t)
	w := e.get("/authors", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, `<a href="/authors/william-shakespeare"><bdi>William Shakespeare</bdi></a>`)
}

func TestAuthors_PageShowsEveryQuoteBioAndLink(t *testing.T) {
	e := newEnv(t, withToken)
	w := e.do(http.MethodPut, "/api/v1/authors/william-shakespeare",
		strings.NewReader(`{"bio":"English playwright & poet.","link":"https://en.wikipedia.org/wiki/William_Shakespeare"}`), bearer...)
	want(t, w, http.StatusOK)
	w = e.get("/authors/william-shakespeare")
	want(t, w, http.StatusOK)
	wantBody(t, w, "<title>William Shakespeare", "English playwright &amp; poet.",
		`href="https://en.wikipedia.org/wiki/William_Shakespeare"`, "3 quotes by", "Brevity is the soul of wit.", "All the world’s a stage")
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("Cache-Control = %q, want the listings' public, max-age=300", got)
	}
	want(t, e.get("/authors/nobody-at-all"), http.StatusNotFound)
	want(t, e.get("/authors/Not%20A%20Slug"), http.StatusNotFound)
	want(t, e.get("/authors/william-shakespeare?page=0"), http.StatusBadRequest)
}

func TestAuthors_PagesArePaged(t *testing.T) {
	lib := quoterLibraryWith(t, 45, "Prolific Writer")
	e := newEnvWith(t, lib)
	w := e.get("/authors/prolific-writer?page=3")
	want(t, w, http.StatusOK)
	wantBody(t, w, "45 quotes by", "Page 3 of 3", `rel="prev" href="/authors/prolific-writer?page=2"`)
	if n := strings.Count(w.Body.String(), `class="card"`); n != 5 {
		t.Errorf("page 3 shows %d quotes, want the last 5", n)
	}
}

// quoterLibraryWith is a sample library plus n quotes by author.
func quoterLibraryWith(t *testing.T, n int, author string) quoter.Library {
	t.Helper()
	e := newEnv(t)
	for i := range n {
		q := &quoter.Quote{Text: "Numbered saying " + strings.Repeat("i", i+1) + ".", Author: author, Lang: "en"}
		if err := e.lib.Add(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	return e.lib
}

func TestAuthors_QuotePagesLinkTheirAuthor(t *testing.T) {
	e := newEnv(t)
	q := e.quoteWithText("Brevity is the soul of wit.")
	w := e.get("/quotes/"+strconv.FormatInt(q.ID, 10), "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, `<a href="/authors/william-shakespeare" rel="author"><bdi>William Shakespeare</bdi></a>`)
}

func TestAuthors_APIListsAndShowsAuthors(t *testing.T) {
	e := newEnv(t, withToken)
	w := e.get("/api/v1/authors?limit=2")
	want(t, w, http.StatusOK)
	var list struct {
		Count      int `json:"count"`
		TotalCount int `json:"totalCount"`
		Results    []struct {
			Name, Slug, Permalink string
			QuoteCount            int `json:"quoteCount"`
		} `json:"results"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.Count != 2 || list.Results[0].Slug != quoter.Slug(list.Results[0].Name) || list.Results[0].Permalink != "/authors/"+list.Results[0].Slug {
		t.Errorf("authors = %+v, want 2 with slugs and permalinks", list)
	}

	want(t, e.do(http.MethodPut, "/api/v1/authors/charles-dickens", strings.NewReader(`{"bio":"Novelist."}`), bearer...), http.StatusOK)
	w = e.get("/api/v1/authors/charles-dickens?limit=1")
	want(t, w, http.StatusOK)
	var a struct {
		Name, Slug, Bio string
		QuoteCount      int `json:"quoteCount"`
		Quotes          struct {
			TotalCount int `json:"totalCount"`
			Results    []struct{ Author string }
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if a.Name != "Charles Dickens" || a.Bio != "Novelist." || a.QuoteCount != 2 || a.Quotes.TotalCount != 2 || len(a.Quotes.Results) != 1 {
		t.Errorf("author = %+v, want Charles Dickens, his bio, 2 quotes, the first page of 1", a)
	}
	want(t, e.get("/api/v1/authors/nobody"), http.StatusNotFound)
	want(t, e.do(http.MethodPut, "/api/v1/authors/charles-dickens", strings.NewReader(`{"link":"ftp://x"}`), bearer...), http.StatusBadRequest)
	// Only the admin token may set notes.
	want(t, e.do(http.MethodPut, "/api/v1/authors/charles-dickens", strings.NewReader(`{"bio":"x"}`), "Content-Type", "application/json"), http.StatusUnauthorized)
}

func authorNotes(slug, bio, link string) quoter.Author {
	return quoter.Author{Slug: slug, Bio: bio, Link: link}
}

// Every page's template set is parsed on its first use, in any order:
// the authors' list served before an author's page (as a visitor
// following a link does) must not break the page.
func TestAuthors_PageWorksAfterTheListWasServed(t *testing.T) {
	e := newEnv(t)
	want(t, e.get("/authors", "Accept", browserAccept), http.StatusOK)
	w := e.get("/authors/william-shakespeare", "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, "<title>William Shakespeare")
}
