package web

import (
	"cmp"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// A quotable-compatible API under /compat/quotable/: quotable's
// (lukePeavey/quotable) documented endpoints, parameters and response
// shapes, field for field, so that an application written against
// api.quotable.io moves to a quotesd by changing its base URL. Ids are
// quotesd's ids as strings; an author's _id is its slug, a tag's its name.
//
// quotable filters by things the core's Filter does not say (several tags
// with AND or OR, several authors, a length in characters of the text
// alone), so this layer narrows what it asks the library by what a Filter
// can say (one author, one tag, a lower bound of the length), then filters
// the rest itself. It reads at most quotableScan quotes for one request:
// quotable's own library was 2,000 quotes; a broader query of a larger
// library is refused with 400 and a message saying how to narrow it.

const quotablePrefix = "/compat/quotable"

// Bounds of quotable's parameters, from its documentation.
const (
	quotableMaxLimit       = 150 // /quotes, /authors, /search/quotes
	quotableMaxRandomLimit = 50  // /quotes/random
	quotableScan           = 20_000
)

func init() {
	quoteFilters := []string{"tags", "author", "authorId", "minLength", "maxLength"}
	for k, v := range map[string][]string{
		"GET " + quotablePrefix + "/random":              quoteFilters,
		"GET " + quotablePrefix + "/quotes/random":       append(slices.Clone(quoteFilters), "limit"),
		"GET " + quotablePrefix + "/quotes":              append(slices.Clone(quoteFilters), "sortBy", "order", "limit", "page"),
		"GET " + quotablePrefix + "/quotes/{id}":         nil,
		"GET " + quotablePrefix + "/search/quotes":       {"query", "fields", "fuzzyMaxEdits", "fuzzyMaxExpansions", "limit", "page"},
		"GET " + quotablePrefix + "/authors":             {"slug", "sortBy", "order", "limit", "page"},
		"GET " + quotablePrefix + "/authors/slug/{slug}": nil,
		"GET " + quotablePrefix + "/tags":                {"sortBy", "order"},
	} {
		routeParams[k] = v
	}
}

func (h *Handler) quotableRoutes(r chi.Router) {
	get := func(pattern string, fn http.HandlerFunc) {
		r.Get(quotablePrefix+pattern, h.checkQuery(http.MethodGet, quotablePrefix+pattern, fn))
	}
	get("/random", h.quotableRandom)
	get("/quotes/random", h.quotableRandomList)
	get("/quotes", h.quotableQuotes)
	get("/quotes/{id}", h.quotableQuote)
	get("/search/quotes", h.quotableSearch)
	get("/authors", h.quotableAuthors)
	get("/authors/slug/{slug}", h.quotableAuthor)
	get("/tags", h.quotableTags)
}

// quotableQuoteJSON is a quote as quotable returns it.
type quotableQuoteJSON struct {
	ID           string   `json:"_id"`
	Content      string   `json:"content"`
	Author       string   `json:"author"`
	AuthorSlug   string   `json:"authorSlug"`
	Tags         []string `json:"tags"`
	Length       int      `json:"length"`
	DateAdded    string   `json:"dateAdded"`
	DateModified string   `json:"dateModified"`
}

// quotableAuthorJSON is an author as quotable returns it.
type quotableAuthorJSON struct {
	ID          string `json:"_id"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Bio         string `json:"bio"`
	Description string `json:"description"`
	Link        string `json:"link"`
	QuoteCount  int    `json:"quoteCount"`
}

// quotableTagJSON is a tag as quotable returns it.
type quotableTagJSON struct {
	ID         string `json:"_id"`
	Name       string `json:"name"`
	Slug       string `json:"slug"`
	QuoteCount int    `json:"quoteCount"`
}

// quotableList is quotable's paging envelope. lastItemIndex is null when
// there are no more results.
type quotableList[T any] struct {
	Count         int  `json:"count"`
	TotalCount    int  `json:"totalCount"`
	Page          int  `json:"page"`
	TotalPages    int  `json:"totalPages"`
	LastItemIndex *int `json:"lastItemIndex"`
	Results       []T  `json:"results"`
}

func quotableEnvelope[T any](all []T, page, limit int) quotableList[T] {
	lo, hi := min((page-1)*limit, len(all)), min(page*limit, len(all))
	return quotablePage(all[lo:hi], page, limit, len(all))
}

func quotablePage[T any](results []T, page, limit, total int) quotableList[T] {
	if results == nil {
		results = []T{}
	}
	l := quotableList[T]{Count: len(results), TotalCount: total, Page: page, Results: results}
	if limit > 0 {
		l.TotalPages = (total + limit - 1) / limit
	}
	if next := (page-1)*limit + len(results); next < total && len(results) > 0 {
		l.LastItemIndex = &next
	}
	return l
}

func quotableDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func toQuotable(q *quoter.Quote) quotableQuoteJSON {
	tags := q.Tags
	if tags == nil {
		tags = []string{}
	}
	return quotableQuoteJSON{
		ID: strconv.FormatInt(q.ID, 10), Content: q.Text, Author: q.Author, AuthorSlug: q.AuthorSlug(),
		Tags: tags, Length: utf8.RuneCountInString(q.Text),
		DateAdded: quotableDate(q.Added), DateModified: quotableDate(q.Changed()),
	}
}

func toQuotableAuthor(a quoter.Author) quotableAuthorJSON {
	return quotableAuthorJSON{ID: a.Slug, Name: a.Name, Slug: a.Slug, Bio: a.Bio, Link: a.Link, QuoteCount: a.Count}
}

// quotableError is quotable's error body.
type quotableError struct {
	StatusCode    int    `json:"statusCode"`
	StatusMessage string `json:"statusMessage"`
}

// quotableFail answers err as quotable would: its status and a body of
// statusCode and statusMessage. A 404 says what quotable says.
func (h *Handler) quotableFail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if status == http.StatusNotFound && msg == "" {
		msg = "The requested resource could not be found"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, quotableError{status, msg})
}

// quotableFailErr answers err as quotable would (see Handler.describe):
// its status, and quotable's message for a 404.
func (h *Handler) quotableFailErr(w http.ResponseWriter, r *http.Request, err error) {
	e := h.describe(r, err)
	msg := e.StatusMessage
	if e.StatusCode == http.StatusNotFound {
		msg = ""
	}
	h.quotableFail(w, r, e.StatusCode, msg)
}

// quotableFilter is what quotable's quote filters ask.
type quotableFilter struct {
	tagsAll  []string // tags=a,b: every one of them
	tagsAny  []string // tags=a|b: any of them
	authors  []string // author=slug|slug: the slugs of the authors
	min, max int      // length of the text in characters; 0: no bound
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for p := range strings.SplitSeq(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// quotableFilterOf reads tags, author (slugs, or names, as quotable's
// earlier versions took), authorId (a slug here), minLength and maxLength.
func quotableFilterOf(r *http.Request) (quotableFilter, error) {
	q := r.URL.Query()
	var f quotableFilter
	if tags := q.Get("tags"); strings.Contains(tags, "|") {
		f.tagsAny = splitNonEmpty(tags, "|")
	} else {
		f.tagsAll = splitNonEmpty(tags, ",")
	}
	for _, name := range []string{"author", "authorId"} {
		for _, a := range splitNonEmpty(q.Get(name), "|") {
			f.authors = append(f.authors, quoter.Slug(a))
		}
	}
	var err error
	if f.min, err = intParam(r, "minLength", 0, 0, quoter.MaxTextLen); err != nil {
		return f, err
	}
	if f.max, err = intParam(r, "maxLength", 0, 0, quoter.MaxTextLen); err != nil {
		return f, err
	}
	return f, nil
}

// match reports whether q passes f.
func (f quotableFilter) match(q *quoter.Quote) bool {
	if f.min > 0 || f.max > 0 {
		n := utf8.RuneCountInString(q.Text)
		if f.min > 0 && n < f.min || f.max > 0 && n > f.max {
			return false
		}
	}
	if len(f.authors) > 0 && !slices.Contains(f.authors, q.AuthorSlug()) {
		return false
	}
	has := func(tag string) bool {
		return slices.ContainsFunc(q.Tags, func(t string) bool { return strings.EqualFold(t, tag) })
	}
	for _, t := range f.tagsAll {
		if !has(t) {
			return false
		}
	}
	return len(f.tagsAny) == 0 || slices.ContainsFunc(f.tagsAny, has)
}

// simple reports whether a quoter.Filter says all of f (see core).
func (f quotableFilter) simple() bool {
	return f.min == 0 && f.max == 0 && len(f.authors) <= 1 && len(f.tagsAll) <= 1 && len(f.tagsAny) <= 1
}

// core is the part of f a quoter.Filter can say: the one author, the
// first of the tags to have, a lower bound of the rendered length (which
// is never shorter than the text in characters). ok is false when an
// author slug names no author: nothing can match.
func (h *Handler) core(r *http.Request, f quotableFilter) (flt quoter.Filter, ok bool, err error) {
	flt.MinLen = f.min
	if len(f.authors) == 1 {
		a, err := h.q.Author(r.Context(), f.authors[0])
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			return flt, false, nil
		}
		if err != nil {
			return flt, false, err
		}
		flt.Author = a.Name
	}
	switch {
	case len(f.tagsAll) > 0:
		flt.Tag = f.tagsAll[0]
	case len(f.tagsAny) == 1:
		flt.Tag = f.tagsAny[0]
	}
	return flt, true, nil
}

// matching returns every public quote that passes f, by id.
func (h *Handler) matching(r *http.Request, f quotableFilter) ([]*quoter.Quote, error) {
	flt, ok, err := h.core(r, f)
	if err != nil || !ok {
		return nil, err
	}
	var out []*quoter.Quote
	for offset := 0; ; offset += quoter.MaxLimit {
		qs, total, err := h.q.List(r.Context(), flt, quoter.Page{Offset: offset, Limit: quoter.MaxLimit, Sort: quoter.SortID})
		if err != nil {
			return nil, err
		}
		if total > quotableScan {
			return nil, badParam("tags", "this query matches over %d quotes of this library: narrow it by tags or author", quotableScan)
		}
		for _, q := range qs {
			if f.match(q) {
				out = append(out, q)
			}
		}
		if len(qs) < quoter.MaxLimit {
			return out, nil
		}
	}
}

// quotableRandom is /random: one random quote passing the filters.
func (h *Handler) quotableRandom(w http.ResponseWriter, r *http.Request) {
	qs, err := h.randomQuotable(r, 1)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	if len(qs) == 0 {
		h.quotableFail(w, r, http.StatusNotFound, "Could not find any matching quotes")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toQuotable(qs[0]))
}

// quotableRandomList is /quotes/random: up to limit (1 to 50, default 1)
// random quotes passing the filters, as an array.
func (h *Handler) quotableRandomList(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 1, 1, quotableMaxRandomLimit)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	qs, err := h.randomQuotable(r, limit)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	out := make([]quotableQuoteJSON, len(qs))
	for i, q := range qs {
		out[i] = toQuotable(q)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// randomQuotable draws up to n distinct quotes passing the request's
// filters. A filter the core can say alone is drawn by the library.
func (h *Handler) randomQuotable(r *http.Request, n int) ([]*quoter.Quote, error) {
	f, err := quotableFilterOf(r)
	if err != nil {
		return nil, err
	}
	if f.simple() {
		flt, ok, err := h.core(r, f)
		if err != nil || !ok {
			return nil, err
		}
		// Draws by the library, repeats dropped: a few more draws than
		// asked find n distinct quotes unless there are hardly n.
		var out []*quoter.Quote
		seen := map[int64]bool{}
		for try := 0; try < 3*n && len(out) < n; try++ {
			q, err := h.q.Random(r.Context(), flt)
			if quoter.ErrorCode(err) == quoter.ENOTFOUND {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if !seen[q.ID] {
				seen[q.ID] = true
				out = append(out, q)
			}
		}
		if len(out) == n {
			return out, nil
		}
	}
	all, err := h.matching(r, f)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))], nil
}

// quotablePaging reads limit (1 to 150, default 20) and page (from 1).
func quotablePaging(r *http.Request, lo int) (page, limit int, err error) {
	if limit, err = intParam(r, "limit", quoter.DefaultLimit, lo, quotableMaxLimit); err != nil {
		return
	}
	page, err = intParam(r, "page", 1, 1, maxPage)
	return
}

// quotableOrder reads order=asc|desc, def when absent.
func quotableOrder(r *http.Request, def string) (desc bool, err error) {
	switch o := r.URL.Query().Get("order"); o {
	case "":
		return def == "desc", nil
	case "asc", "desc":
		return o == "desc", nil
	default:
		return false, badParam("order", "invalid order %q: want asc or desc", o)
	}
}

// quotableQuotes is /quotes: the quotes passing the filters, sorted by
// sortBy (dateAdded, the default, dateModified, author or content) in
// order (descending by default for the dates, ascending otherwise), paged.
func (h *Handler) quotableQuotes(w http.ResponseWriter, r *http.Request) {
	f, err := quotableFilterOf(r)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	page, limit, err := quotablePaging(r, 1)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	var by func(a, b *quoter.Quote) int
	def := "asc"
	switch s := r.URL.Query().Get("sortBy"); s {
	case "", "dateAdded":
		by, def = func(a, b *quoter.Quote) int { return a.Added.Compare(b.Added) }, "desc"
	case "dateModified":
		by, def = func(a, b *quoter.Quote) int { return a.Changed().Compare(b.Changed()) }, "desc"
	case "author":
		by = func(a, b *quoter.Quote) int { return cmp.Compare(strings.ToLower(a.Author), strings.ToLower(b.Author)) }
	case "content":
		by = func(a, b *quoter.Quote) int { return cmp.Compare(a.Text, b.Text) }
	default:
		h.quotableFailErr(w, r, badParam("sortBy", "invalid sortBy %q: want dateAdded, dateModified, author or content", s))
		return
	}
	desc, err := quotableOrder(r, def)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	if sort, ok := quotableSorts[r.URL.Query().Get("sortBy")]; ok && f.simple() {
		// The library pages and sorts this one itself: no reading of
		// every match, whatever the library's size.
		h.quotableListed(w, r, f, quoter.Page{Offset: (page - 1) * limit, Limit: limit, Sort: sort, Desc: desc})
		return
	}
	all, err := h.matching(r, f)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	slices.SortStableFunc(all, func(a, b *quoter.Quote) int {
		c := cmp.Or(by(a, b), cmp.Compare(a.ID, b.ID))
		if desc {
			return -c
		}
		return c
	})
	out := make([]quotableQuoteJSON, len(all))
	for i, q := range all {
		out[i] = toQuotable(q)
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, quotableEnvelope(out, page, limit))
}

// quotableSorts are the sortBy values whose order the library's List
// gives (with ties by id, as the in-memory sort breaks them).
var quotableSorts = map[string]string{"": quoter.SortAdded, "dateAdded": quoter.SortAdded, "author": quoter.SortAuthor}

// quotableListed answers /quotes from the library's List, p.Limit (up to
// 150) taken in pages of at most quoter.MaxLimit.
func (h *Handler) quotableListed(w http.ResponseWriter, r *http.Request, f quotableFilter, p quoter.Page) {
	page, limit := p.Offset/p.Limit+1, p.Limit
	out := []quotableQuoteJSON{}
	total := 0
	flt, ok, err := h.core(r, f)
	for ok && err == nil && len(out) < limit {
		var qs []*quoter.Quote
		p.Limit = min(limit-len(out), quoter.MaxLimit)
		if qs, total, err = h.q.List(r.Context(), flt, p); err != nil || len(qs) == 0 {
			break
		}
		for _, q := range qs {
			out = append(out, toQuotable(q))
		}
		p.Offset += len(qs)
	}
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, quotablePage(out, page, limit, total))
}

// quotableQuote is /quotes/{id}: a public quote by its id.
func (h *Handler) quotableQuote(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(chi.URLParam(r, "id"))
	if err != nil {
		h.quotableFail(w, r, http.StatusNotFound, "")
		return
	}
	q, err := h.q.Quote(r.Context(), id)
	if err == nil {
		q, err = h.visible(r.Context(), q, false)
	}
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, toQuotable(q))
}

// quotableSearch is /search/quotes: the library's search of query, best
// matches first, paged (limit 0 to 150). fields, fuzzyMaxEdits and
// fuzzyMaxExpansions are accepted and checked; the library's search
// always looks at text, author and source, and matches prefixes written
// "word*" rather than misspellings.
func (h *Handler) quotableSearch(w http.ResponseWriter, r *http.Request) {
	query := strings.TrimSpace(r.URL.Query().Get("query"))
	page, limit, err := quotablePaging(r, 0)
	if err == nil {
		_, err = intParam(r, "fuzzyMaxEdits", 0, 0, 2)
	}
	if err == nil {
		_, err = intParam(r, "fuzzyMaxExpansions", 50, 0, 1000)
	}
	if err == nil {
		for _, f := range splitNonEmpty(r.URL.Query().Get("fields"), ",") {
			if f != "content" && f != "author" && f != "tags" {
				err = badParam("fields", "invalid field %q: want content, author or tags", f)
			}
		}
	}
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	if query == "" {
		h.quotableFail(w, r, http.StatusBadRequest, "query is required")
		return
	}
	var qs []*quoter.Quote
	total := 0
	if limit > 0 {
		qs, total, err = h.q.Search(r.Context(), query, quoter.Page{Offset: (page - 1) * limit, Limit: min(limit, quoter.MaxLimit)})
	} else {
		_, total, err = h.q.Search(r.Context(), query, quoter.Page{Limit: 1})
	}
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	out := make([]quotableQuoteJSON, len(qs))
	for i, q := range qs {
		out[i] = toQuotable(q)
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, quotablePage(out, page, limit, total))
}

// quotableAuthors is /authors: the authors (only those of slug=a|b when
// given), sorted by sortBy (name, the default, or quoteCount) in order
// (ascending by name, descending by count, by default), paged.
func (h *Handler) quotableAuthors(w http.ResponseWriter, r *http.Request) {
	page, limit, err := quotablePaging(r, 1)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	p := quoter.Page{Sort: quoter.SortName, Limit: quoter.MaxLimit}
	def := "asc"
	switch s := r.URL.Query().Get("sortBy"); s {
	case "", "name":
	case "quoteCount":
		p.Sort, def = quoter.SortCount, "desc"
	default:
		h.quotableFailErr(w, r, badParam("sortBy", "invalid sortBy %q: want name or quoteCount", s))
		return
	}
	// SortCount is most quoted first: quotable's descending order.
	desc, err := quotableOrder(r, def)
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	p.Desc = desc != (p.Sort == quoter.SortCount)
	slugs := splitNonEmpty(r.URL.Query().Get("slug"), "|")
	var out []quotableAuthorJSON
	for offset := 0; ; offset += quoter.MaxLimit {
		p.Offset = offset
		as, _, err := h.q.AuthorList(r.Context(), p)
		if err != nil {
			h.quotableFailErr(w, r, err)
			return
		}
		for _, a := range as {
			if len(slugs) == 0 || slices.Contains(slugs, a.Slug) {
				out = append(out, toQuotableAuthor(a))
			}
		}
		if len(as) < quoter.MaxLimit || offset >= quotableScan {
			break
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, quotableEnvelope(out, page, limit))
}

// quotableAuthor is /authors/slug/{slug}.
func (h *Handler) quotableAuthor(w http.ResponseWriter, r *http.Request) {
	a, err := h.q.Author(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, toQuotableAuthor(*a))
}

// quotableTags is /tags: every tag, as an array, sorted by sortBy (name,
// the default, or quoteCount) in order (asc by default).
func (h *Handler) quotableTags(w http.ResponseWriter, r *http.Request) {
	var by func(a, b quoter.Count) int
	switch s := r.URL.Query().Get("sortBy"); s {
	case "", "name":
		by = func(a, b quoter.Count) int { return cmp.Compare(a.Name, b.Name) }
	case "quoteCount":
		by = func(a, b quoter.Count) int { return cmp.Or(cmp.Compare(a.Count, b.Count), cmp.Compare(a.Name, b.Name)) }
	default:
		h.quotableFailErr(w, r, badParam("sortBy", "invalid sortBy %q: want name or quoteCount", s))
		return
	}
	desc, err := quotableOrder(r, "asc")
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	ts, err := h.q.Tags(r.Context())
	if err != nil {
		h.quotableFailErr(w, r, err)
		return
	}
	slices.SortFunc(ts, func(a, b quoter.Count) int {
		if desc {
			return by(b, a)
		}
		return by(a, b)
	})
	out := make([]quotableTagJSON, len(ts))
	for i, t := range ts {
		out[i] = quotableTagJSON{ID: t.Name, Name: t.Name, Slug: quoter.Slug(t.Name), QuoteCount: t.Count}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, out)
}
