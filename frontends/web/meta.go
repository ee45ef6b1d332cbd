package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/quotesd/quotesd/quoter"
)

// Link previews: the Open Graph and Twitter card meta of the quote
// pages, the home page and the day pages (og:image is the PNG card), a
// schema.org Quotation in JSON-LD, the canonical link, and on the quote
// pages the oEmbed discovery link and an embed snippet. Their URLs are
// absolute: from --web-base-url, or else from the request (Handler.base).

// ogCardWidth is the card og:image points at: the default, 1200×630.
const ogCardWidth = cardDefaultWidth

// embedWidth is the width the embed snippet and oEmbed give the SVG card
// by default: half the card, the width of a blog's column.
const embedWidth = 600

// share is what a page says of itself to link previews.
type share struct {
	Title       string
	Description string
	URL         string // the page's canonical URL (og:url)
	Type        string // og:type
	Image       string // the PNG card's URL
	ImageAlt    string
	ImageW      int
	ImageH      int
	OEmbed      string         // the oEmbed JSON URL (quote pages)
	Embed       string         // the embed snippet (quote pages)
	JSONLD      map[string]any // html/template writes it as JSON in the script
}

// newShare is the share of the page at pageURL showing q, whose card is
// at cardURL (without the extension; query is added after it).
func newShare(title string, q *quoter.Quote, pageURL, cardURL, query string) *share {
	s := &share{
		Title:       title,
		Description: describe(q.Text),
		URL:         pageURL,
		Type:        "article",
		Image:       cardURL + ".png" + query,
		ImageAlt:    describe(cardTitle(q)),
		ImageW:      ogCardWidth,
		ImageH:      cardHeight(ogCardWidth),
	}
	s.JSONLD = quotationLD(q, pageURL, s.Image)
	return s
}

// quotationLD is q as a schema.org Quotation.
func quotationLD(q *quoter.Quote, pageURL, image string) map[string]any {
	ld := map[string]any{
		"@context": "https://schema.org",
		"@type":    "Quotation",
		"text":     q.Text,
		"creator":  map[string]any{"@type": "Person", "name": q.Author},
		"url":      pageURL,
		"image":    image,
	}
	if q.Lang != "" {
		ld["inLanguage"] = q.Lang
	}
	if len(q.Tags) > 0 {
		ld["keywords"] = q.Tags
	}
	if q.Source != "" {
		work := map[string]any{"@type": "CreativeWork", "name": q.Source, "author": map[string]any{"@type": "Person", "name": q.Author}}
		citation := q.Source
		if q.Year != 0 {
			work["datePublished"] = strconv.Itoa(q.Year)
			citation += " (" + formatYear(q.Year) + ")"
		}
		ld["isPartOf"] = work
		ld["citation"] = citation
	}
	return ld
}

// quoteShare is the share of /quotes/{id}: its card, oEmbed and embed.
func quoteShare(base string, q *quoter.Quote, title string) *share {
	page := base + "/quotes/" + strconv.FormatInt(q.ID, 10)
	s := newShare(title, q, page, page, "")
	s.OEmbed = base + "/oembed?url=" + url.QueryEscape(page) + "&format=json"
	s.Embed = embedSnippet(page, page+".svg", cardTitle(q), embedWidth)
	return s
}

// dayShare is the share of "/" (day is today) or /day/{date}, with the
// daily filter's query.
func dayShare(base string, q *quoter.Quote, title string, day quoter.Date, isToday bool, query string) *share {
	page, card := base+"/day/"+day.String()+query, base+"/day/"+day.String()
	if isToday {
		page, card = base+"/"+query, base+"/today"
	}
	s := newShare(title, q, page, card, query)
	if isToday {
		s.Type = "website"
	}
	return s
}

// embedSnippet is the HTML a page embeds a quote with: the SVG card in a
// link to its page, no script.
func embedSnippet(page, svg, alt string, width int) string {
	esc := template.HTMLEscapeString
	return `<a href="` + esc(page) + `"><img src="` + esc(svg) + `" width="` + strconv.Itoa(width) +
		`" height="` + strconv.Itoa(cardHeight(width)) + `" alt="` + esc(alt) + `"></a>`
}

// configuredBase is --web-base-url, or "" when the base comes from each
// request: pages memoised for every request then carry no share meta,
// and hostedPages adds it per base.
func (h *Handler) configuredBase() string {
	if h.baseURL == nil {
		return ""
	}
	return h.baseURL.String()
}

// maxHosted bounds hostedPages: the Hosts a site answers to are few; a
// client sending many makes the map start over, never grow.
const maxHosted = 16

// hostedPages keeps today's page rendered for each base URL requests came
// with, when --web-base-url is not set: the memo's page (todayMemo) is
// rendered once for every request, so without a configured base it has
// no absolute URLs, and this adds the page with them, keyed by the memo
// page's ETag (its content) and the base.
type hostedPages struct {
	mu sync.Mutex
	m  map[[2]string]*rendition
}

// todayHTML is today's page for the request r: the memo's, or its copy
// with share meta for r's base.
func (h *Handler) todayHTML(r *http.Request, e *todayEntry) *rendition {
	if h.baseURL != nil {
		return &e.html
	}
	key := [2]string{e.html.etag, h.base(r)}
	h.hosted.mu.Lock()
	defer h.hosted.mu.Unlock()
	if rend := h.hosted.m[key]; rend != nil {
		return rend
	}
	rend, err := h.renderDay(e.quote, e.day, e.day, e.filter, formatHTML, key[1])
	if err != nil {
		h.log.Error("rendering today's page", "err", err)
		return &e.html
	}
	rend.pack()
	if h.hosted.m == nil || len(h.hosted.m) >= maxHosted {
		h.hosted.m = make(map[[2]string]*rendition)
	}
	h.hosted.m[key] = &rend
	return &rend
}

// previewBots are the User-Agent tokens of the link unfurlers of chat and
// social sites. Several send "Accept: */*" or none, which the negotiated
// pages answer with text, as for curl (negotiate.go); a preview needs the
// HTML and its meta, so these get it.
var previewBots = []string{
	"facebookexternalhit", "Facebot", "Twitterbot", "Slackbot", "Discordbot", "TelegramBot",
	"WhatsApp", "LinkedInBot", "Mastodon", "Pleroma", "Misskey", "redditbot", "Embedly",
	"Iframely", "SkypeUriPreview", "Bluesky", "Applebot", "vkShare", "Synapse",
}

// previewBot reports whether r comes from a link unfurler.
func previewBot(r *http.Request) bool {
	ua := r.Header.Get("User-Agent")
	if len(ua) < 5 || strings.HasPrefix(ua, "curl/") || strings.HasPrefix(ua, "Wget/") {
		return false
	}
	for _, b := range previewBots {
		if strings.Contains(ua, b) {
			return true
		}
	}
	return false
}

// unfurled reports whether previewBot decides r's representation: its
// Accept says nothing (see accepted), which alone would choose text. Both
// the choice (negotiateAccept) and the Vary that names User-Agent
// (serveRendition) ask it, so they cannot disagree.
func unfurled(r *http.Request) bool {
	accept := accepted(r)
	return (accept == "" || accept == "*/*") && previewBot(r)
}

// varyUnfurled is the Vary of a page chosen by User-Agent: a shared cache
// must not give the HTML a bot got to curl, which asks with the same
// Accept.
var varyUnfurled = []string{"Accept, Accept-Encoding, User-Agent"}
