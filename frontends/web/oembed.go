package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// oEmbed (https://oembed.com): /oembed?url=<a page of this site>, for
// blogs and chat tools that embed a link as rich HTML. The pages it
// answers for are the quote pages, "/" and the day pages; their HTML is
// the embed snippet (the SVG card in a link, no script). JSON only: XML
// is 501, as the specification asks of a format not implemented.

// oembedJSON is an oEmbed response of type rich (oEmbed §2.3.4, §2.3.5).
type oembedJSON struct {
	Version         string `json:"version"`
	Type            string `json:"type"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	Title           string `json:"title"`
	AuthorName      string `json:"author_name"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	ThumbnailURL    string `json:"thumbnail_url"`
	ThumbnailWidth  int    `json:"thumbnail_width"`
	ThumbnailHeight int    `json:"thumbnail_height"`
}

// oembed is GET /oembed?url=&format=json&maxwidth=&maxheight=.
func (h *Handler) oembed(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	if f := qs.Get("format"); f != "" && f != "json" {
		h.fail(w, r, &httpError{http.StatusNotImplemented, "format " + quoted(f) + " is not implemented: this site answers oEmbed in JSON (format=json)"})
		return
	}
	maxW, err := intParam(r, "maxwidth", 0, 1, 1<<16)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	maxH, err := intParam(r, "maxheight", 0, 1, 1<<16)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	raw := strings.TrimSpace(qs.Get("url"))
	if raw == "" {
		h.fail(w, r, badParam("url", "missing url: give the address of a quote page of this site"))
		return
	}
	base := h.base(r)
	t, page, card, query, err := h.oembedTarget(r, base, raw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	width := embedWidth
	if maxW > 0 {
		width = min(width, maxW)
	}
	if maxH > 0 {
		width = min(width, maxH*cardRefWidth/cardRefHeight)
	}
	width = max(width, 1)
	// The SVG scales to the size the snippet gives it (its layout is the
	// same at every width, only scaled), so the snippet always takes the
	// default one, as the page's does; the thumbnail is the og:image.
	svg, png := card+".svg"+query, card+".png"+query
	thumbW := cardDefaultWidth
	out := oembedJSON{
		Version: "1.0", Type: "rich", ProviderName: "quotesd", ProviderURL: base + "/",
		Title:      describe(t.q.Text),
		AuthorName: t.q.Author,
		HTML:       embedSnippet(page, svg, cardTitle(t.q), width),
		Width:      width, Height: cardHeight(width),
		ThumbnailURL: png, ThumbnailWidth: thumbW, ThumbnailHeight: cardHeight(thumbW),
	}
	b, err := marshal(out)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	serveRendition(w, r, new(newRendition(contentJSON, b)), t.cacheControl, t.lastMod, t.lastModH, false)
}

// oembedTarget reads the url of an oEmbed request: a page of this site
// (same host as base, http or https: a proxy may end TLS) showing one
// quote. It returns the quote, the page's canonical URL, its card's URL
// without extension and the query both take (the daily filter's, or "");
// anything else is a 404.
func (h *Handler) oembedTarget(r *http.Request, base, raw string) (t cardTarget, page, card, query string, err error) {
	notOurs := quoter.Errorf(quoter.ENOTFOUND, "no embeddable page at %s: give the address of a quote page, a day's page or the home page of this site", quoted(raw))
	u, err := url.Parse(raw)
	b, _ := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || b == nil || !strings.EqualFold(u.Host, b.Host) {
		return t, "", "", "", notOurs
	}
	// The page's own query (?tag= and the like) is read as its handler
	// reads it, from a request of its URL.
	pr := r.Clone(r.Context())
	pr.URL = &url.URL{Path: u.Path, RawQuery: u.RawQuery}
	switch path := strings.TrimSuffix(u.Path, "/"); {
	case path == "":
		flt, err := h.daily(pr)
		if err != nil {
			return t, "", "", "", err
		}
		query = dailyQuery(flt)
		t, err = h.todayTarget(r.Context(), h.cal.Time(), flt)
		return t, base + "/" + query, base + "/today", query, err
	case strings.HasPrefix(path, "/day/"):
		date := strings.TrimPrefix(path, "/day/")
		if t, err = h.dayTarget(pr, date); err != nil {
			return t, "", "", "", err
		}
		flt, _ := h.daily(pr)
		query = dailyQuery(flt)
		return t, base + "/day/" + date + query, base + "/day/" + date, query, nil
	case strings.HasPrefix(path, "/quotes/") && !strings.Contains(path[len("/quotes/"):], "/"):
		id := strings.TrimPrefix(path, "/quotes/")
		t, err = h.quoteTarget(r.Context(), id)
		return t, base + "/quotes/" + id, base + "/quotes/" + id, "", err
	}
	return t, "", "", "", notOurs
}
