package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// The authors: /authors lists them, /authors/{slug} is an author's page
// (every public quote of theirs, paged, with the bio and link the
// curators gave), and the API has the same as JSON, plus a PUT of an
// author's notes for the admin token.

func init() {
	for k, v := range map[string][]string{
		"GET /authors/{slug}":        {"page"},
		"GET /api/v1/authors/{slug}": {"page", "limit"},
		"PUT /api/v1/authors/{slug}": nil,
	} {
		routeParams[k] = v
	}
	templates["author"] = extendTemplate(baseTemplate, "authors", "author")
}

// authorRoutes registers the author pages' and the API's routes that
// apiRoutes and routes do not.
func (h *Handler) authorRoutes(r chi.Router) {
	get := func(pattern string, fn http.HandlerFunc) { r.Get(pattern, h.checkQuery(http.MethodGet, pattern, fn)) }
	get("/authors/{slug}", h.authorPage)
	get("/api/v1/authors/{slug}", h.apiAuthor)
	r.Method(http.MethodPut, "/api/v1/authors/{slug}", h.admin(h.checkQuery(http.MethodPut, "/api/v1/authors/{slug}", h.apiSetAuthor)))
}

type authorsPage struct {
	page
	Authors []quoter.Author
	Total   int
	Pages   pagination
}

type authorPage struct {
	page
	Author *quoter.Author
	Quotes []*quoter.Quote
	Total  int
	Pages  pagination
}

const authorsPageSize = 100

// signInDescription is the sign-in page's meta description: a page
// without one loses a point of Lighthouse's SEO score, which the sign-in
// page, the one curation page a crawler can reach, is held to.
const signInDescription = "Curators of this quote library sign in here to review submissions and edit quotes."

// authorsPage is /authors: every author of the public quotes, most quoted
// first, paged.
func (h *Handler) authorsPage(w http.ResponseWriter, r *http.Request) {
	n, err := intParam(r, "page", 1, 1, maxPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, total, err := h.q.AuthorList(r.Context(), quoter.Page{Offset: (n - 1) * authorsPageSize, Limit: authorsPageSize})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	h.renderPage(w, r, http.StatusOK, "authors", authorsPage{
		page:    page{Title: "Authors", Nav: "authors", Description: "Every author in this quote library, with how many of their quotes it holds."},
		Authors: as, Total: total, Pages: paginate(r, n, authorsPageSize, total),
	})
}

// authorPageSize is the quotes on a page of an author's.
const authorPageSize = 20

// author reads {slug} and the author it names, with the page of their
// quotes that ?page= (and, for the API, ?limit=) ask for.
func (h *Handler) author(r *http.Request, limit int) (*quoter.Author, []*quoter.Quote, int, int, error) {
	slug := chi.URLParam(r, "slug")
	if quoter.ValidSlug(slug) != nil {
		return nil, nil, 0, 0, quoter.Errorf(quoter.ENOTFOUND, "there is no author %s", quoted(slug))
	}
	n, err := intParam(r, "page", 1, 1, maxPage)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	a, err := h.q.Author(r.Context(), slug)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	qs, total, err := h.q.List(r.Context(), quoter.Filter{Author: a.Name}, quoter.Page{Offset: (n - 1) * limit, Limit: limit, Sort: quoter.SortID})
	return a, qs, total, n, err
}

// authorPage is /authors/{slug}.
func (h *Handler) authorPage(w http.ResponseWriter, r *http.Request) {
	a, qs, total, n, err := h.author(r, authorPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	desc := a.Bio
	if desc == "" {
		desc = "Quotes by " + a.Name + " in this library."
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	h.renderPage(w, r, http.StatusOK, "author", authorPage{
		page:   page{Title: a.Name, Nav: "authors", Description: describe(desc)},
		Author: a, Quotes: qs, Total: total, Pages: paginate(r, n, authorPageSize, total),
	})
}

// authorJSON is an author as the API returns it.
type authorJSON struct {
	Name       string `json:"name"`
	Slug       string `json:"slug"`
	Bio        string `json:"bio,omitempty"`
	Link       string `json:"link,omitempty"`
	QuoteCount int    `json:"quoteCount"`
	Permalink  string `json:"permalink"`
}

func toAuthorJSON(a quoter.Author) authorJSON {
	return authorJSON{Name: a.Name, Slug: a.Slug, Bio: a.Bio, Link: a.Link, QuoteCount: a.Count, Permalink: "/authors/" + a.Slug}
}

// apiAuthors is GET /api/v1/authors: authors with quote counts, most
// quoted first, paged.
func (h *Handler) apiAuthors(w http.ResponseWriter, r *http.Request) {
	page, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, total, err := h.q.AuthorList(r.Context(), quoter.Page{Offset: (page - 1) * limit, Limit: limit})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]authorJSON, len(as))
	for i, a := range as {
		out[i] = toAuthorJSON(a)
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, envelope(out, page, limit, total))
}

// apiAuthor is GET /api/v1/authors/{slug}: the author and a page of their
// quotes.
func (h *Handler) apiAuthor(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", quoter.DefaultLimit, 1, quoter.MaxLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, qs, total, page, err := h.author(r, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, struct {
		authorJSON
		Quotes listJSON[apiQuoteJSON] `json:"quotes"`
	}{toAuthorJSON(*a), envelope(quotesJSON(qs), page, limit, total)})
}

// apiSetAuthor is PUT /api/v1/authors/{slug}: sets (or, both empty,
// removes) the author's bio and link.
func (h *Handler) apiSetAuthor(w http.ResponseWriter, r *http.Request) {
	slug := chi.URLParam(r, "slug")
	if err := quoter.ValidSlug(slug); err != nil {
		h.fail(w, r, badParam("slug", "invalid author slug %s: lower-case letters, digits and single inner hyphens", quoted(slug)))
		return
	}
	var in struct {
		Bio  string `json:"bio"`
		Link string `json:"link"`
	}
	if err := decodeObject(r, &in, "an author has a bio and a link"); err != nil && !isEmptyBody(err) {
		h.fail(w, r, err)
		return
	}
	a := quoter.Author{Slug: slug, Bio: in.Bio, Link: in.Link}
	if err := h.q.SetAuthor(r.Context(), a); err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("author notes saved", "frontend", "web", "author", slug, "via", "api")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		Slug string `json:"slug"`
		Bio  string `json:"bio"`
		Link string `json:"link"`
	}{a.Slug, a.Bio, a.Link})
}
