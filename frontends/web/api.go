package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// The JSON API under /api/v1 follows quotable's shapes (paged envelopes
// with count, totalCount, page, totalPages, lastItemIndex, results) so its
// users can move over, and adds what quotable never had: a quote of the day.
// The routes are registered in a group of the main router rather than a
// mounted subrouter: one tree walk per request instead of two.
//
// Each route's query parameters are declared in routeParams (params.go) and
// checked before its handler runs; for the admin routes, after the token,
// so that without one they are a plain 404 whatever the query.
func (h *Handler) apiRoutes(r chi.Router) {
	const v1 = "/api/v1"
	get := func(pattern string, fn http.HandlerFunc) { r.Get(pattern, h.checkQuery(http.MethodGet, pattern, fn)) }
	admin := func(method, pattern string, fn http.HandlerFunc) {
		r.Method(method, pattern, h.admin(h.checkQuery(method, pattern, fn)))
	}
	get(v1+"/today", h.apiToday)
	get(v1+"/random", h.apiRandom)
	get(v1+"/quotes", h.apiQuotes)
	get(v1+"/quotes/{id}", h.apiQuote)
	get(v1+"/search", h.apiSearch)
	get(v1+"/authors", h.apiAuthors)
	get(v1+"/tags", h.apiTags)
	admin(http.MethodPost, v1+"/quotes", h.apiAdd)
	admin(http.MethodPut, v1+"/quotes/{id}", h.apiReplace)
	admin(http.MethodPatch, v1+"/quotes/{id}", h.apiPatch)
	admin(http.MethodDelete, v1+"/quotes/{id}", h.apiDelete)
	admin(http.MethodGet, v1+"/days", h.apiPins)
	admin(http.MethodPut, v1+"/days/{date}", h.apiPin)
	admin(http.MethodDelete, v1+"/days/{date}", h.apiUnpin)
	get(v1+"/collections", h.apiCollections)
	admin(http.MethodPut, v1+"/collections/{name}", h.apiSetCollection)
	admin(http.MethodGet, v1+"/submissions", h.apiSubmissions)
	admin(http.MethodGet, v1+"/submissions/{id}", h.apiSubmission)
	admin(http.MethodPost, v1+"/submissions/{id}/approve", h.apiApprove)
	admin(http.MethodPost, v1+"/submissions/{id}/reject", h.apiReject)
}

// corsOrigin and corsExpose are the header values set on every API
// response; shared, never modified. Expose-Headers lets pages elsewhere
// read the ETag (to revalidate) and Retry-After and RateLimit-* (on a 429), which are not
// among the headers browsers show them by default; it only counts on the
// response itself, not on a preflight.
var (
	corsOrigin = []string{"*"}
	corsExpose = []string{"ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy"}
)

// cors opens the API to every origin for reading: it serves public data and
// never uses cookies, so there is nothing a foreign page could steal. It
// runs before routing, so preflight requests to any API path get their
// answer and unknown paths still get 404.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAPI(r) {
			next.ServeHTTP(w, r)
			return
		}
		hd := w.Header()
		hd["Access-Control-Allow-Origin"] = corsOrigin
		hd["Access-Control-Expose-Headers"] = corsExpose
		if r.Method == http.MethodOptions {
			preflight(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers CORS preflight requests: reading is allowed from any
// origin; the admin methods are not offered, so browsers on other sites
// cannot be used to send the admin token.
func preflight(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Language, If-None-Match, If-Modified-Since")
	hd.Set("Access-Control-Max-Age", "86400")
	hd.Set("Allow", "GET, HEAD, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
}

// apiQuote is a quote as the API returns it.
type apiQuoteJSON struct {
	ID        int64     `json:"id"`
	Text      string    `json:"text"`
	Author    string    `json:"author"`
	Source    string    `json:"source,omitempty"`
	Year      int       `json:"year,omitempty"`
	Tags      []string  `json:"tags"`
	Lang      string    `json:"lang"`
	Length    int       `json:"length"` // bytes of the plain-text form, as minLength/maxLength measure
	Added     time.Time `json:"added,omitzero"`
	Modified  time.Time `json:"modified,omitzero"` // last edit; absent when never edited
	Removed   bool      `json:"removed,omitempty"` // deleted since: only on a past day's quote
	Permalink string    `json:"permalink"`
	Date      string    `json:"date,omitempty"` // the day, for a quote of the day

	Collection string          `json:"collection,omitempty"`
	AddedBy    *provenanceJSON `json:"addedBy,omitempty"`  // public parts only
	EditedBy   *provenanceJSON `json:"editedBy,omitempty"` // public parts only
}

func toAPI(q *quoter.Quote) apiQuoteJSON {
	tags := q.Tags
	if tags == nil {
		tags = []string{}
	}
	return apiQuoteJSON{
		ID: q.ID, Text: q.Text, Author: q.Author, Source: q.Source, Year: q.Year,
		Tags: tags, Lang: q.Lang, Length: q.Len(), Added: q.Added, Modified: q.Modified, Removed: q.Removed,
		Permalink:  "/quotes/" + strconv.FormatInt(q.ID, 10),
		Collection: q.Collection, AddedBy: toProvenance(q.AddedBy.Public()), EditedBy: toProvenance(q.EditedBy.Public()),
	}
}

func toAPIDay(q *quoter.Quote, day quoter.Date) apiQuoteJSON {
	a := toAPI(q)
	a.Date = day.String()
	return a
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, quoter.Internal("encoding JSON", err)
	}
	return append(b, '\n'), nil
}

// listJSON is the paged envelope of listings, as quotable's.
type listJSON[T any] struct {
	Count         int  `json:"count"`         // results on this page
	TotalCount    int  `json:"totalCount"`    // results on every page
	Page          int  `json:"page"`          // this page, from 1
	TotalPages    int  `json:"totalPages"`    // pages in all
	LastItemIndex *int `json:"lastItemIndex"` // offset of the next page; null on the last one
	Results       []T  `json:"results"`
}

func envelope[T any](results []T, page, limit, total int) listJSON[T] {
	if results == nil {
		results = []T{}
	}
	l := listJSON[T]{Count: len(results), TotalCount: total, Page: page,
		TotalPages: (total + limit - 1) / limit, Results: results}
	if next := (page-1)*limit + len(results); next < total && len(results) > 0 {
		l.LastItemIndex = &next
	}
	return l
}

func quotesJSON(qs []*quoter.Quote) []apiQuoteJSON {
	out := make([]apiQuoteJSON, len(qs))
	for i, q := range qs {
		out[i] = toAPI(q)
	}
	return out
}

// maxPage bounds ?page= so that offsets cannot overflow.
const maxPage = 1_000_000

// intParam reads an integer query parameter within [lo, hi], def when
// absent. Errors name the parameter and the accepted range.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v, ok := r.URL.Query()[name]
	if !ok || v[0] == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "invalid %s %q: want an integer from %d to %d", name, v[0], lo, hi)
	}
	return n, nil
}

// parseFilter reads the filter parameters shared by /random, /api/v1/random
// and /api/v1/quotes.
func parseFilter(r *http.Request) (quoter.Filter, error) {
	qs := r.URL.Query()
	f := quoter.Filter{Tag: qs.Get("tag"), Author: qs.Get("author"), Lang: qs.Get("lang")}
	var err error
	if f.MinLen, err = intParam(r, "minLength", 0, 0, 1<<20); err != nil {
		return f, err
	}
	if f.MaxLen, err = intParam(r, "maxLength", 0, 0, 1<<20); err != nil {
		return f, err
	}
	if f.MaxLen > 0 && f.MinLen > f.MaxLen {
		return f, badParam("maxLength", "invalid maxLength %d: less than minLength %d", f.MaxLen, f.MinLen)
	}
	return f, nil
}

// filter is parseFilter with ?collection= (see collectionParam).
func (h *Handler) filter(r *http.Request) (quoter.Filter, error) {
	f, err := parseFilter(r)
	if err != nil {
		return f, err
	}
	f.Collection, err = h.collectionParam(r)
	return f, err
}

// daily is dailyFilter with ?collection=: a collection's own daily cycle
// (see collectionParam).
func (h *Handler) daily(r *http.Request) (quoter.Filter, error) {
	f := dailyFilter(r)
	var err error
	f.Collection, err = h.collectionParam(r)
	return f, err
}

// dailyFilter reads ?tag= and ?lang= of the daily quote routes (/, /day/,
// /api/v1/today, /feed.atom): a filter with only Tag or only Lang selects
// that tag's or that language's own daily cycle (see quoter.Quoter.Today).
// The other filter parameters are not read: only these two have daily
// quotes with the guarantees of the library's.
func dailyFilter(r *http.Request) quoter.Filter {
	if r.URL.RawQuery == "" {
		return quoter.Filter{}
	}
	qs := r.URL.Query()
	return quoter.Filter{Tag: strings.TrimSpace(qs.Get("tag")), Lang: strings.TrimSpace(qs.Get("lang"))}
}

// dailyQuery is the query string ("?tag=poetry", or "") that selects the
// daily quote f, for links and feed ids. Tags and languages match without
// regard to case, so it writes them in lower case: one id per cycle.
func dailyQuery(f quoter.Filter) string {
	v := url.Values{}
	if f.Tag != "" {
		v.Set("tag", strings.ToLower(f.Tag))
	}
	if f.Lang != "" {
		v.Set("lang", strings.ToLower(f.Lang))
	}
	if f.Collection != "" {
		v.Set("collection", f.Collection)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// apiToday is GET /api/v1/today[?date=YYYY-MM-DD][&tag=|&lang=].
func (h *Handler) apiToday(w http.ResponseWriter, r *http.Request) {
	now := h.cal.Time()
	if r.URL.RawQuery != "" { // the hot path, without a query, skips parsing
		flt, err := h.daily(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if s := r.URL.Query().Get("date"); s != "" {
			today := quoter.DateOf(now)
			day, err := quoter.ParseDate(s)
			if err != nil {
				h.fail(w, r, badParam("date", "invalid date %q: want YYYY-MM-DD, a real calendar day", s))
				return
			}
			if today.Before(day) {
				h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "no quote for %s yet: that day has not come", day))
				return
			}
			if day != today {
				h.pastDayJSON(w, r, day, flt)
				return
			}
		}
		if !flt.IsZero() {
			e, err := h.today.getFilteredAt(r.Context(), now, flt)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			h.serveToday(w, r, e, now, formatJSON, false)
			return
		}
	}
	e, err := h.today.getAt(r.Context(), now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.serveToday(w, r, e, now, formatJSON, false)
}

// pastDayJSON answers /api/v1/today?date= for a past day, cached as
// /day/{date} is (see pastDayCacheControl).
func (h *Handler) pastDayJSON(w http.ResponseWriter, r *http.Request, day quoter.Date, flt quoter.Filter) {
	q, err := h.q.Today(r.Context(), day, flt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := marshal(toAPIDay(q, day))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	serve(w, r, newRendition(contentJSON, b), pastDayCacheControl, dayChanged(q, day, h.cal.Zone()), false)
}

const maxRandom = 50

// apiRandom is GET /api/v1/random: one quote, or with ?limit= an array of
// up to 50 distinct quotes, passing the filter parameters.
func (h *Handler) apiRandom(w http.ResponseWriter, r *http.Request) {
	f, err := h.filter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := r.URL.Query()["limit"]; !ok {
		q, err := h.q.Random(r.Context(), f)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toAPI(q))
		return
	}
	limit, err := intParam(r, "limit", 1, 1, maxRandom)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	qs, err := h.randomDistinct(r, f, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, quotesJSON(qs))
}

// randomDistinct picks up to limit distinct quotes passing f. When no more
// than limit quotes pass, it returns all of them shuffled; otherwise it
// draws at random, skipping repeats, for a bounded number of tries.
func (h *Handler) randomDistinct(r *http.Request, f quoter.Filter, limit int) ([]*quoter.Quote, error) {
	all, total, err := h.q.List(r.Context(), f, quoter.Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	if total <= limit {
		shuffle(all)
		return all, nil
	}
	seen := make(map[int64]bool, limit)
	out := make([]*quoter.Quote, 0, limit)
	for tries := 0; len(out) < limit && tries < 10*limit; tries++ {
		q, err := h.q.Random(r.Context(), f)
		if err != nil {
			return nil, err
		}
		if !seen[q.ID] {
			seen[q.ID] = true
			out = append(out, q)
		}
	}
	return out, nil
}

// paging reads ?page= and ?limit= (up to MaxLimit).
func paging(r *http.Request) (page, limit int, err error) {
	if page, err = intParam(r, "page", 1, 1, maxPage); err != nil {
		return
	}
	limit, err = intParam(r, "limit", quoter.DefaultLimit, 1, quoter.MaxLimit)
	return
}

var sortKeys = map[string]string{
	"id": quoter.SortID, "added": quoter.SortAdded, "dateAdded": quoter.SortAdded,
	"author": quoter.SortAuthor, "length": quoter.SortLength,
}

// apiQuotes is GET /api/v1/quotes: every quote passing the filter, paged
// and sorted.
func (h *Handler) apiQuotes(w http.ResponseWriter, r *http.Request) {
	f, err := h.filter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := quoter.Page{Offset: (page - 1) * limit, Limit: limit, Sort: quoter.SortID}
	if s := r.URL.Query().Get("sort"); s != "" {
		key, ok := sortKeys[s]
		if !ok {
			h.fail(w, r, badParam("sort", "invalid sort %q: want id, added, author or length", s))
			return
		}
		p.Sort = key
	}
	switch o := strings.ToLower(r.URL.Query().Get("order")); o {
	case "", "asc":
	case "desc":
		p.Desc = true
	default:
		h.fail(w, r, badParam("order", "invalid order %q: want asc or desc", o))
		return
	}
	qs, total, err := h.q.List(r.Context(), f, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, envelope(quotesJSON(qs), page, limit, total))
}

// apiQuote is GET /api/v1/quotes/{id}.
func (h *Handler) apiQuote(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q, err := h.q.Quote(r.Context(), id)
	if err == nil {
		q, err = h.visible(r.Context(), q, h.bearer(r))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := marshal(toAPI(q))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cc := "public, max-age=300"
	if r.Header.Get("Authorization") != "" { // it may show a private collection's quote
		cc = "private, no-store"
	}
	serve(w, r, newRendition(contentJSON, b), cc, time.Time{}, false)
}

func idParam(r *http.Request) (int64, error) {
	s := chi.URLParam(r, "id")
	id, err := parseID(s)
	if err != nil {
		return 0, badParam("id", "invalid id %q: want a positive integer", s)
	}
	return id, nil
}

// apiSearch is GET /api/v1/search?q=[&collection=]: best matches first,
// paged.
func (h *Handler) apiSearch(w http.ResponseWriter, r *http.Request) {
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	if query == "" {
		h.fail(w, r, badParam("q", "missing q: give the words to search for"))
		return
	}
	page, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	col, err := h.collectionParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	qs, total, err := h.q.SearchIn(r.Context(), query, quoter.Filter{Collection: col}, quoter.Page{Offset: (page - 1) * limit, Limit: limit})
	if err != nil {
		if quoter.ErrorCode(err) == quoter.EINVALID {
			err = badParam("q", "invalid q: %s", quoter.ErrorMessage(err))
		}
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, envelope(quotesJSON(qs), page, limit, total))
}

// countJSON is an author or tag with its number of quotes.
type countJSON struct {
	Name       string `json:"name"`
	QuoteCount int    `json:"quoteCount"`
}

func countsJSON(cs []quoter.Count) []countJSON {
	out := make([]countJSON, len(cs))
	for i, c := range cs {
		out[i] = countJSON{c.Name, c.Count}
	}
	return out
}

// apiTags is GET /api/v1/tags: every tag with its quote count, as a plain
// array (as quotable's /tags).
func (h *Handler) apiTags(w http.ResponseWriter, r *http.Request) {
	ts, err := h.q.Tags(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, countsJSON(ts))
}

// openAPI serves the hand-written OpenAPI 3 description of the API.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("assets/openapi.json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	serve(w, r, newRendition(contentJSON, b), "public, max-age=3600", time.Time{}, false)
}
