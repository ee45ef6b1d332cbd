package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

//go:embed assets
var assets embed.FS

// staticFS holds the stylesheet and icon; assetVersion (a hash of them)
// goes into their URLs so browsers can cache them for a year. It is
// hashed on first use, not at package init: a quotesd serving only QOTD
// never needs it.
var (
	staticFS, _  = fs.Sub(assets, "assets/static")
	assetVersion = sync.OnceValue(func() string { return hashFS(staticFS) })
)

// templates holds one template set per page, each made of the shared
// layout plus the page's own "content", as a function that parses it on
// its first use and returns the same set after. Parsing all of them took
// 10 ms and 1.5 MB of allocations at package init, in every process that
// links the web frontend (QOTD's socket-activated first answer waited for
// it); now a page's set is parsed when it is first rendered, and a
// process that serves no pages parses none. TestTemplates_AllParse parses
// every one, as the init did.
var templates = func() map[string]func() *template.Template {
	sets := map[string]func() *template.Template{}
	for _, name := range []string{"day", "quote", "search", "authors", "tags", "error",
		"signin", "queue", "submission", "quotes", "editquote", "import", "collections", "submit", "subscription", "subscribe"} {
		sets[name] = extendTemplate(baseTemplate, name)
	}
	return sets
}()

// baseTemplate is the layout and the parts every page shares, parsed once.
var baseTemplate = sync.OnceValue(func() *template.Template {
	funcs := template.FuncMap{
		"assetVersion": assetVersion,
		"year":         formatYear,
		"longDate":     func(d quoter.Date) string { return d.Time(time.UTC).Format("Monday, 2 January 2006") },
		"when":         func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") },
		"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"sid":          quoter.SubmissionID,
		"via":          describeVia,
		"svgOf":        func(png string) string { return strings.TrimSuffix(png, ".png") + ".svg" },
	}
	return template.Must(template.New("").Funcs(funcs).ParseFS(assets,
		"assets/templates/layout.html", "assets/templates/pagination.html", "assets/templates/forms.html",
		"assets/templates/share.html"))
})

// extendTemplate returns a function that parses, once, a copy of the set
// parent returns plus assets/templates/<name>.html for each of names, in
// order (a later file's definitions replace an earlier one's). The parent
// must be a set no page executes (baseTemplate): html/template cannot
// clone a set after it has run, and sets are parsed lazily, after pages
// have been served.
func extendTemplate(parent func() *template.Template, names ...string) func() *template.Template {
	return sync.OnceValue(func() *template.Template {
		t := template.Must(parent().Clone())
		for _, name := range names {
			t = template.Must(t.ParseFS(assets, "assets/templates/"+name+".html"))
		}
		return t
	})
}

// page is what every page's layout needs.
type page struct {
	Title       string
	Description string
	Nav         string // which main navigation entry is current
	Canonical   string
	Share       *share // link previews (meta.go); nil on pages that have none
}

type dayPage struct {
	page
	Quote       *quoter.Quote
	Day         quoter.Date
	IsToday     bool
	Prev        quoter.Date
	Next        string // "" on today's page
	NextIsToday bool
	Filter      quoter.Filter // the tag's or language's daily quote; zero for the library's
	Query       string        // "?tag=…" carrying Filter into the links to other days, or ""
}

type quotePage struct {
	page
	Quote    *quoter.Quote
	Heading  string
	IsRandom bool
	Again    string // link for another random quote

	// On a quote's own page: who added and last edited it (their public
	// parts, or all of them for a signed-in curator), whether a
	// correction may be suggested, and the curator's edit link.
	AddedBy, EditedBy quoter.Provenance
	Correct           bool
	Curator           bool
}

type searchPage struct {
	page
	Query      string
	Collection string // ?collection=: search only there
	Total      int
	Results    []*quoter.Quote
	Pages      pagination
}

type tagsPage struct {
	page
	Tags []quoter.Count
}

type errorPage struct {
	page
	Status  int
	Message string
}

// pagination is the pager of a paged listing; Prev and Next are links, ""
// at either end.
type pagination struct {
	Page, Last int
	Prev, Next string
}

func paginate(r *http.Request, page, limit, total int) pagination {
	last := (total + limit - 1) / limit
	p := pagination{Page: page, Last: last}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(min(page-1, max(last, 1)))
	}
	if page < last {
		p.Next = link(page + 1)
	}
	return p
}

// render executes the named page into a buffer, so a template error becomes
// a clean 500 rather than half a page.
func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates[name]().ExecuteTemplate(&b, "layout", data); err != nil {
		return nil, quoter.Internal("rendering page "+name, err)
	}
	return b.Bytes(), nil
}

func (h *Handler) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	b, err := render(name, data)
	if err != nil {
		if name == "error" { // do not recurse
			h.log.Error("rendering error page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// todayPage is "/": today's quote, negotiated.
func (h *Handler) todayPage(w http.ResponseWriter, r *http.Request) {
	f, err := negotiate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.cal.Time()
	var e *todayEntry
	if r.URL.RawQuery == "" { // the hot path
		e, err = h.today.getAt(r.Context(), now)
	} else {
		var flt quoter.Filter
		if flt, err = h.daily(r); err == nil {
			e, err = h.todayEntryAt(r.Context(), now, flt)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.serveToday(w, r, e, now, f, true)
}

// dayPage is /day/{date}: the archive, with ?tag= or ?lang= that tag's or
// language's daily quote. Today's date is served as "/" is; future and
// impossible dates are a friendly 404; a day whose quote was purged is 410.
func (h *Handler) dayPage(w http.ResponseWriter, r *http.Request) {
	f, err := negotiate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s := chi.URLParam(r, "date")
	day, err := quoter.ParseDate(s)
	if err != nil {
		h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "there is no day %q: dates are written YYYY-MM-DD and must exist", s))
		return
	}
	// One reading of the clock decides both "is it today?" and which day's
	// memo to serve, so a request at the rollover cannot mix the two.
	now := h.cal.Time()
	today := quoter.DateOf(now)
	flt, err := h.daily(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case today.Before(day):
		h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "%s has not come yet: come back that day for its quote", day))
		return
	case day == today:
		e, err := h.todayEntryAt(r.Context(), now, flt)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.serveToday(w, r, e, now, f, true)
		return
	}
	q, err := h.q.Today(r.Context(), day, flt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rend, err := h.renderDay(q, day, today, flt, f, h.base(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A past day keeps its quote, but the quote's text may still be
	// corrected (see pastDayCacheControl). Yesterday's page also changes
	// at the rollover: its "Today" link becomes a link to the next day's
	// page.
	cc := pastDayCacheControl
	if f == formatHTML && day.AddDays(1) == today {
		cc = maxAgeUntil(now, h.cal.Rollover(today))
	}
	serve(w, r, rend, cc, dayChanged(q, day, h.cal.Zone()), true)
}

// removedNote is what a past day says under a quote deleted since.
const removedNote = "This quote has since been removed from the library."

// renderDay renders day's quote q, the daily quote flt selects, in format
// f. A quote removed since its day says so in every format. base is the
// absolute URL of the site for the page's link previews; "" leaves them
// out (see hostedPages).
func (h *Handler) renderDay(q *quoter.Quote, day, today quoter.Date, flt quoter.Filter, f format, base string) (rendition, error) {
	switch f {
	case formatText:
		s := q.Render() + "\n"
		if q.Removed {
			s += "\n" + removedNote + "\n"
		}
		return newRendition(contentText, []byte(s)), nil
	case formatJSON:
		b, err := marshal(toAPIDay(q, day))
		return newRendition(contentJSON, b), err
	}
	p := dayPage{
		page:    page{Title: "Quote of " + day.String(), Nav: "", Description: describe(q.Text)},
		Quote:   q,
		Day:     day,
		IsToday: day == today,
		Prev:    day.AddDays(-1),
		Filter:  flt,
		Query:   dailyQuery(flt),
	}
	if p.IsToday {
		p.Title, p.Nav = "Quote of the day", "today"
		if !flt.IsZero() {
			p.Nav = ""
		}
	} else {
		next := day.AddDays(1)
		p.Next, p.NextIsToday = next.String(), next == today
	}
	if base != "" {
		p.Share = dayShare(base, q, p.Title, day, p.IsToday, p.Query)
		p.Canonical = p.Share.URL
	}
	b, err := render("day", p)
	return newRendition(contentHTML, b), err
}

// quotePage is /quotes/{id}, negotiated.
func (h *Handler) quotePage(w http.ResponseWriter, r *http.Request) {
	f, err := negotiate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := parseID(chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "there is no quote %q", chi.URLParam(r, "id")))
		return
	}
	// A signed-in curator sees the private parts of the provenance and
	// the quotes of every collection; that page is theirs alone. Only a
	// request with a session cookie costs the check.
	var curator bool
	if h.adminPages {
		if _, err := r.Cookie(sessionCookie); err == nil {
			curator = h.session(r) != nil
		}
	}
	q, err := h.q.Quote(r.Context(), id)
	if err == nil {
		q, err = h.visible(r.Context(), q, curator)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := quotePage{
		page:     page{Title: "Quote #" + strconv.FormatInt(q.ID, 10) + " by " + q.Author, Description: describe(q.Text)},
		Quote:    q,
		Heading:  "Quote #" + strconv.FormatInt(q.ID, 10),
		Again:    "/random",
		AddedBy:  q.AddedBy.Public(),
		EditedBy: q.EditedBy.Public(),
		Correct:  h.submissions,
		Curator:  curator,
	}
	if curator {
		p.AddedBy, p.EditedBy = q.AddedBy, q.EditedBy
	}
	if f == formatHTML {
		p.Share = quoteShare(h.base(r), q, p.Title)
		p.Canonical = p.Share.URL
	}
	rend, err := renderQuote(q, f, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if curator {
		serve(w, r, rend, "private, no-store", time.Time{}, true)
		return
	}
	// Quotes can be edited by the admin API, so caches keep them briefly
	// and revalidate with the ETag.
	serve(w, r, rend, "public, max-age=300", time.Time{}, true)
}

// randomPage is /random, negotiated, narrowed by the same filter
// parameters as /api/v1/random (tag, author, lang, minLength, maxLength).
func (h *Handler) randomPage(w http.ResponseWriter, r *http.Request) {
	f, err := negotiate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	flt, err := h.filter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q, err := h.q.Random(r.Context(), flt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	again := "/random"
	if qs := r.URL.Query(); len(qs) > 0 {
		qs.Del("format")
		if len(qs) > 0 {
			again += "?" + qs.Encode()
		}
	}
	heading := "A random quote"
	if flt.Collection != "" {
		heading = "A random quote from " + flt.Collection
	} else if flt.Tag != "" {
		heading = "A random quote tagged #" + flt.Tag
	} else if flt.Author != "" {
		heading = "A random quote by " + flt.Author
	}
	rend, err := renderQuote(q, f, quotePage{
		page:     page{Title: "A random quote", Nav: "random", Description: describe(q.Text)},
		Quote:    q,
		Heading:  heading,
		IsRandom: true,
		Again:    again,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	serve(w, r, rend, "no-store", time.Time{}, true)
}

func renderQuote(q *quoter.Quote, f format, p quotePage) (rendition, error) {
	switch f {
	case formatText:
		return newRendition(contentText, []byte(q.Render()+"\n")), nil
	case formatJSON:
		b, err := marshal(toAPI(q))
		return newRendition(contentJSON, b), err
	}
	b, err := render("quote", p)
	return newRendition(contentHTML, b), err
}

const searchPageSize = 20

// searchPage is /search?q=&page=: a form, and when there is a query, the
// matching quotes, paged.
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request) {
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	n, err := intParam(r, "page", 1, 1, maxPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	col, err := h.collectionParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := searchPage{page: page{Title: "Search", Nav: "search", Description: "Search the quotes of this library by their words, authors and sources."}, Query: query, Collection: col}
	if query != "" {
		p.Title = "Search: " + query
		res, total, err := h.q.SearchIn(r.Context(), query, quoter.Filter{Collection: col}, quoter.Page{Offset: (n - 1) * searchPageSize, Limit: searchPageSize})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Results, p.Total, p.Pages = res, total, paginate(r, n, searchPageSize, total)
		p.Description = describe(fmt.Sprintf("%d quotes match %q in this library.", total, query))
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	h.renderPage(w, r, http.StatusOK, "search", p)
}

func (h *Handler) tagsPage(w http.ResponseWriter, r *http.Request) {
	ts, err := h.q.Tags(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	h.renderPage(w, r, http.StatusOK, "tags", tagsPage{page: page{Title: "Tags", Nav: "tags", Description: "The tags of this library's quotes: pick one for a random quote on that subject."}, Tags: ts})
}

// static serves the embedded stylesheet and icon. A URL carrying the
// current asset version may be cached forever; it changes with the files.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") == assetVersion() {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=86400")
	}
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if _, err := fs.Stat(staticFS, name); err != nil || name == "" || strings.HasSuffix(name, "/") {
		h.notFound(w, r)
		return
	}
	http.ServeFileFS(w, r, staticFS, name)
}

func (h *Handler) favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeFileFS(w, r, staticFS, "favicon.svg")
}

// describeVia says in words how a change came in (see quoter.Via*).
func describeVia(via string) string {
	switch via {
	case quoter.ViaCLI:
		return "the command line"
	case quoter.ViaImport:
		return "an import"
	case quoter.ViaAPI:
		return "the admin API"
	case quoter.ViaWeb:
		return "the web admin"
	case quoter.ViaSubmission:
		return "a public submission"
	case quoter.ViaIRC:
		return "IRC"
	case quoter.ViaGrab:
		return "an IRC grab"
	}
	return via
}

// formatYear writes a year for people: 1854, 44 BCE.
func formatYear(y int) string {
	if y < 0 {
		return strconv.Itoa(-y) + " BCE"
	}
	return strconv.Itoa(y)
}

func hashFS(fsys fs.FS) string {
	sum := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(fsys, p)
			fmt.Fprintf(sum, "%s\x00%d\x00", p, len(b))
			sum.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(sum.Sum(nil))[:12]
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad id %q", s)
	}
	return id, nil
}

// shuffle puts qs in random order (for random?limit= when the filter
// matches few quotes).
func shuffle(qs []*quoter.Quote) {
	rand.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
}

// descriptionMax is the longest meta description in characters: about
// what search engines show under a result.
const descriptionMax = 160

// describe makes s a page's meta description: white space collapsed, cut
// at a word boundary with an ellipsis when longer than descriptionMax.
func describe(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= descriptionMax {
		return s
	}
	rs := []rune(s)[:descriptionMax-1]
	cut := string(rs)
	if i := strings.LastIndexByte(cut, ' '); i > descriptionMax/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.-—") + "…"
}

// robotsTxt is /robots.txt (RFC 9309): the whole site may be crawled, and
// the Atom feed, which links every day's quote, serves as its sitemap
// (search engines take an Atom feed there). The Sitemap line must be an
// absolute URL: from --web-base-url, else from the request.
func (h *Handler) robots(w http.ResponseWriter, r *http.Request) {
	body := "User-agent: *\nAllow: /\n\nSitemap: " + h.base(r) + "/feed.atom\n"
	serve(w, r, newRendition(contentText, []byte(body)), "public, max-age=86400", time.Time{}, false)
}
